"""Course catalogue and delivery pages."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("courses", __name__, url_prefix="/courses")


@bp.route("/")
def catalogue():
    return render_template("courses/catalogue.html")
