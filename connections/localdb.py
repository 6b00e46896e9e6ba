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
    def __init__(self, path: str | os.PathLike, *, rows: bool = False):
        self.path = Path(path)
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
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                 check_same_thread=False)
            if self.rows:
                db.row_factory = sqlite3.Row
            db.execute("PRAGMA busy_timeout = 30000")
            if db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                db.close()
                raise sqlite3.OperationalError("cannot use WAL mode on this file system")
            db.execute("PRAGMA synchronous = FULL")
            if os.name == "posix":
                os.chmod(self.path, 0o600)
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
