"""Queries, one module per entity: they read and stage rows in a session
they are given. No commits and no business rules here."""
