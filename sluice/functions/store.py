"""Published functions: what `sluice functions publish` keeps and `sluice serve` looks up on
every call, in one SQLite file, `$SLUICE_HOME/functions.db` (WAL, owner-only).

A published function is a link name (the last part of its URL), the script's text as it was
when published (so editing the file does not change what callers get until it is published
again), the entry function (None: the script's body, or its first function), the connections
it may use, its run limits, how many calls of it may run at once, and an API key of its own.

The key is shown once, when it is made (publish, rotate-key), and kept only as its SHA-256:
a key is 32 random bytes, so a plain hash is enough (no salt or slow hash is needed against
guessing), and a lookup by hash lets a caller's key be found without scanning. `owner_of_key`
compares the stored hash with `hmac.compare_digest`. Rotating replaces the hash in one
transaction, so the old key stops working at once.

The store is the small interface below (publish, get, list, unpublish, rotate_key,
owner_of_key); a server database can stand in for SQLite when the stores move.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from connections.localdb import ThreadConnections

DB_FILE = "functions.db"
KEY_PREFIX = "slk_"
DEFAULT_CONCURRENCY = 16
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS functions (
    name TEXT PRIMARY KEY,
    script_path TEXT NOT NULL,
    source TEXT NOT NULL,
    entry TEXT,
    connections TEXT,
    limits TEXT NOT NULL,
    concurrency INTEGER NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    published_at REAL NOT NULL,
    key_made_at REAL NOT NULL
);
"""
SCHEMA_VERSION = 1


class FunctionsError(Exception):
    """A request the store cannot do (an unknown name, a bad name); the message says why."""


@dataclass(frozen=True)
class Function:
    name: str
    script_path: str
    source: str = field(repr=False)
    entry: str | None
    connections: tuple[str, ...] | None  # None: any connection
    limits: dict
    concurrency: int
    published_at: float
    key_made_at: float

    def to_dict(self) -> dict:
        """What `sluice functions show --json` gives (never the key: it is not kept)."""
        return {"name": self.name, "script": self.script_path, "function": self.entry,
                "connections": list(self.connections) if self.connections is not None
                else None, "limits": self.limits, "concurrency": self.concurrency,
                "published_at": self.published_at, "key_made_at": self.key_made_at}


def valid_name(name: str) -> bool:
    return bool(NAME_PATTERN.match(name or ""))


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class FunctionStore:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._connections = ThreadConnections(self.path, rows=True)
        self._db = self._connections.get
        self._transaction = self._connections.transaction
        db = self._db()
        db.executescript(SCHEMA)
        db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                   (str(SCHEMA_VERSION),))

    @classmethod
    def open(cls, home: str | os.PathLike | None = None) -> "FunctionStore":
        from connections.store import default_home

        return cls(Path(home if home is not None else default_home()) / DB_FILE)

    def close(self) -> None:
        self._connections.close()

    def __enter__(self) -> "FunctionStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ publishing

    def publish(self, name: str, script_path: str, source: str, *, entry: str | None = None,
                connections: tuple[str, ...] | None = None, limits: dict | None = None,
                concurrency: int = DEFAULT_CONCURRENCY) -> tuple[Function, str | None]:
        """Publish `name` (or publish it again with a new script and settings). A new function
        gets a key, returned once; publishing again keeps the key it has (None is returned)."""
        if not valid_name(name):
            raise FunctionsError(f"'{name}' is not a function name: use letters, digits and _, "
                                 "starting with a letter (at most 64)")
        if concurrency < 1:
            raise FunctionsError("the concurrency is at least 1")
        now = time.time()
        key = None
        with self._transaction() as db:
            row = db.execute("SELECT key_hash FROM functions WHERE name = ?",
                             (name,)).fetchone()
            values = (script_path, source, entry,
                      json.dumps(list(connections)) if connections is not None else None,
                      json.dumps(limits or {}), concurrency, now)
            if row is None:
                key = new_key()
                db.execute("INSERT INTO functions (script_path, source, entry, connections, "
                           "limits, concurrency, published_at, name, key_hash, key_made_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (*values, name, key_hash(key), now))
            else:
                db.execute("UPDATE functions SET script_path = ?, source = ?, entry = ?, "
                           "connections = ?, limits = ?, concurrency = ?, published_at = ? "
                           "WHERE name = ?", (*values, name))
        return self.get(name), key

    def rotate_key(self, name: str) -> str:
        """A new key for `name`; the old one stops working when this returns."""
        key = new_key()
        with self._transaction() as db:
            changed = db.execute("UPDATE functions SET key_hash = ?, key_made_at = ? "
                                 "WHERE name = ?", (key_hash(key), time.time(), name)).rowcount
        if not changed:
            raise FunctionsError(f"no published function '{name}'")
        return key

    def unpublish(self, name: str) -> None:
        with self._transaction() as db:
            if not db.execute("DELETE FROM functions WHERE name = ?", (name,)).rowcount:
                raise FunctionsError(f"no published function '{name}'")

    # ------------------------------------------------------------------ looking up

    def get(self, name: str) -> Function | None:
        row = self._db().execute("SELECT * FROM functions WHERE name = ?", (name,)).fetchone()
        return _function(row) if row else None

    def list(self) -> list[Function]:
        return [_function(r) for r in
                self._db().execute("SELECT * FROM functions ORDER BY name")]

    def owner_of_key(self, key: str) -> str | None:
        """The name of the function whose key this is (None: no function's)."""
        if not key or len(key) > 200:
            return None
        digest = key_hash(key)
        row = self._db().execute("SELECT name, key_hash FROM functions WHERE key_hash = ?",
                                 (digest,)).fetchone()
        if row is None or not hmac.compare_digest(row["key_hash"], digest):
            return None
        return row["name"]


def _function(row) -> Function:
    return Function(name=row["name"], script_path=row["script_path"], source=row["source"],
                    entry=row["entry"],
                    connections=tuple(json.loads(row["connections"]))
                    if row["connections"] is not None else None,
                    limits=json.loads(row["limits"]), concurrency=row["concurrency"],
                    published_at=row["published_at"], key_made_at=row["key_made_at"])
