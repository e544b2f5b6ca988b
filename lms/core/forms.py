"""Form helpers shared by the core and the plugins."""
from __future__ import annotations

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
