"""Pages of the credit bank (``/creditbank``)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("creditbank", __name__, url_prefix="/creditbank")

from creditbank.views import applications, catalogue, ledger, rules  # noqa: E402,F401  (routes)
