"""Form helpers shared by the core and the plugins."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from wtforms import SelectChoice


def choices(pairs) -> list[SelectChoice]:
    """``[(value, label), ...]`` or ``{value: label}`` as WTForms select choices (labels may be lazy)."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]


def apply_error(error, form) -> None:
    """Show a domain error (with optional ``field`` and ``message``) on the form."""
    field_name = getattr(error, "field", None)
    message = str(getattr(error, "message", error))
    field = getattr(form, field_name, None) if field_name else None
    if field is not None:
        field.errors = list(field.errors) + [message]
    else:
        form.form_errors.append(message)


@dataclass
class Outcome:
    """What :func:`submit` did: ``ok`` when the action ran and was committed; ``status`` is the
    HTTP status to render the form with otherwise (200 first view, 400 invalid input)."""

    ok: bool
    status: int
    value: object = None


def submit(form, action: Callable[[], object], errors=(ValueError,), *, commit_on_error: bool = False) -> Outcome:
    """The one way a view handles a POSTed form: validate, run the operation, commit once.

    A domain error (one of ``errors``, carrying ``message`` and optionally ``field``) rolls back
    (or commits, with ``commit_on_error``, e.g. to keep a failed-login count) and is shown on the
    form in the user's language.
    """
    from lms.core.db import db

    if not form.validate_on_submit():
        return Outcome(False, 400 if form.is_submitted() else 200)
    try:
        value = action()
    except errors as exc:
        if commit_on_error:
            db.session.commit()
        else:
            db.session.rollback()
        apply_error(exc, form)
        return Outcome(False, 400)
    db.session.commit()
    return Outcome(True, 200, value)
