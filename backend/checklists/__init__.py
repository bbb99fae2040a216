"""Checklists: the YAML schema, its validation, and the official scoring engine (pure, no I/O)."""
