"""The workers that take runs from the queue and run them: `Executor` runs one claimed run (its
script, arguments, limits and the connections its binding allows), `Workers` is the pool."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from .queue import DONE, FAILED, Run, RunStore, worker_name


class Executor:
    """Runs one claimed run: its script, with its arguments, limits and allowed connections."""

    def __init__(self, home: Path | None = None, web=None, mail=None, code_cache=None):
        import runtime

        from ..adapters.mail import StoredMail
        from ..adapters.web import ConnectionsWeb
        from ..crm import ConfiguredCrm

        self.web = web or ConnectionsWeb(home=home)
        self.mail = mail or StoredMail(home)
        self.crm = ConfiguredCrm(home)
        self.runtime = runtime.Runtime(code_cache=code_cache)

    def execute(self, run: Run):
        import runtime
        from runtime.values import to_plain

        try:
            source = Path(run.script).read_text(encoding="utf-8-sig")
        except OSError as e:
            return FAILED, None, [], f"cannot read the script {run.script}: {e.strerror}", [], 0
        allowed = tuple(run.connections) if run.connections is not None else None
        services = runtime.Services.standard(web=AllowedWeb(self.web, allowed, run.binding),
                                             mail=self.mail, crm=self.crm)
        result = self.runtime.run(source, run.arguments, limits=runtime.Limits(**run.limits),
                                  services=services, filename=run.script)
        if result.ok:
            return DONE, to_plain(result.value), result.info, None, result.notes, \
                result.statements
        return FAILED, None, result.info, result.error.render(), result.notes, result.statements

    def close(self) -> None:
        self.web.close()


class AllowedWeb:
    """The Web of one binding: only the connections it lists (None: any)."""

    def __init__(self, web, allowed: tuple[str, ...] | None, binding: str):
        self.web, self.allowed, self.binding = web, allowed, binding

    def send(self, request, *, timeout, max_bytes):
        from runtime.hosts import WebFailure

        if request.connection and self.allowed is not None and \
                request.connection not in self.allowed:
            permitted = ", ".join(self.allowed) or "none"
            raise WebFailure(f"the binding '{self.binding}' may not use connection "
                             f"'{request.connection}' (it may use: {permitted})",
                             kind="connection")
        return self.web.send(request, timeout=timeout, max_bytes=max_bytes)


class Workers:
    """A bounded pool of threads taking runs from the store until stopped."""

    def __init__(self, store: RunStore, executor: Executor, threads: int = 4):
        self.store, self.executor, self.threads = store, executor, threads
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._pool: list[threading.Thread] = []

    def start(self) -> None:
        for n in range(self.threads):
            t = threading.Thread(target=self._loop, name=f"sluice-worker-{n}", daemon=True)
            t.start()
            self._pool.append(t)

    def notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the runs in progress (up to `timeout`); queued ones wait for the next start."""
        self._stopping.set()
        self.notify()
        deadline = time.monotonic() + timeout
        for t in self._pool:
            t.join(max(0.0, deadline - time.monotonic()))

    def _loop(self) -> None:
        worker = worker_name()
        self.store.relax_sync()
        while not self._stopping.is_set():
            try:
                run = self.store.claim(worker)
            except sqlite3.Error:
                run = None
            if run is None:
                with self._wake:
                    self._wake.wait(0.5)
                continue
            try:
                status, value, info, error, notes, statements = self.executor.execute(run)
            except Exception as e:  # a bug of ours: the run fails, the worker goes on
                status, value, info, error, notes, statements = (
                    FAILED, None, [], f"internal error: {type(e).__name__}", [], 0)
            self.store.finish(run.id, worker, status, value=value, info=info, error=error,
                              notes=notes, statements=statements)
