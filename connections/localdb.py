"""SQLite files of $SLUICE_HOME that threads share (the connections store, the run queue, the
local CRM records): one connection per thread, WAL, fully synced, readable by the owner only,
all closed together."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path


class ThreadConnections:
    def __init__(self, path: str | os.PathLike, *, rows: bool = False, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only  # for a file that cannot be written: see open_read_only
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.rows = rows  # rows as sqlite3.Row (by name) rather than tuples
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._guard = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """This thread's connection (made on first use); sqlite3.DatabaseError when the file
        cannot be opened so."""
        db = getattr(self._local, "db", None)
        if db is None:
            if self.read_only:
                db = open_read_only(self.path)
            else:
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                     check_same_thread=False)
            if self.rows:
                db.row_factory = sqlite3.Row
            db.execute("PRAGMA busy_timeout = 30000")
            if not self.read_only:
                if db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                    db.close()
                    raise sqlite3.OperationalError("cannot use WAL mode on this file system")
                db.execute("PRAGMA synchronous = FULL")
                if os.name == "posix":
                    try:
                        os.chmod(self.path, 0o600)
                    except OSError:
                        pass  # a read-only file system: nothing can be written there anyway
            self._local.db = db
            with self._guard:
                self._all.append(db)
        return db

    @contextmanager
    def transaction(self):
        """One write transaction on this thread's connection: all of it stays, or none."""
        db = self.get()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._guard:
            for db in self._all:
                try:
                    db.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()


def pending_changes(path: Path) -> bool:
    """True when `path` has a write-ahead log with changes not yet folded into the file."""
    try:
        return Path(f"{path}-wal").stat().st_size > 0
    except OSError:
        return False


def open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that only reads `path` and touches nothing beside it (no -shm, no -wal):
    for a file on a read-only or full file system. Only safe when no write-ahead log holds
    changes (pending_changes), which it would not see."""
    from urllib.parse import quote

    return sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True,
                           isolation_level=None, check_same_thread=False)
