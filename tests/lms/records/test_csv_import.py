"""CSV import of identity links: all or nothing, every error named by its line."""
from __future__ import annotations

import sqlalchemy as sa

from tests.lms.records.conftest import upload

URL = "/admin/records/identities/import"
MOODLE = "https://moodle.example.edu"


def _identities():
    from lms.core.db import db
    from lms.records.models import LearnerIdentity

    return db.session.scalars(sa.select(LearnerIdentity).where(LearnerIdentity.source == "admin_csv")).all()


def test_import_links_each_line_and_logs_it(app, client, auth, create_user):
    from lms.records.identity import user_id_for_key
    from lms.records.models import IdentityLinkLog

    admin = create_user(admin=True)
    a = create_user(login="a@example.com")
    b = create_user(login="13800000001")
    auth.login(admin)
    data = ("\ufeffhomePage,account name,login\r\n"
            f"{MOODLE}/,42,a@example.com\r\n"
            f"https://LMS.example.org,3f1c-uuid,13800000001\r\n"
            f"{MOODLE},42,A@Example.com\r\n").encode("utf-8")
    resp = upload(client, URL, data)
    assert resp.status_code == 302
    assert user_id_for_key(f"account:{MOODLE}|42") == a.id
    assert user_id_for_key("account:https://lms.example.org|3f1c-uuid") == b.id
    assert len(_identities()) == 2
    from lms.core.db import db

    logs = db.session.scalars(sa.select(IdentityLinkLog)).all()
    assert {(log.user_id, log.source, log.actor_id) for log in logs if log.source == "admin_csv"} == \
        {(a.id, "admin_csv", admin.id), (b.id, "admin_csv", admin.id)}


def test_a_bad_line_links_nothing_and_is_named(app, client, auth, create_user):
    admin = create_user(admin=True)
    create_user(login="a@example.com")
    other = create_user(login="b@example.com")
    from lms.core.db import db
    from lms.records.identity import link

    link(other, [f"account:{MOODLE}|99"], source="admin")
    db.session.commit()
    auth.login(admin)
    data = "\n".join([
        "homePage,account name,login",
        f"{MOODLE},42,a@example.com",          # 2 fine
        "not a url,43,a@example.com",           # 3 malformed URL
        f"{MOODLE},,a@example.com",             # 4 empty name
        f"{MOODLE},44,nobody@example.com",      # 5 unknown login
        f"{MOODLE},99,a@example.com",           # 6 linked to another user
        f"{MOODLE},42,b@example.com",           # 7 conflicts with line 2
        f"{MOODLE},45",                          # 8 wrong column count
        "",
    ]).encode()
    resp = client.get("/")  # noqa: F841
    resp = upload(client, URL, data)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    for line in (3, 4, 5, 6, 7, 8):
        assert f"<td>{line}</td>" in html, line
    assert "<td>2</td>" not in html
    assert _identities() == []


def test_errors_are_in_chinese_for_chinese_users(app, client, auth, create_user):
    admin = create_user(admin=True)
    auth.login(admin)
    client.get("/?lang=zh_CN")
    resp = upload(client, URL, b"homePage,account name,login\nhttps://m.example.edu,1,nobody@example.com\n")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "没有登录名为 nobody@example.com 的用户" in html
    client.get("/?lang=en")
    resp = upload(client, URL, b"homePage,account name,login\nhttps://m.example.edu,1,nobody@example.com\n")
    assert "No user has the login nobody@example.com" in resp.get_data(as_text=True)


def test_hostile_files_give_clear_errors(app, client, auth, create_user):
    from lms.records.links import MAX_CSV_BYTES

    admin = create_user(admin=True)
    create_user(login="a@example.com")
    auth.login(admin)
    client.get("/?lang=en")
    cases = {
        "formula": (b"homePage,account name,login\n=HYPERLINK(\"http://x\"),1,a@example.com\n"
                    b"https://m.example.edu,=cmd|' /C calc'!A0,a@example.com\n", "formula character"),
        "huge line": (b"homePage,account name,login\nhttps://m.example.edu," + b"9" * 100_000 + b",a@example.com\n",
                      "too long"),
        "gbk": ("homePage,account name,login\nhttps://m.example.edu,张三,a@example.com\n".encode("gbk"),
                "not UTF-8"),
        "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        "no header": (b"https://m.example.edu,1,a@example.com\n", "header"),
        "empty": (b"", "empty"),
        "too large": (b"homePage,account name,login\n" + b"https://m.example.edu,1,a@example.com\n" * (
            MAX_CSV_BYTES // 30), "larger than"),
        "quotes": (b'homePage,account name,login\n"https://m.example.edu,1,a@example.com\n', "not valid CSV"),
    }
    for name, (data, expected) in cases.items():
        resp = upload(client, URL, data)
        assert resp.status_code == 400, name
        assert expected in resp.get_data(as_text=True), name
    assert _identities() == []


def test_organisation_admin_links_only_own_members(app, client, auth, create_user, create_org):
    from lms.records.identity import user_id_for_key

    school, other = create_org("School", "institution"), create_org("Other", "enterprise")
    admin = create_user("institution_admin", school)
    member = create_user("learner", school, login="m@example.com")
    create_user("learner", other, login="x@example.com")
    auth.login(admin)
    data = f"homePage,account name,login\n{MOODLE},1,m@example.com\n{MOODLE},2,x@example.com\n".encode()
    resp = upload(client, URL, data)
    assert resp.status_code == 400
    assert "<td>3</td>" in resp.get_data(as_text=True)
    assert _identities() == []
    resp = upload(client, URL, f"homePage,account name,login\n{MOODLE},1,m@example.com\n".encode())
    assert resp.status_code == 302
    assert user_id_for_key(f"account:{MOODLE}|1") == member.id


def test_cli_import_links_all_or_nothing(app, runner, create_user, tmp_path):
    from lms.records.identity import user_id_for_key

    user = create_user(login="a@example.com")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"homePage,account name,login\n{MOODLE},1,a@example.com\n{MOODLE},2,ghost@example.com\n",
                   encoding="utf-8")
    result = runner.invoke(args=["records", "import-links", str(bad)])
    assert result.exit_code != 0
    assert "line 3" in result.output and "第 3 行" in result.output
    assert "No user has the login ghost@example.com" in result.output
    assert "没有登录名为 ghost@example.com 的用户" in result.output
    assert user_id_for_key(f"account:{MOODLE}|1") is None
    good = tmp_path / "good.csv"
    good.write_bytes(f"\ufeffhomePage,account name,login\n{MOODLE},1,a@example.com\n".encode("utf-8"))
    result = runner.invoke(args=["records", "import-links", str(good)])
    assert result.exit_code == 0, result.output
    assert "linked 1" in result.output
    assert user_id_for_key(f"account:{MOODLE}|1") == user.id
