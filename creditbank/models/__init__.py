"""Credit-bank tables (all named ``creditbank_*``)."""
from creditbank.models.catalogue import OUTCOME_KINDS, AcademicLevel, CreditType, Outcome
from creditbank.models.rules import RULE_STATUSES, ConversionRule, RuleSource
from creditbank.models.ledger import APPLICATION_STATUSES, Achievement, Application, LedgerEntry

__all__ = ["OUTCOME_KINDS", "AcademicLevel", "CreditType", "Outcome", "RULE_STATUSES", "ConversionRule",
           "RuleSource", "APPLICATION_STATUSES", "Achievement", "Application", "LedgerEntry"]
