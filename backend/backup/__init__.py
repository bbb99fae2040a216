"""Backups of the embedded deployment: ``yibao backup PATH`` and ``yibao restore PATH``.

One archive holds a consistent copy of the SQLite database (taken with SQLite's online backup
API while the server keeps writing), every stored photo and document, and the keys of the data
folder (the development secret and signing key); a manifest lists each file with its SHA-256,
checked again on restore. On PostgreSQL the database is backed up with ``pg_dump`` and the file
store copied beside it (docs/backup.md).
"""
