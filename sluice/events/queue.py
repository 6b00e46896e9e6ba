"""Runs of bound scripts: a persistent queue and the run history, and the workers that run them.

`RunStore` is one SQLite file, `$SLUICE_HOME/runs.db` (WAL). A run is written before the event is
acknowledged (`submit` commits with full sync), then claimed for a worker process (status
`running`, `attempts` + 1, a lease naming the server and the worker process, renewed by
heartbeats), then finished (`done` or `failed`, with the return value, info lines and error).

A run whose worker died or was killed at its time limit is queued again (`release`), up to
`max_attempts` tries in all; then it is failed with the reason, for good. A server that was
killed leaves `running` rows behind; `recover()` (at start and periodically) queues again those
whose worker process is gone and whose server is gone or stopped renewing the lease; a run whose
worker still lives is left to it. So delivery is at-least-once when a process crashes mid-run,
and once otherwise.

The queue is this small interface (submit, claim, heartbeat, finish, release, recover, get); a
distributed task queue can stand in for it when one machine is not enough.
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
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    runs TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_by_time ON idempotency (created_at);
"""
IDEMPOTENCY_WINDOW = 86400.0  # seconds an Idempotency-Key is remembered
ORPHAN_AFTER = 600.0  # seconds past its lease after which a run is taken back whatever its pid
SCHEMA_VERSION = 2
# Each step takes the file from version N to N + 1 (index 0: 1 -> 2).
MIGRATIONS = (
    # what started the run: an event ("event") or a call of a published function ("function")
    "ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'event';",
)
KINDS = ("event", "function")


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
    kind: str = "event"

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
                   statements=row["statements"], attempts=row["attempts"], kind=row["kind"])

    @property
    def duration_ms(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at) * 1000, 3)

    def to_dict(self) -> dict:
        """What `GET /runs/<id>` and `sluice runs show --json` give."""
        return {"id": self.id, "kind": self.kind, "event": self.event, "binding": self.binding,
                "script": self.script, "status": self.status, "return": self.value,
                "info": self.info or [], "error": self.error, "notes": self.notes or [],
                "created_at": self.created_at, "started_at": self.started_at,
                "finished_at": self.finished_at, "duration_ms": self.duration_ms,
                "attempts": self.attempts}


def new_run_id() -> str:
    """Sortable by creation time, unguessable: 12 hex digits of milliseconds + 8 random."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(4)}"


def worker_name(child_pid: int | None = None) -> str:
    """Who holds a run: `host:server pid:worker pid` (the same pid when a process runs it
    itself, as `sluice trigger` does)."""
    return f"{socket.gethostname()}:{os.getpid()}:{child_pid or os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    try:  # a zombie has ended
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def _orphaned(worker: str | None, lease_until: float | None, now: float) -> bool:
    """Whether a `running` run has no live process left to finish it."""
    lease_until = lease_until or 0.0
    if not worker or lease_until < now - ORPHAN_AFTER:
        return True
    host, server, child = (worker.split(":") + ["", ""])[:3]
    if host != socket.gethostname() or not server.isdigit():
        return lease_until < now  # another machine's: only its lease tells
    if child.isdigit() and int(child) < 1 << 22 and _pid_alive(int(child)):
        return False  # its worker still runs it: let it finish
    if int(server) == os.getpid():
        return lease_until < now  # ours: the slot that held it settles it, unless it could not
    return lease_until < now or not _pid_alive(int(server))


class IdempotencyConflict(Exception):
    """An Idempotency-Key already used for another request."""


class RunStore:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._connections = ThreadConnections(self.path, rows=True)
        self._db = self._connections.get
        self._transaction = self._connections.transaction
        db = self._db()
        db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring an older file up to SCHEMA_VERSION, one step at a time, each in a transaction;
        a newer file than this code knows is refused rather than misread."""
        with self._transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:  # a new file: the schema above lacks the later columns
                version = 1
            else:
                version = int(row[0])
            if version > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"{self.path} has schema version {version}; this Sluice knows up to "
                    f"{SCHEMA_VERSION}: upgrade Sluice")
            for step in MIGRATIONS[version - 1:]:
                db.execute(step)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
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

    def submit(self, event: str, bindings, payload: dict,
               idempotency: tuple[str, str] | None = None) -> tuple[list[str], bool]:
        """One queued run per binding, all in one transaction: durable when this returns.
        With `idempotency` (key, fingerprint of the request), a key seen before gives the runs
        it made then and False (nothing new); the same key on another request raises
        IdempotencyConflict."""
        now = time.time()
        rows = []
        for b in bindings:
            missing = b.missing_argument(payload)  # such a run fails at once, saying why
            rows.append((new_run_id(), event, b.name, str(b.script),
                         json.dumps(b.arguments_from(payload)), json.dumps(_limits(b.limits)),
                         json.dumps(list(b.connections)) if b.connections is not None else None,
                         FAILED if missing else QUEUED, now, missing, now if missing else None))
        ids = [r[0] for r in rows]
        with self._transaction() as db:
            if idempotency is not None:
                key, fingerprint = idempotency
                db.execute("DELETE FROM idempotency WHERE created_at < ?",
                           (now - IDEMPOTENCY_WINDOW,))
                seen = db.execute("SELECT fingerprint, runs FROM idempotency WHERE key = ?",
                                  (key,)).fetchone()
                if seen is not None:
                    if seen["fingerprint"] != fingerprint:
                        raise IdempotencyConflict(key)
                    return json.loads(seen["runs"]), False
                db.execute("INSERT INTO idempotency VALUES (?, ?, ?, ?)",
                           (key, fingerprint, json.dumps(ids), now))
            db.executemany("INSERT INTO runs (id, event, binding, script, arguments, limits, "
                           "connections, status, created_at, error, finished_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return ids, True

    def answered(self, key: str, fingerprint: str) -> list[str] | None:
        """The runs an Idempotency-Key made (None: not seen); IdempotencyConflict when the key
        came with another request."""
        row = self._db().execute("SELECT fingerprint, runs, created_at FROM idempotency "
                                 "WHERE key = ?", (key,)).fetchone()
        if row is None or row["created_at"] < time.time() - IDEMPOTENCY_WINDOW:
            return None
        if row["fingerprint"] != fingerprint:
            raise IdempotencyConflict(key)
        return json.loads(row["runs"])

    def claim(self, worker: str, lease: float = 300.0, run_id: str | None = None) -> Run | None:
        """Take the oldest queued run (or the one named) for `worker`."""
        if run_id is None and self._db().execute(
                "SELECT 1 FROM runs WHERE status = 'queued' LIMIT 1").fetchone() is None:
            return None  # a read, not the write lock, when there is nothing to take
        with self._transaction() as db:
            return self._claim(db, worker, lease, run_id)

    def _claim(self, db, worker: str, lease: float, run_id: str | None = None) -> Run | None:
        now = time.time()
        where = "id = ?" if run_id else \
            "seq = (SELECT seq FROM runs WHERE status = 'queued' ORDER BY seq LIMIT 1)"
        args = (run_id,) if run_id else ()
        row = db.execute(
            f"UPDATE runs SET status = 'running', started_at = ?, worker = ?, "
            f"lease_until = ?, attempts = attempts + 1 WHERE {where} AND status = 'queued' "
            "RETURNING *", (now, worker, now + lease, *args)).fetchone()
        return Run.from_row(row) if row else None

    def finish(self, run_id: str, worker: str, status: str, *, value=None, info=(),
               error: str | None = None, notes=(), statements: int | None = None,
               then_claim: float | None = None) -> bool | Run | None:
        """Record the end of a run this worker holds; False when it no longer does. With
        `then_claim` (a lease), claim the next run in the same transaction and return it (one
        write, not two, per run: the queue's lock is what busy servers wait for)."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, value = ?, info = ?, error = ?, "
                "notes = ?, statements = ?, worker = NULL, lease_until = NULL "
                "WHERE id = ? AND status = 'running' AND worker = ?",
                (status, time.time(), json.dumps(value) if value is not None else None,
                 json.dumps(list(info)), error, json.dumps(list(notes)), statements, run_id,
                 worker)).rowcount
            if then_claim is not None:
                return self._claim(db, worker, then_claim)
        return changed == 1

    def heartbeat(self, run_id: str, worker: str, lease: float) -> None:
        """The holder of a run is alive: extend its lease."""
        with self._transaction() as db:
            db.execute("UPDATE runs SET lease_until = ? WHERE id = ? AND status = 'running' "
                       "AND worker = ?", (time.time() + lease, run_id, worker))

    def release(self, worker: str, reason: str, max_attempts: int, *,
                counted: bool = True) -> list[tuple[str, bool]]:
        """The runs held by a worker that died or was killed: each queued again, or failed with
        `reason` once it has had `max_attempts` tries. Not `counted`: the server stopped it, the
        run is not to blame, and the try is given back. (run id, failed for good) of each."""
        with self._transaction() as db:
            held = db.execute("SELECT id, attempts, kind FROM runs WHERE status = 'running' "
                              "AND worker = ?", (worker,)).fetchall()
            return [(r["id"], self._settle(db, r["id"], r["attempts"], reason, max_attempts,
                                           counted, r["kind"])) for r in held]

    def _settle(self, db, run_id: str, attempts: int, reason: str, max_attempts: int,
                counted: bool = True, kind: str = "event") -> bool:
        if kind == "function":  # its caller has been answered (or gave up): never again
            db.execute("UPDATE runs SET status = 'failed', finished_at = ?, error = ?, "
                       "worker = NULL, lease_until = NULL WHERE id = ?",
                       (time.time(), reason, run_id))
            return True
        if counted and attempts >= max_attempts:
            db.execute("UPDATE runs SET status = 'failed', finished_at = ?, error = ?, "
                       "worker = NULL, lease_until = NULL WHERE id = ?",
                       (time.time(), f"{reason}; it ended its worker {attempts} times, so it "
                        "is not retried", run_id))
            return True
        db.execute("UPDATE runs SET status = 'queued', worker = NULL, lease_until = NULL, "
                   "started_at = NULL, attempts = ? WHERE id = ?",
                   (attempts if counted else max(0, attempts - 1), run_id))
        return False

    def recover(self, max_attempts: int = 3) -> int:
        """Settle the runs left `running` by processes that are gone (see `_orphaned`): queued
        again, or failed for good after `max_attempts` tries. How many were settled."""
        now = time.time()
        if self._db().execute("SELECT 1 FROM runs WHERE status = 'running' LIMIT 1"
                              ).fetchone() is None:
            return 0  # a read, not the write lock, when nothing runs
        with self._transaction() as db:
            stale = [(r["id"], r["attempts"], r["kind"]) for r in db.execute(
                "SELECT id, worker, lease_until, attempts, kind FROM runs "
                "WHERE status = 'running'") if _orphaned(r["worker"], r["lease_until"], now)]
            for run_id, attempts, kind in stale:
                self._settle(db, run_id, attempts, "the process running it stopped",
                             max_attempts, kind=kind)
        return len(stale)

    @staticmethod
    def new_call(function: str, script: str, arguments: dict, limits: dict,
                 connections: list | None) -> Run:
        """A call of a published function, about to be submitted (see submit_call)."""
        now = time.time()
        return Run(id=new_run_id(), event=function, binding=function, script=script,
                   arguments=arguments, limits=limits, connections=connections,
                   status=QUEUED, created_at=now, kind="function")

    def submit_call(self, run: Run) -> None:
        """Queue a call of a published function for the workers (its caller waits for it).
        Synced at checkpoints only, this write alone: a call lost with the machine is one
        whose caller got no answer, and the server thread's other writes (events) keep
        their full sync."""
        db = self._db()
        db.execute("PRAGMA synchronous = NORMAL")
        try:
            self._insert_call(run)
        finally:
            db.execute("PRAGMA synchronous = FULL")

    def _insert_call(self, run: Run) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO runs (id, event, binding, script, arguments, limits, "
                       "connections, status, created_at, kind) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
                       (run.id, run.event, run.binding, run.script, json.dumps(run.arguments),
                        json.dumps(run.limits),
                        json.dumps(run.connections) if run.connections is not None else None,
                        run.created_at, run.kind))

    # ------------------------------------------------------------------ history

    def get(self, run_id: str) -> Run | None:
        row = self._db().execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return Run.from_row(row) if row else None

    def list(self, limit: int = 20, status: str | None = None,
             event: str | None = None, offset: int = 0, kind: str | None = None) -> list[Run]:
        sql, args = "SELECT * FROM runs", []
        conditions = []
        if kind:
            conditions.append("kind = ?")
            args.append(kind)
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
