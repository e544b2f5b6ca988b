"""Organisations (enterprises, schools / training institutions, authorities) and memberships."""
