"""The credit bank (学分银行): an outcome catalogue with credit values, conversion rules as data,
automatic evaluation on domain events, a ledger per worker, and applications to recognise
outcomes obtained elsewhere. Imports only ``lms``."""
