"""Where services and connections live: one SQLite file, secrets sealed, one transaction per change.

The file is `$SLUICE_HOME/sluice.db`, else `sluice.db` in the user's data directory. It runs in WAL
mode with full sync, so a killed process or a full disk leaves either the old row or the new one.
Plain columns hold only what `sluice connections show` may print; every secret (client secret,
password, API key, tokens, RSA key) sits in one sealed blob per row (see secrets.py).

A connection row also carries its refresh lease (`lease_owner`, `lease_until`): the one process
and thread allowed to refresh its tokens right now. A lease ends when its holder saves, when it
expires, or at once when its holder is a process of this machine that no longer runs.

`Store` is the interface the rest of the package uses. With SLUICE_DATABASE_URL set, Store.open()
gives a PostgresStore instead (pgstore.py): the same class over the same tables, with PostgreSQL's
transactions and locks where SQLite's differ.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sqlite3
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import SecretKeyError, StoreDamaged, StoreError
from .redaction import masker_for
from .localdb import ThreadConnections, pending_changes
from .pgstore import OnPostgres
from .secrets import (DamagedSecrets, KeyRing, KeySource, UnknownKey, generate_key, key_from_text,
                      key_id)

DB_FILE = "sluice.db"
HOME_ENV = "SLUICE_HOME"
DATABASE_ENV = "SLUICE_DATABASE_URL"  # set: the store lives in that server database (pgstore.py)

MIGRATIONS = [
    # 1: the first schema
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE services (
        name TEXT PRIMARY KEY,
        definition TEXT NOT NULL,
        secrets BLOB,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE connections (
        link_name TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        service TEXT NOT NULL,
        client_id TEXT,
        scopes TEXT NOT NULL DEFAULT '[]',
        params TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL,
        last_error TEXT,
        secrets BLOB,
        token_type TEXT,
        expires_at REAL,
        lifetime REAL,
        generation INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        retry_at REAL,
        lease_owner TEXT,
        lease_until REAL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        last_used_at REAL
    );
    """,
    # 2: settings of the application (the SMTP server of sendmail), secrets sealed
    """
    CREATE TABLE settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        secrets BLOB,
        updated_at REAL NOT NULL
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

# Tables with a sealed `secrets` column, and the column naming their rows.
SEALED_TABLES = (("services", "name"), ("connections", "link_name"), ("settings", "name"))

# Columns of free text, which may quote what a provider said: masked before they are stored.
_TEXTS = ("status", "last_error")
_PLAIN_STATUSES = {"connected", "not connected", "expired", "revoked"}

# Columns a caller may change with update(); the others are the store's own business.
_EDITABLE = {"display_name", "client_id", "scopes", "params", "status", "last_error", "token_type",
             "expires_at", "lifetime", "failures", "retry_at", "last_used_at"}


def default_home(environ=os.environ) -> Path:
    """$SLUICE_HOME, else the platform's per-user data directory."""
    if environ.get(HOME_ENV):
        return Path(environ[HOME_ENV]).expanduser()
    if sys.platform == "win32":
        base = Path(environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "sluice"


@dataclass(frozen=True)
class ConnectionRow:
    link_name: str
    display_name: str
    service: str
    status: str
    created_at: float
    updated_at: float
    client_id: str | None = None
    scopes: tuple[str, ...] = ()
    params: dict = field(default_factory=dict)
    last_error: str | None = None
    sealed: bytes | None = field(default=None, repr=False)
    token_type: str | None = None
    expires_at: float | None = None
    lifetime: float | None = None
    generation: int = 0
    failures: int = 0
    retry_at: float | None = None
    lease_owner: str | None = None
    lease_until: float | None = None
    last_used_at: float | None = None

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> "ConnectionRow":
        values = dict(row)
        values["scopes"] = tuple(json.loads(values["scopes"]))
        values["params"] = json.loads(values["params"])
        values["sealed"] = values.pop("secrets")
        return cls(**values)


def _disk_full(path: Path) -> bool:
    try:
        info = os.statvfs(path.parent)
    except (OSError, AttributeError):
        return False
    return info.f_bavail * info.f_frsize < 64 * 1024


def _file_size_limit(path: Path) -> int | None:
    """The size limit on files this process writes (RLIMIT_FSIZE) when the store or its log has
    reached it, else None."""
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    except (ImportError, OSError, ValueError):
        return None
    if limit == resource.RLIM_INFINITY:
        return None
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
        try:
            if part.stat().st_size + 64 * 1024 >= limit:
                return limit
        except OSError:
            pass
    return None


def _read_only(path: Path) -> bool:
    try:
        info = os.statvfs(path.parent)
    except (OSError, AttributeError):
        return False
    if info.f_flag & getattr(os, "ST_RDONLY", 1):
        return True
    return not os.access(path if path.exists() else path.parent, os.W_OK)


def lease_holder() -> str:
    """Who is refreshing: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _holder_is_gone(owner: str) -> bool:
    """True when `owner` names a process of this machine that has ended."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False
    return False


class Store:
    """The SQLite store. Safe to share between threads (each gets its own SQLite connection)."""

    # what PostgresStore changes: row locks, and the errors a lost `touch` may raise
    _FOR_UPDATE = ""
    _DB_ERRORS: tuple = (sqlite3.DatabaseError,)
    mode = "embedded"
    SCHEMA_VERSION = SCHEMA_VERSION
    Row = ConnectionRow

    def __init__(self, path: str | os.PathLike, *, keys: KeySource | None = None,
                 clock=time.time):
        self.path = Path(path)
        self.home = self.path.parent
        self.clock = clock
        self._keys = keys or KeySource(self.path.parent)
        self._write_problem: str | None = None  # set when the file can only be read
        try:
            self._connections = ThreadConnections(self.path, rows=True)
        except OSError as e:
            raise StoreError(f"cannot make the folder {self.path.parent}: {e.strerror}") from None
        self._migrate()
        self._keyring: KeyRing | None = None
        self._key_problem: str | None = None
        self._key_guard = threading.RLock()
        self._keyring, self._key_problem = self._load_keys()

    @classmethod
    def open(cls, home: str | os.PathLike | None = None, *, clock=time.time,
             environ=os.environ) -> "Store":
        """The store of `home` (the key file lives there): in SLUICE_DATABASE_URL's database
        when that is set, else the SQLite file in `home`."""
        home = Path(home) if home is not None else default_home(environ)
        url = environ.get(DATABASE_ENV)
        if url and cls is Store:
            return PostgresStore(url, keys=KeySource(home, environ), home=home, clock=clock)
        return cls(home / DB_FILE, keys=KeySource(home, environ), clock=clock)

    def describe(self) -> str:
        """Where the store is, for messages (never a password)."""
        return str(self.path)

    @contextmanager
    def refresh_lock(self, link: str, wait: float):
        """Held while refreshing `link`'s tokens. Here nothing: the lease (take_lease) is the
        lock between processes sharing one file; a server database waits on a lock of its own."""
        yield


    # ------------------------------------------------------------------ SQLite plumbing

    def _db(self) -> sqlite3.Connection:
        try:
            return self._connections.get()
        except (sqlite3.DatabaseError, OSError) as e:
            error = e
            problem = self._problem(e, writing=False)
            name = getattr(e, "sqlite_errorname", "") or ""
            cannot_write = isinstance(e, OSError) or name.startswith(
                ("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_FULL")) or \
                _read_only(self.path) or _disk_full(self.path)
            if isinstance(problem, StoreDamaged) or self._connections.read_only or \
                    not self.path.exists() or not cannot_write:
                raise problem from None
        # It cannot be opened for writing (a read-only or full file system, a read-only
        # file): reading may still work, as long as no write-ahead log holds changes.
        if pending_changes(self.path):
            why = "the disk is full" if _disk_full(self.path) else "it is read-only"
            raise StoreError(
                f"the store {self.path} has changes not yet folded into it "
                f"({self.path.name}-wal, left by a process that stopped), and they cannot be "
                f"read because {why}: make its folder writable (or copy {self.path.name}, "
                f"{self.path.name}-wal and {self.path.name}-shm together to a writable "
                "folder and point SLUICE_HOME there), then run the command again") from None
        self._write_problem = str(self._problem(error, writing=True))
        self._connections.close()
        self._connections = ThreadConnections(self.path, rows=True, read_only=True)
        try:
            return self._connections.get()
        except sqlite3.DatabaseError as e:
            raise self._problem(e, writing=False) from None

    def _problem(self, error: BaseException, *, writing: bool) -> StoreError:
        """What went wrong with the file, in the words of the person who must mend it."""
        name = getattr(error, "sqlite_errorname", "") or ""
        text = str(error).lower()
        where = f"the store {self.path}"
        if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in text or \
                "not a database" in text:
            return StoreDamaged(
                f"{where} is damaged ({error}): run `sluice connections recover` to copy what "
                "can still be read into a new store (the damaged file is kept beside it)")
        if name.startswith("SQLITE_FULL") or "disk is full" in text or _disk_full(self.path):
            what = "nothing was saved" if writing else "it cannot even be opened"
            return StoreError(f"the disk holding {where} is full: {what}. Free some space "
                              "and try again")
        limit = _file_size_limit(self.path) if name.startswith("SQLITE_IOERR") else None
        if limit is not None:
            return StoreError(f"{where} has reached the largest file this process may write "
                              f"({limit:,} bytes, the limit `ulimit -f` sets): nothing was "
                              "saved. Raise the limit and try again")
        if name.startswith("SQLITE_READONLY") or "readonly" in text or \
                isinstance(error, OSError) and error.errno in (errno.EROFS, errno.EACCES,
                                                              errno.EPERM) or \
                _read_only(self.path):
            what = "nothing was saved" if writing else "it cannot be opened for writing"
            return StoreError(f"{where} is read-only (a read-only file, folder or file "
                              f"system): {what}. Make it writable, or set SLUICE_HOME to a "
                              "writable folder")
        if name.startswith("SQLITE_BUSY") or "locked" in text:
            return StoreError(f"{where} is busy: another process kept it locked for over "
                              "30 s; try again")
        if name.startswith("SQLITE_IOERR"):
            what = "nothing was saved" if writing else "it cannot be read"
            return StoreError(f"{where} met a disk error ({error}): {what}. Check the disk "
                              "(a failing or disconnected drive, a network file system)")
        if writing:
            return StoreError(f"{where} could not save ({error}); nothing was changed")
        return StoreError(f"cannot read {where} ({error})")

    @contextmanager
    def _transaction(self, *, exclusive: bool = False):
        """One write transaction; nothing of it stays unless all of it does. (SQLite lets one
        writer in at a time: `exclusive`, for a rotation of the key, is what it always is.)"""
        db = self._db()
        if self._write_problem is not None:
            raise StoreError(self._write_problem)
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as e:
            raise self._problem(e, writing=True) from None
        try:
            yield db
            db.execute("COMMIT")
        except BaseException as e:
            if db.in_transaction:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.DatabaseError:
                    pass  # SQLite rolls back by itself when it cannot go on
            if isinstance(e, sqlite3.DatabaseError):
                raise self._problem(e, writing=True) from None
            raise

    def _read(self, sql: str, args=()) -> list[sqlite3.Row]:
        try:
            return self._db().execute(sql, args).fetchall()
        except sqlite3.DatabaseError as e:
            raise self._problem(e, writing=False) from None

    def close(self) -> None:
        self._connections.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def read_only(self) -> str | None:
        """Why the store can be read but not written, or None when it can be written."""
        return self._write_problem

    def _migrate(self) -> None:
        # Look before writing: a store that needs no migration opens on a read-only disk.
        rows = self._read("SELECT value FROM meta WHERE key = 'schema_version'") if self._read(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'") else []
        if rows and int(rows[0][0]) == SCHEMA_VERSION:
            return
        with self._transaction() as db:
            has_meta = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
            version = 0
            if has_meta:
                row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise StoreError(f"the store {self.path} was written by a newer Sluice (schema "
                                 f"{version}, this one knows {SCHEMA_VERSION}): upgrade Sluice")
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
            if version != SCHEMA_VERSION:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                           (str(SCHEMA_VERSION),))

    def schema_version(self) -> int:
        return int(self._read("SELECT value FROM meta WHERE key = 'schema_version'")[0][0])

    # ------------------------------------------------------------------ keys

    def _load_keys(self) -> tuple[KeyRing | None, str | None]:
        """The key ring, or why there is none. A key problem does not stop the store from
        opening: listing works, and whatever needs a secret raises SecretKeyError."""
        row = self._read("SELECT value FROM meta WHERE key = 'key_id'")
        try:
            if not row:
                key = self._keys.load(create=True)
                with self._transaction() as db:
                    db.execute("INSERT INTO meta (key, value) VALUES ('key_id', ?) "
                               "ON CONFLICT (key) DO NOTHING", (key_id(key),))
            return self._ring_for(self._stored_key_id()), None
        except SecretKeyError as e:
            return None, str(e)

    def _stored_key_id(self, db=None) -> str:
        if db is not None:
            return db.execute("SELECT value FROM meta WHERE key = 'key_id'").fetchone()[0]
        return self._read("SELECT value FROM meta WHERE key = 'key_id'")[0][0]

    def _ring_for(self, expected: str) -> KeyRing:
        """A ring whose current key is the one the store names (`expected`). The ring in hand
        when it has that key; else the key files are read again (a rotation by another
        process), keeping the keys already known, so blobs sealed before still open."""
        ring = self._keyring
        if ring is not None and ring.current_id == expected:
            return ring
        with self._key_guard:
            known = list(self._keyring.keys) if self._keyring is not None else []
            problem = None
            for attempt in range(5):  # a rotation moves its files between our reads
                try:
                    known += self._keys.load_all()
                except SecretKeyError as e:
                    problem = str(e)
                found = next((k for k in known if key_id(k) == expected), None)
                if found is not None:
                    self._keys.finish_rotation(expected)
                    self._keyring = KeyRing(*known, current=expected)
                    self._key_problem = None
                    return self._keyring
                time.sleep(0.02 * (attempt + 1))
            if problem is None:
                problem = self._mismatch(known[0] if known else None, expected)
            self._key_problem = problem
            raise SecretKeyError(problem)

    def _mismatch(self, key: bytes | None, expected: str) -> str:
        have = f" (id {key_id(key)})" if key is not None else ""
        if self._keyring is not None and self._keys.from_environment:
            return (f"the store's key was rotated (the new key has id {expected}), and the key "
                    f"from ${self._keys.describe().lstrip('$')}{have} is the old one: set "
                    "SLUICE_SECRET_KEY to the new key and restart; nothing was saved")
        return (f"the secret key from {self._keys.describe()}{have} is not "
                f"the one this store's secrets were encrypted with (id {expected}): use "
                "the original key, or run `sluice connections rotate-key "
                "--discard-unreadable` to start over with this one (every connection "
                "will need connecting again)")

    @property
    def key_problem(self) -> str | None:
        return self._key_problem

    def _ring(self) -> KeyRing:
        if self._keyring is None:
            raise SecretKeyError(self._key_problem or "no secret key")
        return self._keyring

    def _seal(self, db, secrets: dict, where: str) -> bytes:
        """Seal inside the write transaction that stores the blob, with the key the store
        names now: a rotation cannot slip in between (it needs the write lock too)."""
        return self._ring_for(self._stored_key_id(db)).seal(secrets, where)

    def unseal(self, blob: bytes | None, where: str) -> dict:
        if blob is None:
            return {}
        try:
            return self._ring().open(blob, where)
        except UnknownKey:
            # another process rotated the key since we loaded ours
            return self._ring_for(self._stored_key_id()).open(blob, where)

    def rotate_key(self, new_key_text: str | None = None) -> str:
        """Re-encrypt every secret under a new key in one transaction; return the new key's id.
        With the key in a file, a new file replaces it (crash-safe: see secrets.py). With the key
        in the environment, `new_key_text` is the new key, which the caller must then set."""
        self._ring_for(self._stored_key_id())
        if self._keys.from_environment:
            if not new_key_text:
                raise SecretKeyError("the key comes from SLUICE_SECRET_KEY: give the new key "
                                     "(--new-key-env VAR) and set SLUICE_SECRET_KEY to it after")
            new_key = key_from_text(new_key_text)
        else:
            text = new_key_text or generate_key()
            new_key = key_from_text(text)
            self._keys.write_pending(text)
        new_id = key_id(new_key)
        try:
            with self._transaction(exclusive=True) as db:
                ring = self._ring_for(self._stored_key_id(db))
                new_ring = KeyRing(new_key, *ring.keys, current=new_id)
                for table, key in SEALED_TABLES:
                    for row in db.execute(f"SELECT {key}, secrets FROM {table} "
                                          "WHERE secrets IS NOT NULL").fetchall():
                        where = f"{table[:-1]}:{row[0]}"
                        blob = new_ring.seal(ring.open(row[1], where), where)
                        db.execute(f"UPDATE {table} SET secrets = ? WHERE {key} = ?",
                                   (blob, row[0]))
                db.execute("UPDATE meta SET value = ? WHERE key = 'key_id'", (new_id,))
        except BaseException:
            self._keys.discard_pending()
            raise
        if not self._keys.from_environment:
            self._keys.commit_pending()
        self._keyring, self._key_problem = new_ring, None
        return new_id

    def discard_unreadable(self) -> list[str]:
        """Adopt the key in use, dropping every secret it cannot open. Returns the names of the
        connections and services that lost their secrets."""
        key = self._keys.load(create=True)
        ring = KeyRing(key)
        lost = []
        now = self.clock()
        with self._transaction(exclusive=True) as db:
            for table, key_col in SEALED_TABLES:
                for row in db.execute(f"SELECT {key_col}, secrets FROM {table} "
                                      "WHERE secrets IS NOT NULL").fetchall():
                    try:
                        ring.open(row[1], f"{table[:-1]}:{row[0]}")
                    except SecretKeyError:
                        lost.append(row[0])
                        if table == "connections":
                            db.execute(
                                "UPDATE connections SET secrets = NULL, status = 'not connected',"
                                " last_error = 'its secrets were lost with the old key', "
                                "expires_at = NULL, updated_at = ? WHERE link_name = ?",
                                (now, row[0]))
                        else:
                            db.execute(f"UPDATE {table} SET secrets = NULL WHERE name = ?",
                                       (row[0],))
            db.execute("UPDATE meta SET value = ? WHERE key = 'key_id'", (key_id(key),))
        self._keyring, self._key_problem = ring, None
        return lost

    # ------------------------------------------------------------------ services

    def custom_services(self) -> list[str]:
        """The definitions (JSON texts) of the custom services, by name."""
        return [r[0] for r in self._read("SELECT definition FROM services ORDER BY name")]

    def custom_service(self, name: str) -> str | None:
        rows = self._read("SELECT definition FROM services WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    def service_secrets(self, name: str) -> dict:
        rows = self._read("SELECT secrets FROM services WHERE name = ?", (name,))
        return self.unseal(rows[0][0], f"service:{name}") if rows else {}

    def save_service(self, definition: dict, secrets: dict | None) -> None:
        name = definition["name"]
        now = self.clock()
        with self._transaction() as db:
            blob = self._seal(db, secrets, f"service:{name}") if secrets else None
            db.execute(
                "INSERT INTO services (name, definition, secrets, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "definition = excluded.definition, secrets = excluded.secrets, "
                "updated_at = excluded.updated_at",
                (name, json.dumps(definition), blob, now, now))

    def delete_service(self, name: str) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM services WHERE name = ?", (name,)).rowcount > 0

    # ------------------------------------------------------------------ settings

    def setting(self, name: str) -> tuple[dict | None, dict]:
        """(value, secrets) of a setting; (None, {}) when it is not set."""
        rows = self._read("SELECT value, secrets FROM settings WHERE name = ?", (name,))
        if not rows:
            return None, {}
        return json.loads(rows[0][0]), self.unseal(rows[0][1], f"setting:{name}")

    def save_setting(self, name: str, value: dict, secrets: dict | None) -> None:
        with self._transaction() as db:
            blob = self._seal(db, secrets, f"setting:{name}") if secrets else None
            db.execute("INSERT INTO settings (name, value, secrets, updated_at) VALUES "
                       "(?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value, "
                       "secrets = excluded.secrets, updated_at = excluded.updated_at",
                       (name, json.dumps(value), blob, self.clock()))

    def delete_setting(self, name: str) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM settings WHERE name = ?", (name,)).rowcount > 0

    # ------------------------------------------------------------------ connections

    def connection(self, link: str) -> ConnectionRow | None:
        rows = self._read("SELECT * FROM connections WHERE link_name = ?", (link,))
        return ConnectionRow.from_sql(rows[0]) if rows else None

    def connections(self) -> list[ConnectionRow]:
        return [ConnectionRow.from_sql(r)
                for r in self._read("SELECT * FROM connections ORDER BY link_name")]

    def connections_of(self, service: str) -> list[str]:
        return [r[0] for r in self._read(
            "SELECT link_name FROM connections WHERE service = ? ORDER BY link_name", (service,))]

    def secrets(self, row: ConnectionRow) -> dict:
        where = f"connection:{row.link_name}"
        try:
            return self.unseal(row.sealed, where)
        except UnknownKey:
            fresh = self.connection(row.link_name)  # read before a rotation re-sealed it
            if fresh is None or fresh.sealed == row.sealed:
                raise
            return self.unseal(fresh.sealed, where)

    def insert(self, row: ConnectionRow, secrets: dict) -> ConnectionRow:
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM connections WHERE link_name = ?",
                          (row.link_name,)).fetchone():
                raise StoreError(f"a connection named {row.link_name} already exists")
            blob = self._seal(db, secrets, f"connection:{row.link_name}") if secrets else None
            if row.last_error:
                row = replace(row, last_error=masker_for([secrets])(row.last_error))
            row = replace(row, sealed=blob)
            db.execute(
                "INSERT INTO connections (link_name, display_name, service, client_id, scopes, "
                "params, status, last_error, secrets, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.link_name, row.display_name, row.service, row.client_id,
                 json.dumps(list(row.scopes)), json.dumps(row.params), row.status, row.last_error,
                 blob, row.created_at, row.updated_at))
        return row

    def update(self, link: str, *, secrets: dict | None = None, new_tokens: bool = False,
               release_lease: str | None = None, **columns) -> ConnectionRow:
        """Change one connection in one transaction. `secrets` replaces the sealed blob;
        `new_tokens` counts a new generation of tokens; `release_lease` ends that holder's lease.
        A status or error text is stored with every form of the connection's secrets masked."""
        bad = set(columns) - _EDITABLE
        if bad:
            raise ValueError(f"not editable: {', '.join(sorted(bad))}")
        with self._transaction() as db:
            current = db.execute("SELECT service, secrets FROM connections WHERE link_name = ?"
                                 + self._FOR_UPDATE, (link,)).fetchone()
            if current is None:
                raise StoreError(f"no connection named {link}")
            texts = [k for k in _TEXTS if isinstance(columns.get(k), str)
                     and columns[k] not in _PLAIN_STATUSES]
            if texts:
                masker = self._masker(db, link, current, secrets)
                for name in texts:
                    columns[name] = masker(columns[name])
            sets, args = [], []
            for name, value in columns.items():
                if name in ("scopes", "params"):
                    value = json.dumps(list(value) if name == "scopes" else value)
                sets.append(f"{name} = ?")
                args.append(value)
            if secrets is not None:
                sets.append("secrets = ?")
                args.append(self._seal(db, secrets, f"connection:{link}") if secrets else None)
            if new_tokens:
                sets.append("generation = generation + 1")
            if release_lease is not None:
                sets.append("lease_owner = CASE WHEN lease_owner = ? THEN NULL "
                            "ELSE lease_owner END")
                sets.append("lease_until = CASE WHEN lease_owner = ? THEN NULL "
                            "ELSE lease_until END")
                args += [release_lease, release_lease]
            sets.append("updated_at = ?")
            args.append(self.clock())
            db.execute(f"UPDATE connections SET {', '.join(sets)} WHERE link_name = ?",
                       (*args, link))
            row = db.execute("SELECT * FROM connections WHERE link_name = ?", (link,)).fetchone()
        return ConnectionRow.from_sql(row)

    def _masker(self, db, link: str, current, secrets: dict | None):
        """Masks what this connection holds: its stored and new secrets, its service's."""
        values = [secrets or {}]
        for blob, where in ((current["secrets"], f"connection:{link}"),
                            (self._service_blob(db, current["service"]),
                             f"service:{current['service']}")):
            try:
                values.append(self.unseal(blob, where))
            except SecretKeyError:
                pass  # what we cannot open, we cannot have been told either
        return masker_for(values)

    @staticmethod
    def _service_blob(db, name: str):
        found = db.execute("SELECT secrets FROM services WHERE name = ?", (name,)).fetchone()
        return found[0] if found else None

    def masker(self, link: str):
        """A function masking every form of every secret connection `link` holds (for text
        about to be shown)."""
        row = self._read("SELECT service, secrets FROM connections WHERE link_name = ?", (link,))
        if not row:
            return masker_for([])
        return self._masker(self._db(), link, row[0], None)

    def touch(self, link: str, when: float) -> None:
        """Note a use; a lost race or a busy store here is not worth failing a call for."""
        try:
            self._db().execute("UPDATE connections SET last_used_at = ? WHERE link_name = ?",
                               (when, link))
        except self._DB_ERRORS:
            pass

    def delete(self, link: str) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM connections WHERE link_name = ?",
                              (link,)).rowcount > 0

    # ------------------------------------------------------------------ refresh leases

    def take_lease(self, link: str, holder: str, seconds: float) -> ConnectionRow | None:
        """Take the refresh lease of `link` for `seconds` and return the row as it is now, or
        None while someone else holds it."""
        now = self.clock()
        with self._transaction() as db:
            row = db.execute("SELECT * FROM connections WHERE link_name = ?" + self._FOR_UPDATE,
                             (link,)).fetchone()
            if row is None:
                raise StoreError(f"no connection named {link}")
            owner, until = row["lease_owner"], row["lease_until"]
            if owner and owner != holder and until and until > now and not _holder_is_gone(owner):
                return None
            db.execute("UPDATE connections SET lease_owner = ?, lease_until = ? "
                       "WHERE link_name = ?", (holder, now + seconds, link))
            row = db.execute("SELECT * FROM connections WHERE link_name = ?", (link,)).fetchone()
        return ConnectionRow.from_sql(row)

    def release_lease(self, link: str, holder: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE connections SET lease_owner = NULL, lease_until = NULL "
                       "WHERE link_name = ? AND lease_owner = ?", (link, holder))


class PostgresStore(OnPostgres, Store):
    """The store in PostgreSQL (SLUICE_DATABASE_URL): Store's logic on pgstore's plumbing."""


# ---------------------------------------------------------------------------- recovery


@dataclass(frozen=True)
class Recovery:
    saved: dict          # table -> rows copied into the new store
    lost: dict           # table -> rows (or runs of rows) that could not be read
    damaged_copy: Path   # where the damaged file now lies


def recover(home: str | os.PathLike | None = None) -> Recovery:
    """Copy every row that can still be read from a damaged store into a new one, which takes
    its place; the damaged file (and its -wal and -shm) is kept beside it under another name.
    Run it while no other process uses the store."""
    if os.environ.get(DATABASE_ENV):
        raise StoreError(f"the store is in the database of {DATABASE_ENV}, which keeps its own "
                         "crash safety: recover applies to the SQLite file of the embedded mode")
    home = Path(home) if home is not None else default_home()
    path = home / DB_FILE
    if not path.exists():
        raise StoreError(f"there is no store at {path}")
    fresh = path.with_name(DB_FILE + ".recovered")
    for leftover in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):
        leftover.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        source.execute("PRAGMA query_only = 1")
    except sqlite3.DatabaseError as e:
        raise StoreError(f"cannot open {path} to recover it: {e}") from None
    target = sqlite3.connect(fresh, isolation_level=None)
    saved, lost = {}, {}
    try:
        target.execute("BEGIN")
        for migration in MIGRATIONS:
            for statement in migration.split(";"):
                if statement.strip():
                    target.execute(statement)
        for table in ("meta", "services", "connections", "settings"):
            columns = [r[1] for r in target.execute(f"PRAGMA table_info({table})")]
            saved[table], lost[table] = _copy_rows(source, target, table, columns)
        target.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                       (str(SCHEMA_VERSION),))
        target.execute("COMMIT")
    finally:
        source.close()
        target.close()
    if os.name == "posix":
        os.chmod(fresh, 0o600)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    damaged = path.with_name(f"{DB_FILE}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            os.replace(part, f"{damaged}{suffix}")
    os.replace(fresh, path)
    return Recovery(saved=saved, lost=lost, damaged_copy=damaged)


def _copy_rows(source, target, table: str, columns: list[str]) -> tuple[int, int]:
    """(rows copied, rows lost) of one table: all at once when the table reads, else row by
    row by rowid, skipping what does not read."""
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    insert = f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({marks})"
    try:
        rows = source.execute(f"SELECT {names} FROM {table}").fetchall()
        target.executemany(insert, rows)
        return len(rows), 0
    except sqlite3.DatabaseError:
        pass
    try:
        top = source.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
    except sqlite3.DatabaseError:
        top = 10_000  # not known: look that far
    copied, failed, last_seen = 0, [], 0
    for rowid in range(1, top + 1):
        try:
            row = source.execute(f"SELECT {names} FROM {table} WHERE rowid = ?",
                                 (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            failed.append(rowid)
            continue
        if row is not None:
            target.execute(insert, row)
            copied += 1
            last_seen = rowid
    if top == 10_000:  # count as lost only what lay before a row that was read
        failed = [r for r in failed if r < last_seen] or failed[:1]
    return copied, len(failed)
