"""The identity-link pages work on a 375 px phone: no horizontal scrolling of the page."""
from __future__ import annotations

from lms.testing import browser_login


def test_identity_pages_fit_a_phone(app, create_user, live_server, phone_page):
    admin = create_user(admin=True, login="admin@example.com")
    browser_login(phone_page, live_server.url, admin.login)
    for path in ("/account/identities", "/admin/records/policy", "/admin/records/unmatched",
                 "/admin/records/identities/import"):
        phone_page.goto(live_server.url + path)
        assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        # every visible input has a label
        unlabelled = phone_page.evaluate("""[...document.querySelectorAll('main input:not([type=hidden])')]
            .filter(i => !(i.labels && i.labels.length) && !i.getAttribute('aria-label')).length""")
        assert unlabelled == 0, path
