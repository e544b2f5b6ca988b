"""Domain events and "statement stored" are sent after the outermost commit only: never when a
SAVEPOINT is released (SQLAlchemy calls after_commit then too), never after a rollback."""
from __future__ import annotations

from blinker import Namespace

from lms.core.db import db
from lms.core.events import send_after_commit

_ns = Namespace()
probe = _ns.signal("probe")


def test_an_event_waits_for_the_outer_commit_not_a_released_savepoint(app):
    seen = []
    probe.connect(lambda sender, **kw: seen.append(sender), weak=False)
    try:
        db.session.execute(db.text("SELECT 1"))
        send_after_commit(probe, "first")
        with db.session.begin_nested():
            send_after_commit(probe, "inside")
        assert seen == []  # the savepoint was released, nothing committed yet
        db.session.rollback()
        assert seen == []
        send_after_commit(probe, "kept")
        with db.session.begin_nested():
            pass
        db.session.commit()
        assert seen == ["kept"]
    finally:
        probe.receivers.clear()


def test_statement_stored_waits_for_the_outer_commit(app):
    from lms.core.extension_points import statement_stored
    from lms.xapi import recorder

    seen = []

    def receiver(sender, statement_ids=(), **_kw):
        seen.append(list(statement_ids))

    statement_stored.connect(receiver)
    try:
        sid = recorder.record({"actor": {"mbox": "mailto:a@example.com"},
                               "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                               "object": {"id": "http://example.com/a"}})
        with db.session.begin_nested():
            pass
        assert seen == []
        db.session.commit()
        assert seen == [[sid]]
    finally:
        statement_stored.disconnect(receiver)
