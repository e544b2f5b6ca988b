"""Accounts: users, passwords, login throttling, personal API tokens, ID card numbers."""
