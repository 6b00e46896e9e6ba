"""`sluice events check`, `sluice trigger`, `sluice serve` and `sluice runs ...`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import EXIT_FAILED, EXIT_OK, UsageError, command_help, show_help


def _bindings(path: str | None):
    from ..events.bindings import DEFAULT_FILE, BindingError, Bindings

    try:
        return Bindings.load(path or DEFAULT_FILE)
    except BindingError as e:
        raise UsageError(str(e)) from None


def cmd_events_check(args) -> int:
    bindings = _bindings(args.bindings)
    problems = bindings.check()
    for b in bindings.bindings:
        allowed = "any connection" if b.connections is None else (
            "connections: " + (", ".join(b.connections) or "none"))
        print(f"{b.event:<24} -> {b.script}  ({allowed})")
    for problem in problems:
        print(problem, file=sys.stderr)
    count = len(bindings.bindings)
    if problems:
        print(f"{len(problems)} problem(s) in {count} binding(s)", file=sys.stderr)
        return EXIT_FAILED
    print(f"{count} binding(s) ok in {bindings.path}")
    return EXIT_OK


def _payload(source: str | None) -> dict:
    if source is None:
        return {}
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"--payload {source}: {e.strerror}") from None
    try:
        payload = json.loads(text) if text.strip() else {}
    except ValueError as e:
        raise UsageError(f"--payload {source}: not JSON ({e})") from None
    if not isinstance(payload, dict):
        raise UsageError(f"--payload {source}: must be a JSON object")
    return payload


def cmd_trigger(args) -> int:
    from ..events.bindings import valid_event_name
    from ..events.queue import DONE, RunStore, worker_name
    from ..events.workers import Executor

    if not valid_event_name(args.event):
        raise UsageError(f"'{args.event}' is not an event name")
    bindings = _bindings(args.bindings)
    matched = bindings.matching(args.event)
    if not matched:
        raise UsageError(f"no binding for event '{args.event}' in {bindings.path}")
    payload = _payload(args.payload)
    store = RunStore.open()
    executor = Executor()
    worker = worker_name()
    reports, failed = [], 0
    try:
        for run_id in store.submit(args.event, matched, payload)[0]:
            run = store.claim(worker, run_id=run_id)  # None: it failed before it could start
            if run is not None:
                status, value, info, error, notes, statements = executor.execute(run)
                store.finish(run.id, worker, status, value=value, info=info, error=error,
                             notes=notes, statements=statements)
            finished = store.get(run_id)
            reports.append(finished.to_dict())
            failed += finished.status != DONE
            if not args.json:
                _print_run(finished)
    finally:
        executor.close()
        store.close()
    if args.json:
        print(json.dumps(reports, indent=2, ensure_ascii=False))
    return EXIT_FAILED if failed else EXIT_OK


def _print_run(run) -> None:
    took = f"{run.duration_ms:.1f} ms" if run.duration_ms is not None else "-"
    print(f"run {run.id}  {run.binding}: {run.status} ({took})")
    for line in run.info or []:
        print(f"  info: {line}")
    for note in run.notes or []:
        print(f"  note: {note}")
    if run.error:
        print(f"  {run.error}")
    elif run.status == "done":
        from runtime.values import from_plain, to_text

        print(f"  returned: {to_text(from_plain(run.value)) if run.value is not None else '-'}")


def cmd_serve(args) -> int:
    import logging
    import signal
    import threading

    from ..events.server import ServeError, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        stream=sys.stderr)
    stop = threading.Event()

    def request_stop(signum, frame):
        print(f"stopping: the runs in progress get {args.grace:g} s to finish...",
              file=sys.stderr, flush=True)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    def ready(host, port, recovered):
        extra = f"; {recovered} unfinished run(s) taken back" if recovered else ""
        print(f"sluice serve: listening on http://{host}:{port} (bindings: "
              f"{args.bindings or 'scripts/events.toml'}){extra}", flush=True)

    try:
        serve(Path(args.bindings) if args.bindings else _default_bindings(), host=args.host,
              port=args.port, workers=args.workers, on_ready=ready, stop_event=stop,
              grace=args.grace, max_attempts=args.max_attempts,
              worker_memory=args.worker_memory, recover_every=args.recover_every)
    except ServeError as e:
        raise UsageError(str(e)) from None
    except Exception as e:
        from ..events.bindings import BindingError

        if isinstance(e, BindingError):
            raise UsageError(str(e)) from None
        raise
    print("sluice serve: stopped", file=sys.stderr)
    return EXIT_OK


def _default_bindings() -> Path:
    from ..events.bindings import DEFAULT_FILE

    return DEFAULT_FILE


def cmd_runs_list(args) -> int:
    from ..events.queue import RunStore

    with RunStore.open() as store:
        runs = store.list(limit=args.limit, status=args.status, event=args.event,
                          kind=args.kind)
    if args.json:
        print(json.dumps([r.to_dict() for r in runs], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not runs:
        print("no runs yet")
        return EXIT_OK
    from connections.model import iso_time

    rows = [(r.id, iso_time(r.created_at), r.status,
             f"{r.duration_ms:.1f} ms" if r.duration_ms is not None else "-", r.event, r.binding,
             _result_of(r)) for r in runs]
    widths = [max(len(row[i]) for row in rows + [RUNS_HEADER]) for i in range(6)]
    for row in [RUNS_HEADER] + rows:
        print("  ".join(cell.rjust(w) if i == 3 else cell.ljust(w)
                        for i, (cell, w) in enumerate(zip(row, widths))) + "  " + row[6])
    return EXIT_OK


RUNS_HEADER = ("ID", "CREATED", "STATUS", "TOOK", "EVENT", "BINDING", "RESULT")
RESULT_WIDTH = 50


def _result_of(run) -> str:
    """A run's return value or error, on one line and shortened, for `sluice runs list`."""
    if run.status == "failed":
        text = run.error or "failed"
    elif run.status == "done":
        from runtime.values import from_plain, to_text

        text = "null" if run.value is None else to_text(from_plain(run.value))
    else:
        text = "-"
    text = " ".join(text.split())
    return text if len(text) <= RESULT_WIDTH else text[:RESULT_WIDTH - 3] + "..."


def cmd_runs_show(args) -> int:
    from ..events.queue import RunStore

    with RunStore.open() as store:
        run = store.get(args.id)
    if run is None:
        print(f"sluice runs show: no run {args.id}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(run.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_run(run)
        print(f"  event: {run.event}; script: {run.script}; attempts: {run.attempts}")
    return EXIT_OK


def cmd_runs_prune(args) -> int:
    from ..events.queue import RunStore

    with RunStore.open() as store:
        days = args.older_than if args.older_than is not None else store.retention_days()
        removed = store.prune(days)
    print(f"{removed} finished run(s) older than {days:g} days removed")
    return EXIT_OK


def cmd_runs_retention(args) -> int:
    from ..events.queue import RunStore

    if args.days is not None and args.days <= 0:
        raise UsageError("the retention is a number of days above 0")
    with RunStore.open() as store:
        if args.days is not None:
            store.set_retention_days(args.days)
        days = store.retention_days()
    print(f"finished runs are kept {days:g} days (pruned when the server starts, or by "
          "sluice runs prune)")
    return EXIT_OK


def add_parser(sub, name: str) -> None:
    """Build the parser of command `name` (events, trigger, serve or runs)."""
    if name == "events":
        _events_parser(sub)
    elif name == "trigger":
        _trigger_parser(sub)
    elif name == "serve":
        _serve_parser(sub)
    else:
        _runs_parser(sub)


def _events_parser(sub) -> None:
    events = sub.add_parser("events", help=command_help("events"),
                            description="Check the bindings file: its tables, and that every "
                                        "bound script parses and compiles.")
    es = events.add_subparsers(dest="action", metavar="ACTION")
    p = es.add_parser("check", help="validate the bindings file and every bound script")
    p.add_argument("--bindings", metavar="FILE", help="default: scripts/events.toml")
    p.set_defaults(run=cmd_events_check)
    events.set_defaults(run=lambda args: show_help(events))


def _trigger_parser(sub) -> None:
    p = sub.add_parser("trigger", help=command_help("trigger"),
                       description="Run every script bound to EVENT, here and now, with the "
                                   "payload's keys as arguments, and print each result. The "
                                   "runs are kept in the run history.")
    p.add_argument("event", metavar="EVENT")
    p.add_argument("--payload", metavar="FILE", help="a JSON object ('-': standard input)")
    p.add_argument("--bindings", metavar="FILE", help="default: scripts/events.toml")
    p.add_argument("--json", action="store_true", help="print the runs as JSON")
    p.set_defaults(run=cmd_trigger)


def _serve_parser(sub) -> None:
    p = sub.add_parser("serve", help=command_help("serve"),
                       description="Serve POST /events/<name> (JSON payload), GET /runs/<id>, "
                                   "GET /health, and /admin/connections with "
                                   "SLUICE_ADMIN_TOKEN. Callers need Authorization: Bearer "
                                   "$SLUICE_RUNNER_TOKEN or an X-Sluice-Signature header "
                                   "(HMAC-SHA256 of '<t>.<body>' with $SLUICE_SIGNING_SECRET). "
                                   "Accepted events are stored before the answer and survive a "
                                   "restart. Scripts run in worker processes: one past its time "
                                   "limit is killed and its worker replaced. SIGTERM or Ctrl-C "
                                   "stops it gracefully.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--bindings", metavar="FILE", help="default: scripts/events.toml")
    p.add_argument("--workers", type=_positive(int), default=4,
                   help="worker processes: scripts run at once (default 4)")
    p.add_argument("--grace", type=_positive(float), default=10.0, metavar="SECONDS",
                   help="on SIGTERM, how long runs in progress may go on before their "
                        "workers are killed and the runs queued for the next start "
                        "(default 10)")
    p.add_argument("--max-attempts", type=_positive(int), default=3, metavar="N",
                   help="a run whose worker crashes or is killed at its time limit is tried "
                        "again, N tries in all, then failed (default 3)")
    p.add_argument("--worker-memory", type=_positive(int, zero=True), default=1024, metavar="MB",
                   help="the memory (address space) each worker process may use; 0: no "
                        "limit (default 1024)")
    p.add_argument("--recover-every", type=_positive(float), default=10.0, metavar="SECONDS",
                   help="how often runs left by a dead server or worker are taken back "
                        "(default 10)")
    p.set_defaults(run=cmd_serve)


def _positive(kind, zero: bool = False):
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value >= 0 or (value == 0 and not zero):
            raise argparse.ArgumentTypeError(f"{text} must be above 0")
        return value

    return convert


def _runs_parser(sub) -> None:
    runs = sub.add_parser("runs", help=command_help("runs"),
                          description="Every run of a bound script or call of a published "
                                      "function: event or function, script, times, "
                                      "status, return value, info lines, error.")
    rs = runs.add_subparsers(dest="action", metavar="ACTION")
    p = rs.add_parser("list", help="the latest runs, with their return value or error")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--status", choices=["queued", "running", "done", "failed"])
    p.add_argument("--event", metavar="NAME", help="an event's runs, or a function's calls")
    p.add_argument("--kind", choices=["event", "function"],
                   help="runs of events, or calls of published functions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_runs_list)
    p = rs.add_parser("show", help="one run, whole")
    p.add_argument("id", metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_runs_show)
    p = rs.add_parser("prune", help="forget finished runs past the retention")
    p.add_argument("--older-than", type=float, metavar="DAYS")
    p.set_defaults(run=cmd_runs_prune)
    p = rs.add_parser("retention", help="show or set how many days finished runs are kept")
    p.add_argument("days", type=float, nargs="?", metavar="DAYS")
    p.set_defaults(run=cmd_runs_retention)
    runs.set_defaults(run=lambda args: show_help(runs))
