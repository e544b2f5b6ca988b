"""LIKE wildcards typed into a search box are taken literally: ``%%%`` does not match everyone."""
from __future__ import annotations

import sqlalchemy as sa

from lms.core.db import contains_text, db


def test_like_wildcards_in_searches_match_only_themselves(app, create_user):
    from lms.accounts.models import User

    plain = create_user(real_name="张三")
    odd = create_user(real_name="百分之%_百")
    db.session.commit()

    def found(text):
        return set(db.session.scalars(sa.select(User.id).where(contains_text(text, User.real_name, User.email))))

    assert found("%%%") == set()
    assert found("_") == {odd.id}
    assert found("%_") == {odd.id}
    assert plain.id in found("张")
    assert found("\\") == set()


def test_catalogue_search_for_a_percent_sign_finds_no_course(client, create_user, create_org):
    from tests.courses.delivery_support import build_world

    build_world(create_user, create_org, kinds=("text",), learners=0)
    assert "电工基础" in client.get("/courses/", query_string={"q": "电工"}).get_data(as_text=True)
    assert "电工基础" not in client.get("/courses/", query_string={"q": "%"}).get_data(as_text=True)
    assert "电工基础" not in client.get("/courses/", query_string={"occupation": "%"}).get_data(as_text=True)
