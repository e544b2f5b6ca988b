"""Web pages of the competency plugin, one module per area; all on the ``competency`` blueprint."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("competency", __name__, url_prefix="/competency")

from competency.views import frameworks, profile, assessment, certificates  # noqa: E402,F401


@bp.app_template_global("competency_condition")
def _condition_label(cond: dict) -> str:
    from competency.operations.profile import describe_condition

    return describe_condition(cond)
