"""Alembic migrations of the connections store on a server database (see connections/schema.py).
Run by `sluice db upgrade` and by PostgresStore.open(); never imported by `sluice run`."""
