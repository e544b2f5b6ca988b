"""The new account pages at phone width: no sideways scrolling, labelled inputs, no serious
accessibility violations."""
import pytest

from lms.testing import browser_login

pytestmark = pytest.mark.browser

PUBLIC_PAGES = ("/register", "/legal/terms", "/legal/privacy", "/reset/sms", "/reset/sms/code")


def _check(page, path):
    from axe_playwright_python.sync_playwright import Axe

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    unlabelled = page.evaluate("""[...document.querySelectorAll('main input:not([type=hidden]), main select')]
        .filter(el => !(el.labels && el.labels.length)).map(el => el.name)""")
    assert unlabelled == [], (path, unlabelled)
    serious = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], (path, [(v["id"], v["help"]) for v in serious])


def test_account_pages_at_phone_width(app, create_user, live_server, phone_page, artifacts_dir):
    page = phone_page
    for path in PUBLIC_PAGES:
        page.goto(live_server.url + path)
        _check(page, path)
    user = create_user(login="13800000011", verified=False, id_card_number="11010519491231002X")
    browser_login(page, live_server.url, user.login)
    page.goto(live_server.url + "/account")
    _check(page, "/account")
    page.screenshot(path=f"{artifacts_dir}/account-phone.png", full_page=True)
    app.config["LMS_POLICY_VERSION"], old = "2099-01", app.config["LMS_POLICY_VERSION"]
    try:
        page.goto(live_server.url + "/account")
        assert "/account/consent" in page.url
        _check(page, "/account/consent")
    finally:
        app.config["LMS_POLICY_VERSION"] = old
