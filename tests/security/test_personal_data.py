"""ID card numbers (公民身份号码) never reach logs, error pages or other people's pages."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from tests.security.helpers import login_client, page_csrf

ID_CARD = "11010519491231002X"


def test_database_errors_do_not_carry_bound_values(app):
    from lms.core.db import db

    with pytest.raises(sa.exc.DBAPIError) as info:
        db.session.execute(sa.text("SELECT * FROM no_such_table WHERE x = :v"), {"v": ID_CARD})
    db.session.rollback()
    assert ID_CARD not in str(info.value)


def test_id_card_is_masked_for_others_and_never_logged(app, create_user, create_org, caplog):
    org = create_org("学院", "institution")
    learner = create_user("learner", org, id_card_number=ID_CARD)
    admin_of_org = create_user("institution_admin", org)
    supervisor = create_user("supervisor", create_org("人社局", "authority"))
    caplog.set_level(logging.DEBUG)
    for viewer in (admin_of_org, supervisor):
        c = login_client(app, viewer)
        body = c.get(f"/api/v1/users/{learner.id}").get_data(as_text=True)
        assert ID_CARD not in body and "110105" in body
        assert ID_CARD not in c.get(f"/admin/organisations/{org.id}").get_data(as_text=True)
    own = login_client(app, learner)
    assert ID_CARD in own.get("/api/v1/me").get_data(as_text=True)
    token = page_csrf(own)
    resp = own.post("/account", data={"csrf_token": token, "real_name": "张三", "id_card_number": "110105194912310021",
                                      "locale": ""})
    assert resp.status_code == 400  # wrong check character: a form error, not a crash
    assert ID_CARD not in caplog.text and "110105194912310021" not in caplog.text
