"""Pages of the supervision plugin: ``supervision_public`` (catalogues and aggregate rates, no
login) and ``supervision`` (authority and institutions, scoped by :mod:`supervision.access`)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect

from lms.core.db import db
from lms.core.forms import apply_error
from supervision.operations import SupervisionError

bp = Blueprint("supervision", __name__, url_prefix="/supervision")
public_bp = Blueprint("supervision_public", __name__, url_prefix="/public/training")


def run(form, action, *, done: str | None = None, back: str | None = None):
    """Validate a posted form, run the operation, commit once. Returns ``(ok, value)``.

    A domain error rolls back; 403 and 404 abort; others are shown on the form (or flashed when
    ``back`` is given, for small button forms)."""
    if not form.validate_on_submit():
        if back is not None:
            for errors in form.errors.values():
                for message in errors:
                    flash(message, "danger")
        return False, None
    try:
        value = action()
    except SupervisionError as exc:
        db.session.rollback()
        if exc.status in (403, 404):
            abort(exc.status)
        if back is not None:
            flash(str(exc.message), "danger")
        else:
            apply_error(exc, form)
        return False, exc
    db.session.commit()
    if done:
        flash(done, "success")
    return True, value


def bounce(back: str):
    return redirect(back, code=303)


@bp.app_context_processor
def _helpers():
    from lms.accounts.idcard import mask
    from supervision.forms import LEVEL_LABELS
    from supervision.operations.catalogue import CATALOGUE_LABELS, REASONS
    from supervision.operations.claims import HIT_STATE_LABELS
    from supervision.operations.claims import STATUS_LABELS as CLAIM_STATUS
    from supervision.operations.classes import STATUS_LABELS as CLASS_STATUS

    def level_label(rung):
        return LEVEL_LABELS.get(rung, rung)

    def rate(n, d):
        return "—" if not d else f"{n / d * 100:.1f}%"

    return {"sup_level": level_label, "sup_rate": rate, "sup_mask": mask, "sup_catalogues": CATALOGUE_LABELS,
            "sup_reasons": REASONS, "sup_class_status": CLASS_STATUS, "sup_claim_status": CLAIM_STATUS,
            "sup_hit_states": HIT_STATE_LABELS}


from supervision.views import classes, claims, oversight, public  # noqa: E402,F401  (routes)

__all__ = ["bp", "public_bp", "run", "bounce"]
