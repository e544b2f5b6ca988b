"""JSON API of the credit bank (``/api/creditbank``): a worker's own ledger. (The public rules are
downloadable as JSON at ``/creditbank/rules.json``.)"""
from __future__ import annotations

from flask import Blueprint, jsonify

from creditbank.operations.evaluation import balances, ledger
from lms.core.permissions import acting_user, require

api_bp = Blueprint("creditbank_api", __name__, url_prefix="/api/creditbank")


def ledger_as_dict(user_id: int) -> dict:
    return {
        "balances": [{"credit_type": b["credit_type"].code, "credits": b["credits"]} for b in balances(user_id)],
        "entries": [{"id": e.id, "basis": e.basis, "rule": e.rule.code if e.rule else None,
                     "rule_version": e.rule_version, "outcome": e.outcome.code if e.outcome else None,
                     "credit_type": e.credit_type.code if e.credit_type else None, "credits": e.credits,
                     "evidence": e.evidence, "created_at": e.created_at.isoformat(),
                     "reversed_at": e.reversed_at.isoformat() if e.reversed_at else None,
                     "reversal_reason": e.reversal_reason} for e in ledger(user_id)],
    }


@api_bp.get("/ledger")
@require()
def my_ledger():
    return jsonify(ledger_as_dict(acting_user().id))
