"""Skill levels and profile pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from lms.core.permissions import require

bp = Blueprint("competency", __name__, url_prefix="/competency")


@bp.route("/")
@require()
def levels():
    return render_template("competency/levels.html")
