"""A worker's own ledger and balances."""
from __future__ import annotations

from flask import render_template

from creditbank.operations.evaluation import balances, ledger as ledger_of
from creditbank.views import bp
from lms.core.permissions import acting_user, require


@bp.route("/")
@require()
def my_ledger():
    user = acting_user()
    return render_template("creditbank/ledger.html", entries=ledger_of(user.id), balances=balances(user.id))
