"""Form helpers shared by the core and the plugins."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from wtforms import SelectChoice

from lms.core.exceptions import DomainError


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
    """What :func:`submit` did: ``ok`` when the action ran (the request boundary commits it); ``status`` is the
    HTTP status to render the form with otherwise (200 first view, 400 invalid input)."""

    ok: bool
    status: int
    value: object = None


def submit(form, action: Callable[[], object], errors=(ValueError, DomainError), *, commit_on_error: bool = False) -> Outcome:
    """The one way a view handles a POSTed form: validate, run the operation (the request boundary
    commits it when the view answers with a success).

    A domain error (one of ``errors``, carrying ``message`` and optionally ``field``) rolls back
    (or, with ``commit_on_error``, is kept by the boundary, e.g. a failed-login count) and is shown
    on the form in the user's language.
    """
    from lms.core.db import db, keep_changes_on_refusal

    if not form.validate_on_submit():
        return Outcome(False, 400 if form.is_submitted() else 200)
    try:
        value = action()
    except errors as exc:
        if commit_on_error:
            keep_changes_on_refusal()
        else:
            db.session.rollback()
        apply_error(exc, form)
        return Outcome(False, 400)
    db.session.flush()
    return Outcome(True, 200, value)
