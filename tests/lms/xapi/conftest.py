"""Fixtures of the LRS tests: LRS clients with credentials and a statement factory."""
from __future__ import annotations

import base64
import uuid

import pytest


@pytest.fixture
def lrs_client(app):
    """``lrs_client(*scopes, name=...)`` -> (key, secret, headers) of a committed LRS client."""
    from lms.core.db import db
    from lms.xapi.credentials import create_client

    def factory(*scopes, name="test client", version="1.0.3"):
        _client, key, secret = create_client(name, scopes or ("all",))
        db.session.commit()
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "X-Experience-API-Version": version}
        return key, secret, headers

    return factory


def make_statement(n: int = 0, *, actor: str = "mailto:learner@example.com", verb: str = "completed",
                   activity: str | None = None, **extra) -> dict:
    """A valid 1.0.3 statement; ``n`` varies the activity."""
    stmt = {
        "actor": {"objectType": "Agent", "name": "Learner", "mbox": actor},
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}", "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": activity or f"http://example.com/activities/{n}",
                   "definition": {"name": {"en-US": f"Activity {n}"},
                                  "type": "http://adlnet.gov/expapi/activities/lesson"}},
    }
    stmt.update(extra)
    return stmt


@pytest.fixture
def statement():
    return make_statement


def new_id() -> str:
    return str(uuid.uuid4())
