"""Alembic's environment: the connection comes from the caller (connections.pgstore.upgrade),
which holds the lock that keeps two servers from migrating at once."""

from alembic import context

from connections.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  version_table="alembic_version")
with context.begin_transaction():
    context.run_migrations()
