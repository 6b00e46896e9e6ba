"""The workers that take runs from the queue and run them: `Executor` runs one claimed run (its
script, arguments, limits and the connections its binding allows); `Pool` is the server's set
of worker processes, so that no script runs in a server thread: a run can be killed, and a
crash or a runaway loses one worker, never the server."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

from .queue import DONE, FAILED, Run, RunStore, worker_name

log = logging.getLogger("sluice.events.workers")


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
        """The run's script runs inside its app (sluice.app): its calls reach the functions of
        the files beside it."""
        import runtime
        from runtime.values import to_plain

        from ..app import AppError, app_of

        try:
            source = Path(run.script).read_text(encoding="utf-8-sig")
        except OSError as e:
            return FAILED, None, [], f"cannot read the script {run.script}: {e.strerror}", [], 0
        allowed = tuple(run.connections) if run.connections is not None else None
        owner = f"the function '{run.binding}'" if run.kind == "function" else \
            f"the binding '{run.binding}'"
        services = runtime.Services.standard(web=AllowedWeb(self.web, allowed, owner),
                                             mail=self.mail, crm=self.crm)
        try:
            app = app_of(run.script)
        except AppError as e:
            return FAILED, None, [], str(e), [], 0
        result = self.runtime.run(source, run.arguments, limits=runtime.Limits(**run.limits),
                                  services=services, filename=run.script, app=app)
        if result.ok:
            return DONE, to_plain(result.value), result.info, None, result.notes, \
                result.statements
        error = result.error
        where = f"{error.file}: " if getattr(error, "file", "") else ""  # another file's line
        return FAILED, None, result.info, where + error.render(), result.notes, \
            result.statements

    def close(self) -> None:
        self.web.close()


class AllowedWeb:
    """The Web of one binding or published function (`owner`, as messages name it: "the
    binding 'x'"): only the connections it lists (None: any)."""

    def __init__(self, web, allowed: tuple[str, ...] | None, owner: str):
        self.web, self.allowed, self.owner = web, allowed, owner

    def send(self, request, *, timeout, max_bytes):
        from runtime.hosts import WebFailure

        if request.connection and self.allowed is not None and \
                request.connection not in self.allowed:
            permitted = ", ".join(self.allowed) or "none"
            raise WebFailure(f"{self.owner} may not use connection "
                             f"'{request.connection}' (it may use: {permitted})",
                             kind="connection")
        return self.web.send(request, timeout=timeout, max_bytes=max_bytes)


# ---------------------------------------------------------------------- worker processes

MB = 1024 * 1024
# Seconds past a run's time limit before its worker is killed: the runtime stops a run itself
# at its limit, but only between statements, and a starved machine makes it late.
KILL_GRACE = 3.0
KILL_GRACE_SHARE = 0.1  # ... plus this share of the limit
LEASE = 30.0          # seconds a claim holds without a heartbeat
HEARTBEAT = 5.0       # seconds between a busy slot's lease renewals
START_TIMEOUT = 60.0  # seconds a new worker may take to be ready
SERVER_SECRETS = ("SLUICE_RUNNER_TOKEN", "SLUICE_SIGNING_SECRET", "SLUICE_ADMIN_TOKEN")
WORKER_NICENESS = 5   # scripts yield the CPU to the server, which must always answer
IDLE_LOOK = 2.0       # seconds between an idle worker's looks at the queue, unless notified


class WorkerProcess:
    """One warm worker: a child Python process that takes runs from the queue and runs them one
    at a time, telling its slot over a socket pair. It dies with the server (PR_SET_PDEATHSIG on
    Linux), lives under an OS memory limit, and is killed, never asked, when a run overstays."""

    def __init__(self, home: Path | None, memory_mb: int):
        import socket
        import sys
        from multiprocessing.connection import Connection

        import sluice

        ours, theirs = socket.socketpair()
        root = str(Path(sluice.__file__).resolve().parents[1])
        # the server's own tokens stay in the server
        env = {k: v for k, v in os.environ.items() if k not in SERVER_SECRETS}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        command = [sys.executable, "-c", "from sluice.events.workers import worker_main; "
                   "worker_main()", str(theirs.fileno()), str(os.getpid()), str(memory_mb),
                   str(home) if home is not None else ""]
        self.process = subprocess.Popen(command, env=env, pass_fds=(theirs.fileno(),),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        theirs.close()
        self.conn = Connection(ours.detach())
        self.pid = self.process.pid
        self.ready = False

    def wait_ready(self, timeout: float) -> bool:
        try:
            return self.conn.poll(timeout) and self.conn.recv() == ("ready",)
        except (EOFError, OSError):
            return False

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.conn.close()

    def close(self, timeout: float = 2.0) -> None:
        """Ask it to leave; kill it if it does not."""
        try:
            self.conn.send(None)
        except OSError:
            pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def how_it_ended(self) -> str:
        code = self.process.poll()
        if code is None:
            return "stopped answering"
        if code < 0:
            try:
                return f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"was killed by signal {-code}"
        return f"exited with status {code}"


def worker_main() -> None:
    """The worker process: `python -c ... FD SERVER_PID MEMORY_MB HOME`. It takes runs from
    the queue itself and records them (no round trip through the server per run) and tells its
    slot in the server what it is doing: ("started", run id, monotonic time, time limit),
    ("idle",) or ("retiring",) (grown too big), each saying that the run before is finished.
    The slot sends "claim" (look for work) or None (finish this run, take no other, leave)."""
    import sys
    from multiprocessing.connection import Connection

    fd, server, memory_mb, home = sys.argv[1:5]
    _die_with(int(server))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when workers stop
    os.nice(WORKER_NICENESS)
    conn = Connection(int(fd))
    limit = int(memory_mb) * MB
    if limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    home_path = _home(Path(home) if home else None)
    executor = Executor(home_path, code_cache=str(home_path / "code-cache"))
    store = RunStore.open(home_path)
    store.relax_sync()
    name = f"{worker_name().split(':')[0]}:{server}:{os.getpid()}"
    conn.send(("ready",))
    try:
        run = None
        while True:
            if run is None:
                try:
                    asked = conn.recv()
                except (EOFError, OSError):
                    return
                if asked is None:
                    return
                run = _claim(store, name)
                if run is None:
                    conn.send(("idle",))
                    continue
            conn.send(("started", run.id, time.monotonic(), float(run.limits.get("time") or 0)))
            while run is not None:  # one message per run: the next run starts, or idle
                status, value, info, error, notes, statements = _outcome(executor, run,
                                                                         memory_mb)
                worn_out = _worn_out(limit)
                chain = not worn_out and not conn.poll(0)  # a message waiting: the server stops
                try:
                    run = store.finish(run.id, name, status, value=value, info=info,
                                       error=error, notes=notes, statements=statements,
                                       then_claim=LEASE if chain else None)
                except sqlite3.Error:
                    run = None
                if worn_out:
                    conn.send(("retiring",))
                    return
                if not chain or run is None:
                    run = None
                    conn.send(("idle",))
                else:
                    conn.send(("started", run.id, time.monotonic(),
                               float(run.limits.get("time") or 0)))
    finally:
        executor.close()
        store.close()


def _claim(store: RunStore, name: str) -> Run | None:
    try:
        return store.claim(name, lease=LEASE)
    except sqlite3.Error:
        return None


def _outcome(executor: Executor, run: Run, memory_mb: str) -> tuple:
    try:
        return executor.execute(run)
    except MemoryError:
        return (FAILED, None, [], f"the run needed more than its worker's {memory_mb} MB of "
                "memory", [], 0)
    except Exception as e:  # a bug of ours: the run fails, the worker goes on
        return FAILED, None, [], f"internal error: {type(e).__name__}", [], 0


def _home(home: Path | None) -> Path:
    from connections.store import default_home

    return home if home is not None else default_home()


def _die_with(parent: int) -> None:
    """Be killed when the server dies, however it dies (Linux); elsewhere the lease runs out."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the server died before the line above
        os._exit(1)


def _worn_out(limit: int) -> bool:
    """After a run that grew the worker past half its memory limit: replace it (Python keeps
    freed memory), so the next run starts small."""
    if not limit:
        return False
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 > limit // 2


class Pool:
    """The server's worker processes, one slot thread each watching one warm worker. The worker
    claims, runs and records runs by itself; the slot knows which run it is on and since when,
    renews that run's lease, kills the worker when the run passes its time limit (plus a grace),
    replaces a worker that died, and settles the run it held: queued again, or failed for good
    after `max_attempts` tries."""

    def __init__(self, store: RunStore, home: Path | None, *, workers: int = 4,
                 max_attempts: int = 3, memory_mb: int = 1024, kill_grace: float = KILL_GRACE):
        self.store, self.home, self.size = store, home, workers
        self.max_attempts, self.memory_mb, self.kill_grace = max_attempts, memory_mb, kill_grace
        self._wake = threading.Condition()
        self._generation = 0  # counts notifications, so none is missed between two looks
        self._stopping = threading.Event()
        self._stop_deadline = float("inf")
        self._slots: list[threading.Thread] = []
        self._workers: dict[int, WorkerProcess] = {}
        self._guard = threading.Lock()
        self._ended = threading.Condition()  # a run ended: whoever waits for one looks
        self._ends = 0

    def start(self) -> None:
        for n in range(self.size):
            t = threading.Thread(target=self._slot, args=(n,), name=f"sluice-slot-{n}",
                                 daemon=True)
            t.start()
            self._slots.append(t)

    def notify(self) -> None:
        """There may be a queued run: wake one idle worker (all of them would race for it)."""
        with self._wake:
            self._generation += 1
            self._wake.notify()

    def ends(self) -> int:
        """How many times runs have ended so far (a count to pass to `wait_for_end`)."""
        return self._ends

    def wait_for_end(self, seen: int, timeout: float) -> int:
        """Wait until some run ends after `seen` (or `timeout`): a caller waiting for one run
        (a function call) looks at the store then, not on a clock."""
        with self._ended:
            if self._ends == seen:
                self._ended.wait(timeout)
            return self._ends

    def _run_ended(self) -> None:
        with self._ended:
            self._ends += 1
            self._ended.notify_all()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> int:
        """Wait until every worker is up (or `timeout`); how many are."""
        deadline = time.monotonic() + timeout
        while self.ready() < self.size and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.ready()

    def ready(self) -> int:
        """How many workers are up."""
        with self._guard:
            return sum(1 for w in self._workers.values() if w.ready)

    def stop(self, grace: float = 10.0) -> None:
        """Let the runs in progress finish for up to `grace` seconds, then kill their workers
        (those runs are queued again, not counted as tries)."""
        self._stop_deadline = time.monotonic() + grace
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        for t in self._slots:
            t.join(max(0.0, self._stop_deadline - time.monotonic()) + 5)
        with self._guard:
            left = list(self._workers.values())
        for w in left:
            w.kill()

    # ------------------------------------------------------------------ one slot

    def _slot(self, n: int) -> None:
        worker = None
        try:
            while not self._stopping.is_set():
                worker = self._replace(n, worker)
                if worker is None:
                    continue
                try:
                    self._watch(worker)
                except sqlite3.Error as e:  # the queue is unwell: a fresh start in a moment
                    log.warning("a worker slot could not reach the run queue: %s", e)
                    self._stopping.wait(1.0)
        finally:
            if worker is not None:
                worker.close()
                with self._guard:
                    self._workers.pop(n, None)

    def _replace(self, n: int, old: WorkerProcess | None) -> WorkerProcess | None:
        if old is not None:
            old.kill()
        while not self._stopping.is_set():
            worker = WorkerProcess(self.home, self.memory_mb)
            with self._guard:
                self._workers[n] = worker
            if worker.wait_ready(START_TIMEOUT):
                worker.ready = True
                return worker
            log.warning("a worker process did not start (it %s); trying again",
                        worker.how_it_ended())
            worker.kill()
            self._stopping.wait(1.0)
        return None

    def _watch(self, worker: WorkerProcess) -> None:
        """Follow `worker` until it must be replaced, or the server stops."""
        name = worker_name(worker.pid)
        run_id, deadline, limit, beat = None, float("inf"), 0.0, 0.0
        idle, asked, told_to_stop, seen = True, False, False, -1
        while True:
            if idle and not self._stopping.is_set():
                with self._wake:  # wait for news of queued runs (or look again in a while)
                    if self._generation == seen:
                        self._wake.wait(IDLE_LOOK)
            if self._stopping.is_set():
                if run_id is None and not asked:
                    return  # _slot closes the worker
                if not told_to_stop:  # let it finish this run, but take no other
                    told_to_stop = True
                    try:
                        worker.conn.send(None)
                    except OSError:
                        pass
            elif idle:
                seen = self._generation
                try:
                    worker.conn.send("claim")
                except OSError:
                    return
                idle, asked = False, True
            now = time.monotonic()
            try:
                message = worker.conn.recv() if worker.conn.poll(
                    max(0.0, min(0.5, deadline - now))) else None
            except (EOFError, OSError):  # it died (perhaps between a claim and its report)
                worker.kill()
                self._settle(worker, name, f"its worker process {worker.how_it_ended()}")
                return
            if message is not None:
                kind = message[0]
                asked = False  # each message also says the run before it is finished
                if run_id is not None:
                    self._run_ended()
                run_id, deadline = None, float("inf")
                if kind == "started":
                    run_id, started, limit = message[1], message[2], message[3]
                    deadline = started + limit * (1 + KILL_GRACE_SHARE) + self.kill_grace \
                        if limit else float("inf")
                    beat = started + HEARTBEAT
                elif kind == "retiring":  # it grew too big: it leaves, a fresh one comes
                    return
                else:
                    idle = True
                continue
            now = time.monotonic()
            if run_id is None:
                continue
            if now >= self._stop_deadline:  # stopping, and the grace is over
                worker.kill()
                self.store.release(name, "", self.max_attempts, counted=False)
                return
            if now >= deadline:
                worker.kill()
                self._settle(worker, name, f"it passed its time limit of {limit:g} s and was "
                             "stopped (its worker process was replaced)")
                return
            if now >= beat:
                self.store.heartbeat(run_id, name, LEASE)
                beat = now + HEARTBEAT

    def _settle(self, worker: WorkerProcess, name: str, reason: str) -> None:
        """The runs the (dead) worker held: queued again, or failed for good."""
        for run_id, final in self.store.release(name, reason, self.max_attempts):
            log.warning("run %s: %s%s", run_id, reason,
                        "; failed for good" if final else "; queued again")
        self._run_ended()
