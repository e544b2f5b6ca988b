"""Browser journeys of the core shell in headless Chromium."""
import pytest

from lms.testing import browser_login

pytestmark = pytest.mark.browser


def test_demo_user_logs_in_switches_language_and_logs_out(app, runner, live_server, browser_page, artifacts_dir):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    page = browser_page
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "终身职业技能培训" in page.content()
    browser_login(page, live_server.url, "learner@demo.lms", "Demo-2026")
    assert "欢迎" in page.content()
    page.click("[data-testid=lang-switch]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Log out" in page.content()
    page.screenshot(path=f"{artifacts_dir}/shell-en.png", full_page=True)
    page.click("[data-testid=logout]")
    page.wait_for_load_state()
    assert "You have logged out." in page.content()
    assert page.locator("a[href='/login']").count() >= 1


def test_login_form_errors_and_keyboard_use(app, create_user, live_server, browser_page):
    user = create_user()
    page = browser_page
    page.goto(live_server.url + "/login")
    page.keyboard.press("Tab")  # the skip link is the first stop
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.fill("input[name=login]", user.login)
    page.fill("input[name=password]", "wrong-password-1")
    page.locator("input[name=password]").press("Enter")
    page.wait_for_load_state()
    assert "账号或密码错误" in page.content()


def test_phone_width_has_no_horizontal_scroll_and_menu_toggles(app, live_server, phone_page):
    page = phone_page
    page.goto(live_server.url + "/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    nav = page.locator("#site-nav")
    assert not nav.is_visible()
    page.click(".nav-toggle")
    assert nav.is_visible()


def test_home_and_login_have_no_serious_accessibility_violations(app, live_server, browser_page):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    for path in ("/", "/login", "/register"):
        browser_page.goto(live_server.url + path)
        results = axe.run(browser_page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], (path, [(v["id"], v["help"]) for v in serious])
