"""Runs of bound scripts: a persistent queue and the run history, and the workers that run them.

`RunStore` is one SQLite file, `$SLUICE_HOME/runs.db` (WAL). A run is written before the event is
acknowledged (`submit` commits with full sync), then claimed by a worker (status `running`, a
lease naming the process), then finished (`done` or `failed`, with the return value, info lines
and error). A server that was killed leaves `running` rows behind; `recover()` puts the ones whose
process is gone (or whose lease ran out) back in the queue, so every accepted event finishes.

The queue is this small interface (submit, claim, finish, recover, get); a distributed task
queue can stand in for it when one machine is not enough.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from connections.localdb import ThreadConnections

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
DB_FILE = "runs.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    binding TEXT NOT NULL,
    script TEXT NOT NULL,
    arguments TEXT NOT NULL,
    limits TEXT NOT NULL,
    connections TEXT,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    value TEXT,
    info TEXT,
    error TEXT,
    notes TEXT,
    statements INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    lease_until REAL
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, seq);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (created_at);
CREATE TABLE IF NOT EXISTS signatures (signature TEXT PRIMARY KEY, seen_at REAL NOT NULL);
"""
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Run:
    id: str
    event: str
    binding: str
    script: str
    arguments: dict
    limits: dict
    connections: list | None
    status: str
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    value: object = None
    info: list | None = None
    error: str | None = None
    notes: list | None = None
    statements: int | None = None
    attempts: int = 0

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Run":
        return cls(id=row["id"], event=row["event"], binding=row["binding"],
                   script=row["script"], arguments=json.loads(row["arguments"]),
                   limits=json.loads(row["limits"]),
                   connections=json.loads(row["connections"]) if row["connections"] else None,
                   status=row["status"], created_at=row["created_at"],
                   started_at=row["started_at"], finished_at=row["finished_at"],
                   value=json.loads(row["value"]) if row["value"] is not None else None,
                   info=json.loads(row["info"]) if row["info"] else [],
                   error=row["error"], notes=json.loads(row["notes"]) if row["notes"] else [],
                   statements=row["statements"], attempts=row["attempts"])

    @property
    def duration_ms(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at) * 1000, 3)

    def to_dict(self) -> dict:
        """What `GET /runs/<id>` and `sluice runs show --json` give."""
        return {"id": self.id, "event": self.event, "binding": self.binding,
                "script": self.script, "status": self.status, "return": self.value,
                "info": self.info or [], "error": self.error, "notes": self.notes or [],
                "created_at": self.created_at, "started_at": self.started_at,
                "finished_at": self.finished_at, "duration_ms": self.duration_ms,
                "attempts": self.attempts}


def new_run_id() -> str:
    """Sortable by creation time, unguessable: 12 hex digits of milliseconds + 8 random."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(4)}"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _process_gone(worker: str | None) -> bool:
    if not worker:
        return True
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class RunStore:
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
    def open(cls, home: str | os.PathLike | None = None) -> "RunStore":
        from connections.store import default_home

        return cls(Path(home if home is not None else default_home()) / DB_FILE)

    def relax_sync(self) -> None:
        """For this thread's writes (a worker's claim and finish): sync at checkpoints only.
        In WAL mode that survives a killed process; a power cut could lose the last status
        changes, which only makes runs run again. Submitted events are always fully synced."""
        self._db().execute("PRAGMA synchronous = NORMAL")


    def close(self) -> None:
        self._connections.close()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ the queue

    def submit(self, event: str, bindings, payload: dict) -> list[str]:
        """One queued run per binding, all in one transaction: durable when this returns."""
        now = time.time()
        rows = []
        for b in bindings:
            missing = b.missing_argument(payload)  # such a run fails at once, saying why
            rows.append((new_run_id(), event, b.name, str(b.script),
                         json.dumps(b.arguments_from(payload)), json.dumps(_limits(b.limits)),
                         json.dumps(list(b.connections)) if b.connections is not None else None,
                         FAILED if missing else QUEUED, now, missing, now if missing else None))
        with self._transaction() as db:
            db.executemany("INSERT INTO runs (id, event, binding, script, arguments, limits, "
                           "connections, status, created_at, error, finished_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return [r[0] for r in rows]

    def claim(self, worker: str, lease: float = 300.0, run_id: str | None = None) -> Run | None:
        """Take the oldest queued run (or the one named) for `worker`."""
        now = time.time()
        where = "id = ?" if run_id else \
            "seq = (SELECT seq FROM runs WHERE status = 'queued' ORDER BY seq LIMIT 1)"
        args = (run_id,) if run_id else ()
        with self._transaction() as db:
            row = db.execute(
                f"UPDATE runs SET status = 'running', started_at = ?, worker = ?, "
                f"lease_until = ?, attempts = attempts + 1 WHERE {where} AND status = 'queued' "
                "RETURNING *", (now, worker, now + lease, *args)).fetchone()
        return Run.from_row(row) if row else None

    def finish(self, run_id: str, worker: str, status: str, *, value=None, info=(),
               error: str | None = None, notes=(), statements: int | None = None) -> bool:
        """Record the end of a run this worker holds; False when it no longer does."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, value = ?, info = ?, error = ?, "
                "notes = ?, statements = ?, worker = NULL, lease_until = NULL "
                "WHERE id = ? AND status = 'running' AND worker = ?",
                (status, time.time(), json.dumps(value) if value is not None else None,
                 json.dumps(list(info)), error, json.dumps(list(notes)), statements, run_id,
                 worker)).rowcount
        return changed == 1

    def recover(self) -> int:
        """Queue again the runs left `running` by a process that is gone (or a lease that ran
        out): they had not finished."""
        now = time.time()
        with self._transaction() as db:
            stale = [r["id"] for r in db.execute(
                "SELECT id, worker, lease_until FROM runs WHERE status = 'running'")
                if _process_gone(r["worker"]) or (r["lease_until"] or 0) < now]
            for run_id in stale:
                db.execute("UPDATE runs SET status = 'queued', worker = NULL, lease_until = NULL,"
                           " started_at = NULL WHERE id = ? AND status = 'running'", (run_id,))
        return len(stale)

    # ------------------------------------------------------------------ history

    def get(self, run_id: str) -> Run | None:
        row = self._db().execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return Run.from_row(row) if row else None

    def list(self, limit: int = 20, status: str | None = None,
             event: str | None = None, offset: int = 0) -> list[Run]:
        sql, args = "SELECT * FROM runs", []
        conditions = []
        if status:
            conditions.append("status = ?")
            args.append(status)
        if event:
            conditions.append("event = ?")
            args.append(event)
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        sql += " ORDER BY seq DESC LIMIT ? OFFSET ?"
        args += [limit, max(0, offset)]
        return [Run.from_row(r) for r in self._db().execute(sql, args)]

    def counts(self) -> dict:
        rows = self._db().execute("SELECT status, COUNT(*) FROM runs GROUP BY status")
        return {r[0]: r[1] for r in rows}

    def prune(self, older_than_days: float) -> int:
        """Forget finished runs older than this (queued and running ones stay)."""
        cutoff = time.time() - older_than_days * 86400
        with self._transaction() as db:
            return db.execute("DELETE FROM runs WHERE status IN ('done', 'failed') AND "
                              "created_at < ?", (cutoff,)).rowcount

    def retention_days(self) -> float:
        row = self._db().execute("SELECT value FROM meta WHERE key = 'retention_days'").fetchone()
        return float(row[0]) if row else 30.0

    def set_retention_days(self, days: float) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('retention_days', ?)", (str(days),))

    # ------------------------------------------------------------------ replay protection

    def first_sight(self, signature: str, window: float) -> bool:
        """True the first time a signature is seen (within `window` seconds); a replay gives
        False. Old signatures are forgotten as they fall out of the window."""
        now = time.time()
        with self._transaction() as db:
            db.execute("DELETE FROM signatures WHERE seen_at < ?", (now - 2 * window,))
            try:
                db.execute("INSERT INTO signatures VALUES (?, ?)", (signature, now))
            except sqlite3.IntegrityError:
                return False
        return True


def _limits(limits) -> dict:
    return limits.as_dict()
