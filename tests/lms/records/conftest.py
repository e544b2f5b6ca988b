"""Fixtures of the learning-record tests: an LRS client for a foreign system, statement shapes."""
from __future__ import annotations

import base64
import uuid

import pytest


@pytest.fixture
def foreign_system(app, client):
    """``foreign_system(name) -> post(statements) -> response``: an LRS client (as created for a
    Moodle, Open edX or remote cmi5 player) posting through ``/xapi/statements``."""
    from lms.core.db import db
    from lms.xapi.credentials import create_client

    def factory(name="Moodle of the school"):
        _client, key, secret = create_client(name, ["statements/write", "statements/read/mine"])
        db.session.commit()
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}

        def post(statements):
            resp = client.post("/xapi/statements", json=statements, headers=headers)
            assert resp.status_code == 200, resp.get_data(as_text=True)
            return resp

        return post

    return factory


def upload(client, url, data: bytes, filename="links.csv", **extra):
    """POST a file to a page with the page's CSRF token."""
    import io

    from lms.testing import csrf_token_from

    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "file": (io.BytesIO(data), filename), **extra},
                       content_type="multipart/form-data")


def post_form(client, url, data: dict, page: str | None = None):
    from lms.testing import csrf_token_from

    token = csrf_token_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def system_source(app):
    """``system_source(name) -> store(statements)``: statements stored as a registered external
    system (provenance ``system:standard`` with its label), as the LRS records them for an LRS client
    of a Moodle or Open edX. Used where a fact depends on the source (e.g. ``completed`` totals,
    which the platform's own statements never count)."""
    from lms.core.db import db
    from lms.records.provenance import SYSTEM, Source
    from lms.xapi.credentials import create_client
    from lms.xapi.storage import store_statements

    def factory(name="Moodle of the school"):
        client, _key, _secret = create_client(name, ["statements/write"])
        db.session.commit()
        source = Source(SYSTEM, client_id=client.id, label=name, trust_level="standard")

        def store(statements):
            result = store_statements(statements, version="1.0.3", authority=client.authority, source=source)
            db.session.commit()
            return result

        return store

    return factory
