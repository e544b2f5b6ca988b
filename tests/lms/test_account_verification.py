"""Verification of e-mail and mobile, SMS password reset, consent, real-name status.

Registering an address proves nothing: evidence recorded for it reaches the account only after
the owner proves the address, and ``account_verified`` says when.
"""
import re
import time

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner

from lms.accounts import operations as ops
from lms.accounts import sms
from lms.accounts.models import SmsCode, User
from lms.core import mail
from lms.core.db import db
from lms.core.events import pending_events
from lms.core.extension_points import account_verified
from lms.testing import csrf_token_from


def _post_form(client, url, data, lang="zh_CN", page_url=None):
    page = client.get((page_url or url) + ("&" if "?" in (page_url or url) else "?") + f"lang={lang}")
    return client.post(url, data={**data, "csrf_token": csrf_token_from(page.get_data(as_text=True))})


@pytest.fixture
def verified_events():
    """Every ``account_verified`` sent during the test, as (user id, channel, address)."""
    seen = []

    def receiver(sender, **kw):
        seen.append((sender.id, kw["channel"], kw["address"]))

    account_verified.connect(receiver)
    yield seen
    account_verified.disconnect(receiver)


def _link_path(body: str) -> str:
    return re.search(r"http://\S+(/account/verify-email/\S+)", body).group(1)


# --- registration and consent --------------------------------------------------------------------

REGISTRATION = {"login": "w@factory.example", "real_name": "王工", "password": "abc12345", "confirm": "abc12345"}


def test_registration_requires_consent_in_chinese_and_english(client):
    resp = _post_form(client, "/register", REGISTRATION)
    assert resp.status_code == 400
    assert "请阅读并同意用户协议和隐私政策后注册" in resp.get_data(as_text=True)
    resp = _post_form(client, "/register", REGISTRATION, lang="en")
    assert resp.status_code == 400
    assert "Please accept the user agreement and the privacy notice to register." in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_registration_records_consent_and_claims_nothing(app, client, verified_events):
    resp = _post_form(client, "/register", {**REGISTRATION, "accept_terms": "y"})
    assert resp.status_code == 302
    user = db.session.scalars(sa.select(User).where(User.email == "w@factory.example")).one()
    assert user.consent_version == app.config["LMS_POLICY_VERSION"] and user.consent_at is not None
    assert user.email_verified_at is None and user.mobile_verified_at is None
    assert verified_events == []
    assert mail.outbox[-1]["To"] == "w@factory.example"
    assert "/account/verify-email/" in mail.outbox[-1].get_content()


def test_legal_pages_are_public_and_translated(client):
    assert "用户协议" in client.get("/legal/terms?lang=zh_CN").get_data(as_text=True)
    assert "Privacy notice" in client.get("/legal/privacy?lang=en").get_data(as_text=True)


def test_new_policy_version_is_accepted_before_going_on(app, client, auth, create_user, api_token, monkeypatch):
    user = create_user()
    auth.login(user)
    assert client.get("/account").status_code == 200
    monkeypatch.setitem(app.config, "LMS_POLICY_VERSION", "2027-06")
    resp = client.get("/account")
    assert resp.status_code == 302 and "/account/consent" in resp.headers["Location"]
    # The LRS, the JSON API and static files are not interrupted.
    assert client.get("/api/v1/me", headers=api_token(user)).status_code == 200
    assert client.get("/static/css/app.css").status_code == 200
    resp = _post_form(client, "/account/consent?next=/account", {}, page_url="/account/consent?next=/account")
    assert resp.status_code == 400
    db.session.refresh(user)
    assert user.consent_version != "2027-06"
    resp = _post_form(client, "/account/consent?next=/account", {"accept_terms": "y"},
                      page_url="/account/consent?next=/account")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account")
    db.session.refresh(user)
    assert user.consent_version == "2027-06"
    assert client.get("/account").status_code == 200


# --- e-mail verification -------------------------------------------------------------------------

def _registered(client, login="w@factory.example"):
    resp = _post_form(client, "/register", {**REGISTRATION, "login": login, "accept_terms": "y"})
    assert resp.status_code == 302
    user = db.session.scalars(sa.select(User).where(User.email == login)).one()
    return user, _link_path(mail.outbox[-1].get_content())


def test_get_of_the_link_changes_nothing_and_post_verifies_once(client, verified_events):
    user, link = _registered(client)
    page = client.get(link)
    assert page.status_code == 200
    db.session.refresh(user)
    assert user.email_verified_at is None and verified_events == []
    token = csrf_token_from(page.get_data(as_text=True))
    assert client.post(link, data={"csrf_token": token}).status_code == 302
    db.session.refresh(user)
    assert user.email_verified_at is not None
    assert verified_events == [(user.id, "email", "w@factory.example")]
    # A second POST is harmless and announces nothing new.
    assert client.post(link, data={"csrf_token": token}).status_code == 302
    assert len(verified_events) == 1


def test_verification_post_without_csrf_is_refused(client):
    user, link = _registered(client)
    assert client.post(link).status_code == 400
    db.session.refresh(user)
    assert user.email_verified_at is None


def test_tampered_token_is_refused(client, verified_events):
    user, link = _registered(client)
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    resp = _post_form(client, tampered, {})
    assert resp.status_code == 400
    db.session.refresh(user)
    assert user.email_verified_at is None and verified_events == []


def test_expired_token_is_refused(app, client, auth, create_user, monkeypatch, verified_events):
    user = create_user(login="late@example.com", verified=False)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 4 * 24 * 3600)
    token = ops.make_email_token(user)
    monkeypatch.undo()
    auth.login(user)
    resp = _post_form(client, f"/account/verify-email/{token}", {})
    assert resp.status_code == 400
    db.session.refresh(user)
    assert user.email_verified_at is None and verified_events == []


def test_another_users_token_is_refused(client, auth, create_user, verified_events):
    victim_inbox_user = create_user(login="w@factory.example", verified=False)
    attacker = create_user(login="attacker@example.com", verified=False)
    token = ops.make_email_token(victim_inbox_user)
    auth.login(attacker)
    resp = _post_form(client, f"/account/verify-email/{token}", {})
    assert resp.status_code == 403
    for u in (victim_inbox_user, attacker):
        db.session.refresh(u)
        assert u.email_verified_at is None
    assert verified_events == []


def test_token_dies_when_the_address_changes(client, auth, create_user, verified_events):
    user = create_user(login="old@example.com", verified=False)
    token = ops.make_email_token(user)
    user.email = "new@example.com"
    db.session.commit()
    auth.login(user)
    resp = _post_form(client, f"/account/verify-email/{token}", {})
    assert resp.status_code == 400
    db.session.refresh(user)
    assert user.email_verified_at is None and verified_events == []


def test_link_needs_a_login(client):
    _user, link = _registered(client)
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))})
    resp = client.get(link)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_resend_is_limited_per_account(app, client, auth, create_user):
    user = create_user(login="again@example.com", verified=False)
    auth.login(user)
    for _ in range(app.config["LMS_VERIFY_MAIL_MAX_PER_HOUR"] + 2):
        _post_form(client, "/account/verify-email", {}, page_url="/account")
    assert len([m for m in mail.outbox if m["To"] == "again@example.com"]) == app.config["LMS_VERIFY_MAIL_MAX_PER_HOUR"]


def test_profile_shows_verification_state(client, auth, create_user):
    user = create_user(login="state@example.com", verified=False)
    auth.login(user)
    html = client.get("/account?lang=en").get_data(as_text=True)
    assert "not verified" in html and "Send the verification link again" in html


# --- mobile verification -------------------------------------------------------------------------

def _send_code(client):
    resp = _post_form(client, "/account/mobile/code", {}, page_url="/account")
    assert resp.status_code == 302
    return sms.outbox[-1][1]


def _verify_code(client, code):
    return _post_form(client, "/account/mobile/verify", {"code": code}, page_url="/account")


def test_mobile_verified_by_code(client, auth, create_user, verified_events):
    user = create_user(login="13800000001", verified=False)
    auth.login(user)
    code = _send_code(client)
    assert sms.outbox[-1][0] == "13800000001"
    row = db.session.scalars(sa.select(SmsCode)).one()
    assert code not in row.code_hash  # stored hashed
    wrong = "000000" if code != "000000" else "111111"
    assert _verify_code(client, wrong).status_code == 400
    db.session.refresh(user)
    assert user.mobile_verified_at is None
    assert _verify_code(client, code).status_code == 302
    db.session.refresh(user)
    assert user.mobile_verified_at is not None
    assert verified_events == [(user.id, "mobile", "13800000001")]
    assert _verify_code(client, code).status_code == 400  # used up
    assert len(verified_events) == 1


def test_five_wrong_codes_lock_the_code(app, client, auth, create_user, verified_events):
    user = create_user(login="13800000002", verified=False)
    auth.login(user)
    code = _send_code(client)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(app.config["LMS_SMS_CODE_MAX_ATTEMPTS"]):
        assert _verify_code(client, wrong).status_code == 400
    resp = _verify_code(client, code)
    assert resp.status_code == 400
    db.session.refresh(user)
    assert user.mobile_verified_at is None and verified_events == []
    assert db.session.scalars(sa.select(SmsCode)).one().attempts == app.config["LMS_SMS_CODE_MAX_ATTEMPTS"]


def test_expired_code_is_refused(client, auth, create_user):
    user = create_user(login="13800000005", verified=False)
    auth.login(user)
    code = _send_code(client)
    row = db.session.scalars(sa.select(SmsCode)).one()
    row.expires_at = row.created_at
    db.session.commit()
    assert _verify_code(client, code).status_code == 400
    db.session.refresh(user)
    assert user.mobile_verified_at is None


def test_code_for_another_number_is_refused(app, client, auth, create_user, verified_events):
    mine = create_user(login="13800000003", verified=False)
    other = create_user(login="13800000004", verified=False)
    auth.login(other)
    others_code = _send_code(client)
    auth.logout()
    auth.login(mine)
    assert _verify_code(client, others_code).status_code == 400
    db.session.refresh(mine)
    assert mine.mobile_verified_at is None and verified_events == []


def test_sms_codes_limited_per_number(app, client, auth, create_user, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_SMS_MAX_PER_NUMBER_PER_HOUR", 3)
    user = create_user(login="13800000006", verified=False)
    auth.login(user)
    for _ in range(5):
        _post_form(client, "/account/mobile/code", {}, page_url="/account")
    assert len(sms.outbox) == 3


def test_sms_codes_limited_per_client_address(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_SMS_MAX_PER_ADDRESS_PER_HOUR", 2)
    statuses = [_post_form(client, "/reset/sms", {"mobile": f"1390000000{i}"}).status_code for i in range(4)]
    assert statuses == [302, 302, 429, 429]


def test_factory_marks_the_login_verified_and_sends_nothing(create_user, verified_events):
    assert create_user(login="f@example.com").email_verified_at is not None
    assert create_user(login="13900000009").mobile_verified_at is not None
    assert create_user(login="g@example.com", verified=False).email_verified_at is None
    assert verified_events == [] and pending_events() == [] and mail.outbox == []


# --- password reset by SMS -----------------------------------------------------------------------

def _sms_reset(client, mobile, code, password="Brandnew99"):
    return _post_form(client, "/reset/sms/code", {"mobile": mobile, "code": code, "password": password,
                                                  "confirm": password})


def test_password_reset_by_sms(client, auth, create_user, verified_events):
    user = create_user(login="13700000001", verified=False)
    resp = _post_form(client, "/reset/sms", {"mobile": "137 0000 0001"})
    assert resp.status_code == 302
    mobile, code = sms.outbox[-1]
    assert mobile == "13700000001"
    assert _sms_reset(client, "13700000001", code).status_code == 302
    assert auth.login("13700000001", "Brandnew99").status_code == 302
    db.session.refresh(user)
    assert user.mobile_verified_at is not None  # the code proved the number
    assert verified_events == [(user.id, "mobile", "13700000001")]
    assert _sms_reset(client, "13700000001", code, "Another99").status_code == 400  # used up


def _without_csrf(html: str) -> str:
    return re.sub(r'(name="csrf[-_]token" (?:type="hidden" )?(?:value|content)=)"[^"]+"', r"\1", html)


def test_sms_reset_answer_does_not_reveal_whether_a_number_exists(client, create_user):
    create_user(login="13700000002")
    answers = []
    for mobile in ("13700000002", "13700000003"):
        resp = _post_form(client, "/reset/sms", {"mobile": mobile})
        page = client.get(resp.headers["Location"])
        answers.append((resp.status_code, resp.headers["Location"].replace(mobile, "N"),
                        _without_csrf(page.get_data(as_text=True)).replace(mobile, "N")))
    assert answers[0] == answers[1]
    assert [m for m, _c in sms.outbox] == ["13700000002"]
    # A guessed code is refused with the same words for both numbers.
    bodies = [_without_csrf(_sms_reset(client, mobile, "123456").get_data(as_text=True)).replace(mobile, "N")
              for mobile in ("13700000002", "13700000003")]
    assert bodies[0] == bodies[1]


def test_sms_reset_code_of_another_number_is_refused(client, create_user):
    victim = create_user(login="13700000004")
    create_user(login="13700000005")
    _post_form(client, "/reset/sms", {"mobile": "13700000005"})
    _mobile, code = sms.outbox[-1]
    assert _sms_reset(client, "13700000004", code).status_code == 400
    old_hash = victim.password_hash
    db.session.refresh(victim)
    assert victim.password_hash == old_hash


def test_weak_password_does_not_use_up_the_code(client, create_user):
    create_user(login="13700000006")
    _post_form(client, "/reset/sms", {"mobile": "13700000006"})
    _mobile, code = sms.outbox[-1]
    assert _sms_reset(client, "13700000006", code, "12345678").status_code == 400
    assert _sms_reset(client, "13700000006", code).status_code == 302


# --- real-name status ----------------------------------------------------------------------------

ID_CARD = "11010519491231002X"


def _mark(client, user, status):
    url = f"/admin/users/{user.id}/real-name"
    return _post_form(client, url, {"status": status})


def test_institution_admin_marks_real_name_of_a_member(client, auth, create_user, create_org):
    school = create_org("学校", "institution")
    learner = create_user("learner", school, id_card_number=ID_CARD)
    head = create_user("institution_admin", school)
    auth.login(head)
    assert _mark(client, learner, "verified").status_code == 302
    db.session.refresh(learner)
    assert learner.id_card_status == "verified" and learner.id_card_checked_by_id == head.id
    assert learner.id_card_checked_at is not None


def test_real_name_status_refused_to_other_organisations_and_roles(client, auth, create_user, create_org):
    school, other_school = create_org("学校", "institution"), create_org("别的学校", "institution")
    learner = create_user("learner", school, id_card_number=ID_CARD)
    for actor, expected in ((create_user("institution_admin", other_school), 404),
                            (create_user("enterprise_admin", school), 403),
                            (create_user("teacher", school), 403),
                            (learner, 403)):
        auth.login(actor)
        assert client.get(f"/admin/users/{learner.id}/real-name").status_code == expected
        token = csrf_token_from(client.get("/account").get_data(as_text=True))
        resp = client.post(f"/admin/users/{learner.id}/real-name", data={"status": "verified", "csrf_token": token})
        assert resp.status_code == expected
        auth.logout()
    db.session.refresh(learner)
    assert learner.id_card_status == "unverified" and learner.id_card_checked_by_id is None


def test_real_name_post_needs_csrf(client, auth, create_user):
    learner = create_user(id_card_number=ID_CARD)
    auth.login(create_user(admin=True))
    assert client.post(f"/admin/users/{learner.id}/real-name", data={"status": "verified"}).status_code == 400
    db.session.refresh(learner)
    assert learner.id_card_status == "unverified"


def test_changing_the_number_clears_the_real_name_check(client, auth, create_user):
    learner = create_user(id_card_number=ID_CARD, real_name="王五")
    admin = create_user(admin=True)
    auth.login(admin)
    assert _mark(client, learner, "verified").status_code == 302
    auth.logout()
    auth.login(learner)
    same = {"real_name": "王五", "id_card_number": ID_CARD, "locale": ""}
    assert _post_form(client, "/account", same).status_code == 302
    db.session.refresh(learner)
    assert learner.id_card_status == "verified"  # same number: still checked
    assert _post_form(client, "/account", {"real_name": "王五", "id_card_number": "110105198001010016",
                                           "locale": ""}).status_code == 302
    db.session.refresh(learner)
    assert learner.id_card_status == "unverified" and learner.id_card_checked_by_id is None
    auth.logout()
    auth.login(admin)
    assert _mark(client, learner, "rejected").status_code == 302
    auth.logout()
    auth.login(learner)
    assert _post_form(client, "/account", {"real_name": "王五", "id_card_number": "", "locale": ""}).status_code == 302
    db.session.refresh(learner)
    assert learner.id_card_number is None and learner.id_card_status == "unverified"
