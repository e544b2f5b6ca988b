"""Shared helpers of the security tests: walking the URL map, filling in URL arguments."""
from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter, PathConverter

from lms.testing import csrf_token_from

#: Routes a visitor may open without logging in, each for a stated reason. Keep this list short.
PUBLIC = {
    "main.home": "home page (panels are per user)",
    "main.healthz": "health check for the load balancer",
    "main.set_language": "language switch works before login",
    "static": "CSS and JS",
    "auth.login": "the login form",
    "auth.logout": "logging out an anonymous session is harmless",
    "auth.register": "self registration",
    "auth.reset_request": "forgotten password",
    "auth.reset_password": "reset link (token checked)",
    "auth.sms_reset_request": "forgotten password, accounts without e-mail (same answer for every number)",
    "auth.sms_reset": "forgotten password: the SMS code is the credential",
    "auth.legal_terms": "the user agreement is read before registering",
    "auth.legal_privacy": "the privacy notice is read before registering",
    "api.openapi": "API documentation",
    "courses.catalogue": "public catalogue of published courses",
    "courses.course_page": "public page of a published course",
    "courses.course_file": "images of published courses (materials need a login)",
    "competency.verify_form": "public certificate verification",
    "competency.verify": "public certificate verification",
    "competency.certificate_pdf": "public certificate verification",
    "competency.credential": "verifiable credential document",
    "competency.credential_status": "verifiable credential status list",
    "competency.issuer": "issuer profile of the credentials",
    "competency.issuer_jwks": "issuer public keys",
    "supervision_public.catalogue": "public catalogues (subsidised training, institutions, assessment bodies, occupations)",
    "supervision_public.catalogue_export": "public catalogues as CSV / Excel",
    "supervision_public.entry_history": "public version history of a catalogue entry",
    "supervision_public.performance": "public aggregate pass and employment rates per institution",
    "competency.status_list": "signed revocation status list (Bitstring Status List)",
    "record.issuer": "controller document of the credentials' signing key",
    "record.issuer_key": "the signing key (verification method of every proof)",
    "record.shared": "a shared record (secret token checked, expiry and revocation honoured)",
    "record.shared_clr": "a shared record's signed CLR credential (token checked)",
    "competency_case.resource": "CASE REST endpoints (/ims/case/...): published frameworks are public by design",
    "creditbank.catalogue": "the credit bank's outcome catalogue is public",
    "creditbank.rules": "conversion rules are public (approved versions only)",
    "creditbank.rules_export": "the public rules as CSV / JSON",
}

#: The LRS authenticates with HTTP Basic itself (401 with a JSON error), for every method.
XAPI_PREFIX = "/xapi/"


def sample_url(rule) -> str:
    """The rule's URL with every variable filled in with a plausible value."""
    values = {}
    for arg in rule._converters:  # URL variables (a rule's defaults are arguments too)
        conv = rule._converters[arg]
        if isinstance(conv, IntegerConverter):
            values[arg] = 1
        elif isinstance(conv, PathConverter):
            values[arg] = "courses/x/y.png"
        else:
            values[arg] = "xlsx" if arg == "kind" else ("up" if arg == "direction" else "x")
    url = rule.rule
    for arg, value in values.items():
        url = re.sub(r"<(?:[^<>:]+:)?%s>" % re.escape(arg), str(value), url)
    return url


def methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def anonymous_csrf(client) -> str:
    return csrf_token_from(client.get("/login").get_data(as_text=True))


def page_csrf(client) -> str:
    """A CSRF token of the logged-in session of ``client``."""
    return csrf_token_from(client.get("/account").get_data(as_text=True))


def login_client(app, user, password: str = "Passw0rd!"):
    """A new test client logged in as ``user``."""
    c = app.test_client()
    resp = c.get("/login")
    token = csrf_token_from(resp.get_data(as_text=True))
    resp = c.post("/login", data={"login": user.login, "password": password, "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return c


def world_values(w) -> dict:
    """URL argument values that exist in a world built by ``build_world``."""
    return {
        "course_id": w.course.id, "lesson_id": w.lessons[next(iter(w.lessons))].id, "module_id": w.module.id,
        "question_id": w.questions[0].id if w.questions else 1, "enrolment_id": w.enrolment.id,
        "class_id": w.cls.id, "user_id": w.learner.id, "org_id": w.school.id,
    }


def fill(rule, values: dict) -> str:
    url = rule.rule
    for arg in rule._converters:  # URL variables (a rule's defaults are arguments too)
        conv = rule._converters[arg]
        if arg in values:
            value = values[arg]
        elif isinstance(conv, IntegerConverter):
            value = 1
        elif isinstance(conv, PathConverter):
            value = "courses/x/y.png"
        else:
            value = {"direction": "up", "fmt": "csv", "kind": "xlsx"}.get(arg, "x")
        url = re.sub(r"<(?:[^<>:]+:)?%s>" % re.escape(arg), str(value), url)
    return url
