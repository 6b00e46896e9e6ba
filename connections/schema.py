"""The tables of the connections store, defined once for both engines (SQLAlchemy Core).

The embedded store (store.py) speaks to SQLite through the standard library, so that `sluice run`
starts without SQLAlchemy; its DDL (store.MIGRATIONS) must say what these tables say, and a test
compares the two column by column. PostgreSQL gets these tables through the Alembic migrations in
`connections/migrations/`, one revision per schema version ("0001", "0002", ...), each of which
also records the version in `meta`, as the SQLite migrations do. A migration spells out its own
change (a later revision must not alter what an earlier one made); a test checks that the
migrated database and these tables agree.

Only the database commands and the PostgreSQL store import this module.
"""

from __future__ import annotations

from sqlalchemy import (Column, Float, Integer, LargeBinary, MetaData, Table, Text, text)

metadata = MetaData()

meta = Table(
    "meta", metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

services = Table(
    "services", metadata,
    Column("name", Text, primary_key=True),
    Column("definition", Text, nullable=False),
    Column("secrets", LargeBinary),  # sealed (secrets.py), never plain
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

connections = Table(
    "connections", metadata,
    Column("link_name", Text, primary_key=True),
    Column("display_name", Text, nullable=False),
    Column("service", Text, nullable=False),
    Column("client_id", Text),
    Column("scopes", Text, nullable=False, server_default=text("'[]'")),
    Column("params", Text, nullable=False, server_default=text("'{}'")),
    Column("status", Text, nullable=False),
    Column("last_error", Text),
    Column("secrets", LargeBinary),
    Column("token_type", Text),
    Column("expires_at", Float),
    Column("lifetime", Float),
    Column("generation", Integer, nullable=False, server_default=text("0")),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("retry_at", Float),
    Column("lease_owner", Text),
    Column("lease_until", Float),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("last_used_at", Float),
)

settings = Table(
    "settings", metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("secrets", LargeBinary),
    Column("updated_at", Float, nullable=False),
)

