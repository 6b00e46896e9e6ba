"""The connections store in PostgreSQL, for several servers and workers sharing one database.

`SLUICE_DATABASE_URL=postgresql://user@host/db` makes Store.open() return a PostgresStore
(store.py): the SQLite store's class with this module's OnPostgres under it, which replaces its
plumbing and nothing else: the same tables (schema.py; created and
migrated by Alembic, migrations/), the same SQL (psycopg 3 speaks it once `?` reads `%s`), the
same sealed blobs. What SQLite got from its single writer, PostgreSQL gets from locks:

- Sealing with the key of the day. Every write transaction first takes a shared advisory lock
  (KEY_LOCK); a key rotation takes it exclusively. A blob is sealed inside its transaction with
  the key `meta` names, and no rotation can commit in between, as with BEGIN IMMEDIATE.
- One refresh per connection across hosts. refresh_lock() holds a session advisory lock on the
  connection's name while its tokens are renewed: the others block in the database (no polling),
  then find the new tokens. A holder that dies drops its session, and the lock with it.
- Migrations run under an exclusive advisory lock (MIGRATE_LOCK), so servers starting together
  migrate once. A database whose schema is newer than this code is refused.
- Reading without a round trip. Every call through a connection reads its row and its service;
  two round trips to the server would cost more than the HTTP call's 15 % budget. So rows are
  kept in memory while a listener thread LISTENs on CHANNEL, and every write transaction
  NOTIFYs it (delivered at commit): each process drops what it keeps when any process writes.
  A read that raced a write is not kept (an epoch counts the drops), and while the listener is
  not connected nothing is kept. What may be stale for the instant a notification travels is
  harmless: a refresh re-reads the row under its lock, and a token renewed elsewhere that is
  refused (401) is looked up again.

Each thread has its own connection (autocommit; transactions are explicit). SQLAlchemy and
Alembic are imported only to migrate (upgrade()); reads and writes go through psycopg alone.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .errors import AuthFailed, StoreError
from .secrets import KeySource

# advisory lock keys: (LOCK_CLASS, n) for the store's own locks, (LOCK_CLASS + 1, hash) per link
LOCK_CLASS = 0x51C3
KEY_LOCK = 1
MIGRATE_LOCK = 2
SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
CHANNEL = "sluice_store"
_MISSING = object()


def is_server_url(url: str) -> bool:
    return urlsplit(url).scheme in SCHEMES


def redacted(url: str) -> str:
    """`url` without its password (for messages and `sluice doctor`)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit((parts.scheme, f"{user}:***@{netloc[2]}", parts.path, parts.query,
                       parts.fragment))


def libpq_url(url: str) -> str:
    """What psycopg connects with: the URL without SQLAlchemy's driver suffix."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql",) + tuple(parts)[1:])


def sqlalchemy_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql+psycopg",) + tuple(parts)[1:])


class _Row(tuple):
    """A row read by index or by column name, as sqlite3.Row is."""

    def __new__(cls, values, index):
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self):
        return list(self._index)


def _rows(cursor):
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: _Row(values, index)


_SQL: dict[str, str] = {}


class _Db:
    """One thread's connection, taking the store's SQL (`?` placeholders) as it is."""

    def __init__(self, raw):
        self.raw = raw

    def execute(self, sql: str, args=()):
        text = _SQL.get(sql)
        if text is None:
            text = _SQL[sql] = sql.replace("?", "%s")
        return self.raw.execute(text, tuple(args))

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE


class OnPostgres:
    """The plumbing of a store in a PostgreSQL database, which threads, processes and hosts
    may share. Mixed in before store.Store (this module imports nothing of store.py)."""

    _FOR_UPDATE = " FOR UPDATE"
    mode = "postgresql"

    def __init__(self, url: str, *, home: str | os.PathLike, keys: KeySource | None = None,
                 clock=time.time):
        import psycopg

        self._psycopg = psycopg
        self._DB_ERRORS = (psycopg.Error, StoreError)
        self.url = url
        self.home = Path(home)
        self.path = None  # no file: see describe()
        self.clock = clock
        self._keys = keys or KeySource(self.home)
        self._write_problem = None
        self._local = threading.local()
        self._all: list = []
        self._guard = threading.Lock()
        self._migrate()
        self._keyring = None
        self._key_problem = None
        self._key_guard = threading.RLock()
        self._start_listening()
        try:
            self._keyring, self._key_problem = self._load_keys()
        except BaseException:
            self.close()
            raise

    def describe(self) -> str:
        return f"the database {redacted(self.url)}"

    # ------------------------------------------------------------------ plumbing

    def _db(self) -> _Db:
        db = getattr(self._local, "db", None)
        if db is not None and not db.raw.closed and not db.raw.broken and \
                db.pid == os.getpid():  # a forked child must not speak on its parent's socket
            return db
        try:
            raw = self._psycopg.connect(libpq_url(self.url), autocommit=True, row_factory=_rows,
                                        connect_timeout=10)
        except self._psycopg.Error as e:
            raise self._problem(e, writing=False) from None
        db = self._local.db = _Db(raw)
        db.pid = os.getpid()
        with self._guard:
            self._all.append(raw)
        return db

    def _problem(self, error: BaseException, *, writing: bool) -> StoreError:
        errors = self._psycopg.errors
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        first = first.replace(self.url, redacted(self.url))
        where = self.describe()
        if isinstance(error, self._psycopg.OperationalError) and not isinstance(
                error, errors.LockNotAvailable):
            return StoreError(f"{where} does not answer ({first}): check that the server runs "
                              "and that SLUICE_DATABASE_URL names it")
        if isinstance(error, errors.InsufficientPrivilege):
            return StoreError(f"{where} refused this user ({first})")
        if isinstance(error, errors.UniqueViolation):
            return StoreError(f"{where} could not save (it exists already); nothing was changed")
        if writing:
            return StoreError(f"{where} could not save ({first}); nothing was changed")
        return StoreError(f"cannot read {where} ({first})")

    @contextmanager
    def _transaction(self, *, exclusive: bool = False):
        db = self._db()
        try:
            with db.raw.transaction():
                lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
                # the notification goes out at commit, to every process's listener
                db.raw.execute(f"SELECT {lock}(%s, %s), pg_notify(%s, '')",
                               (LOCK_CLASS, KEY_LOCK, CHANNEL))
                yield db
        except self._psycopg.Error as e:
            raise self._problem(e, writing=True) from None
        finally:
            self._forget()  # ours at once; the others' when the notification reaches them

    def _read(self, sql: str, args=()):
        try:
            return self._db().execute(sql, args).fetchall()
        except self._psycopg.Error as e:
            raise self._problem(e, writing=False) from None

    def close(self) -> None:
        self._stop.set()
        with self._guard:
            for raw in self._all:
                try:
                    raw.close()
                except self._psycopg.Error:
                    pass
            self._all.clear()
        self._local = threading.local()

    def _stored_key_id(self, db=None) -> str:
        # inside a write transaction the shared KEY_LOCK already keeps rotations out
        return self._read("SELECT value FROM meta WHERE key = 'key_id'")[0][0] if db is None \
            else db.execute("SELECT value FROM meta WHERE key = 'key_id'").fetchone()[0]

    # ------------------------------------------------------------------ rows kept in memory

    def _start_listening(self) -> None:
        self._kept: dict = {}
        self._epoch = 0
        self._kept_guard = threading.Lock()
        self._listening = threading.Event()
        self._stop = threading.Event()
        self._listener_pid = os.getpid()
        threading.Thread(target=self._listen, name="sluice-store-listener", daemon=True).start()
        self._listening.wait(5)  # not yet: rows are read each time until it listens

    def _listen(self) -> None:
        psycopg = self._psycopg
        while not self._stop.is_set():
            try:
                conn = psycopg.connect(libpq_url(self.url), autocommit=True, connect_timeout=10)
            except psycopg.Error:
                self._stop.wait(1.0)
                continue
            try:
                conn.execute(f"LISTEN {CHANNEL}")
                self._forget()  # what was written while nobody listened
                self._listening.set()
                while not self._stop.is_set():
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        self._forget()
            except psycopg.Error:
                pass
            finally:
                self._listening.clear()
                self._forget()
                try:
                    conn.close()
                except psycopg.Error:
                    pass
            self._stop.wait(0.5)

    def _forget(self) -> None:
        with self._kept_guard:
            self._epoch += 1
            self._kept.clear()

    def _kept_or_read(self, key, read, *, keep_none: bool):
        if not self._listening.is_set() or self._listener_pid != os.getpid():
            return read()
        found = self._kept.get(key, _MISSING)
        if found is not _MISSING:
            return found
        epoch = self._epoch
        found = read()
        if found is not None or keep_none:
            with self._kept_guard:
                if epoch == self._epoch and self._listening.is_set():
                    self._kept[key] = found
        return found

    def connection(self, link: str):
        return self._kept_or_read(("connection", link),
                                  lambda: super(OnPostgres, self).connection(link),
                                  keep_none=False)

    def custom_service(self, name: str):
        # None (a service of the catalog) is kept too: most calls go through one
        return self._kept_or_read(("service", name),
                                  lambda: super(OnPostgres, self).custom_service(name),
                                  keep_none=True)

    # ------------------------------------------------------------------ schema

    def _migrate(self) -> None:
        try:
            version = schema_version_of(self._db())
        except self._psycopg.Error as e:
            raise self._problem(e, writing=False) from None
        if version == self.SCHEMA_VERSION:
            return
        if version is not None and version > self.SCHEMA_VERSION:
            raise newer_schema(self.describe(), version, self.SCHEMA_VERSION)
        upgrade(self.url, self.SCHEMA_VERSION)

    # ------------------------------------------------------------------ refresh

    @contextmanager
    def refresh_lock(self, link: str, wait: float):
        """Hold `link`'s refresh lock (a session advisory lock): blocks in the database while
        another process, here or on another host, holds it; AuthFailed after `wait` seconds."""
        db = self._db()
        raw = db.raw
        try:
            raw.execute("SELECT set_config('lock_timeout', %s, false)", (f"{int(wait * 1000)}",))
            raw.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS + 1, link))
        except self._psycopg.errors.LockNotAvailable:
            raise AuthFailed(f"connection {link}: another process has been renewing its token "
                             f"for over {wait:g} s", link=link) from None
        except self._psycopg.Error as e:
            raise self._problem(e, writing=False) from None
        finally:
            try:
                raw.execute("SELECT set_config('lock_timeout', '0', false)")
            except self._psycopg.Error:
                pass
        try:
            yield
        finally:
            try:
                raw.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (LOCK_CLASS + 1, link))
            except self._psycopg.Error:
                pass  # the session is gone, and its lock with it

    def take_lease(self, link: str, holder: str, seconds: float):
        """Under refresh_lock the lease is ours: a holder that died (on any host) let the lock
        go with its session, so its lease is not waited out."""
        now = self.clock()
        with self._transaction() as db:
            row = db.execute("UPDATE connections SET lease_owner = ?, lease_until = ? "
                             "WHERE link_name = ? RETURNING *",
                             (holder, now + seconds, link)).fetchone()
            if row is None:
                raise StoreError(f"no connection named {link}")
        return self.Row.from_sql(row)


# ---------------------------------------------------------------------------- migrations


def schema_version_of(db) -> int | None:
    """The schema version a database records; None for a database without the store."""
    if db.execute("SELECT to_regclass('meta')").fetchone()[0] is None:
        return None
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else None


def newer_schema(where: str, version: int, known: int) -> StoreError:
    return StoreError(f"{where} holds a store of schema {version}, newer than this Sluice knows "
                      f"({known}): upgrade Sluice on this host (it must not write a schema it "
                      "does not know)")


def upgrade(url: str, known: int) -> tuple[int | None, int]:
    """Migrate the database of `url` to schema `known`, this code's (Alembic, under
    MIGRATE_LOCK). Returns (version before, version after); StoreError when it is newer."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    where = f"the database {redacted(url)}"
    engine = create_engine(sqlalchemy_url(url), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"),
                               {"a": LOCK_CLASS, "b": MIGRATE_LOCK})
            before = schema_version_of(_SqlAlchemyDb(connection))
            if before is not None and before > known:
                raise newer_schema(where, before, known)
            if before != known:
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS_DIR))
                config.attributes["connection"] = connection
                command.upgrade(config, f"{known:04d}")
    except DBAPIError as e:
        first = str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)
        raise StoreError(f"{where} could not be migrated ({first.replace(url, redacted(url))})"
                         ) from None
    finally:
        engine.dispose()
    return before, known


class _SqlAlchemyDb:
    def __init__(self, connection):
        self.connection = connection

    def execute(self, sql: str):
        from sqlalchemy import text

        return self.connection.execute(text(sql))
