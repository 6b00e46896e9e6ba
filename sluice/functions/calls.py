"""Calling a published function: what it takes, the arguments a caller sent, running it, and
the answer in the shape of Zoho's REST API functions.

    entry = prepare(source, "send_summary", "scripts/summary.dg")   # at publish and at load
    values = entry.bind(arguments)           # BadArguments (a 400) when missing or unknown
    outcome = runner.run_now(run)            # the one place a call runs (in a worker)
    status, body = answer(outcome, run.id)   # Zoho's {"code", "details", "message"}

**What a function takes.** With `--function NAME` the entry is that function of the script: its
parameters are the arguments. The runnable text keeps every function definition where it was
(so error lines are the file's lines), blanks the script's own statements, and adds one last
line that calls NAME with its parameters. Without it, a script of functions only runs its
first function (the runtime's own rule), and a script with statements runs them: its
parameters are the variables it reads before it sets them; one that reads `input.<name>`
takes any argument.

**Arguments** come as text from a query string or a form; a typed parameter (`int n`,
`map data`, `bool flag`) gets its text converted here, so `?n=5` works as Zoho's callers
expect, and a value that does not convert is a 400 naming the argument.

**Running.** `Runner.run_now(run)` queues the call as a run of kind `function` and wakes the
server's worker processes, as an event's run is (so a call runs with its arguments, limits and
allowed connections, never in a server thread); the worker records it, and `run_now` waits
for that record and returns its Outcome. A call past its time limit is stopped by the runtime
or, when it is stuck where the runtime cannot look at the clock, its worker is killed: either
way it is answered 504, and a call is never run again (its caller has had its answer).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .store import FunctionsError

RESERVED_ARGUMENTS = ("zapikey", "auth_type", "arguments")
# A parameter of this name gets the whole request (Zoho's serverless functions do the same):
# {"params", "headers", "body", "method", "auth_type", "user_info"}; callers never send it.
REQUEST_PARAMETER = "crmAPIRequest"

_NUMBER_TYPES = ("int", "integer", "bigint", "long", "number")
_DECIMAL_TYPES = ("decimal", "float", "double")
_BOOL_TYPES = ("bool", "boolean")
_MAP_TYPES = ("map",)
_LIST_TYPES = ("list", "collection")


class BadArguments(Exception):
    """The arguments do not fit the function: the message says which and why."""

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # lower case, as declared; "" when the script's body reads it


@dataclass(frozen=True)
class Entry:
    """What a published function runs and takes."""

    source: str  # the runnable text (with the call of the entry function added)
    params: tuple[Param, ...]
    takes_any: bool  # reads input.<name>: unknown arguments are not refused

    def signature(self) -> str:
        return ", ".join(f"{p.type} {p.name}".strip() for p in self.params)

    @property
    def wants_request(self) -> bool:
        return any(p.name == REQUEST_PARAMETER for p in self.params)

    def bind(self, arguments: dict, request: dict | None = None) -> dict:
        """The script's arguments from a caller's: converted to the declared types; missing
        and unknown ones refused together. A function that takes the request (`request`, as
        crmAPIRequest) reads what else was sent there: nothing sent is unknown to it."""
        arguments = {k: v for k, v in arguments.items() if k not in RESERVED_ARGUMENTS}
        if self.wants_request:
            arguments[REQUEST_PARAMETER] = request if request is not None else {}
        names = {p.name for p in self.params}
        missing = [p.name for p in self.params if p.name not in arguments]
        unknown = [] if self.takes_any or self.wants_request else \
            sorted(k for k in arguments if k not in names)
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing argument{'s' if len(missing) > 1 else ''}: "
                             + ", ".join(missing))
            if unknown:
                parts.append(f"unknown argument{'s' if len(unknown) > 1 else ''}: "
                             + ", ".join(unknown))
            raise BadArguments("; ".join(parts) + f" (the function takes: "
                               f"{', '.join(p.name for p in self.params) or 'no arguments'})",
                               {"missing": missing, "unknown": unknown,
                                "parameters": [p.name for p in self.params]})
        values = dict(arguments)
        for p in self.params:
            values[p.name] = convert(p, arguments[p.name])
        return values


def prepare(source: str, entry: str | None, filename: str) -> Entry:
    """The Entry of a script; FunctionsError when it does not parse or has no such function."""
    from dsl import ast as A
    from dsl import parse
    from dsl.errors import DelugeSyntaxError

    try:
        script = parse(source, filename)
    except DelugeSyntaxError as e:
        raise FunctionsError(e.render() if hasattr(e, "render") else str(e)) from None
    functions = script.functions
    if entry:
        wanted = entry.rpartition(".")[2]
        found = [f for f in functions if f.name == wanted]
        if not found:
            known = ", ".join(f.name for f in functions) or "none"
            raise FunctionsError(f"{filename} has no function '{entry}' (its functions: "
                                 f"{known})")
        f = found[0]
        lines = source.split("\n")
        for item in script.items:  # the script's own statements do not run
            if not isinstance(item, A.FunctionDef):
                line, _, end_line, _ = item.span
                for n in range(line - 1, min(end_line, len(lines))):
                    lines[n] = ""
        args = ", ".join(p.name for p in f.params)
        call = f"{f.name}({args});" if f.return_type == "void" else f"return {f.name}({args});"
        return Entry("\n".join(lines) + "\n" + call + "\n",
                     tuple(Param(p.name, p.type) for p in f.params), False)
    if not script.body and functions:
        f = functions[0]
        return Entry(source, tuple(Param(p.name, p.type) for p in f.params), False)
    names, takes_any = body_inputs(script.body)
    return Entry(source, tuple(Param(n, "") for n in names), takes_any)


def body_inputs(body) -> tuple[list[str], bool]:
    """The variables a script body reads before it sets them (its arguments), in the order
    they first appear, and whether it reads `input.<name>` (then it takes any argument)."""
    from dsl import ast as A
    from runtime.compile import SYSTEM_ROOTS, SYSTEM_VARIABLES
    from runtime.names import read_names
    from runtime.types import assigned_before_read

    bare: set[str] = set()  # `type: GET` in a task: a word, not a variable

    def tasks(node):
        if type(node) is A.Task:
            for task_entry in node.entries:
                bare.update(v.name for v in task_entry.values if type(v) is A.Name)
        if isinstance(node, tuple):
            for n in node:
                tasks(n)
        elif isinstance(node, A.Node):
            for name in node._compared:
                tasks(getattr(node, name))

    tasks(body)
    read: dict[str, None] = {}
    for statement in body:
        for name in sorted(read_names(statement, set())):
            read.setdefault(name, None)
    skip = (set(SYSTEM_ROOTS) | SYSTEM_VARIABLES | {"today", "now"} | bare
            | assigned_before_read(body))
    return [n for n in read if n not in skip], "input" in read


def convert(param: Param, value):
    """A caller's value for a typed parameter; BadArguments when it cannot be one."""
    t = param.type

    def bad(want: str):
        shown = value if isinstance(value, str) else json.dumps(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return BadArguments(f"argument '{param.name}': want {want}, got {shown!r}",
                            {"argument": param.name, "want": want})

    if t in _NUMBER_TYPES:
        if isinstance(value, bool):
            raise bad("a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise bad("a whole number")
    if t in _DECIMAL_TYPES:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise bad("a number")
    if t in _BOOL_TYPES:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise bad("true or false")
    if t in _MAP_TYPES or t in _LIST_TYPES:
        want, kind = ("a JSON object", dict) if t in _MAP_TYPES else ("a JSON array", list)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                raise bad(want) from None
        if not isinstance(value, kind):
            raise bad(want)
        return value
    if t in ("string", "text") and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) \
            else ("true" if value is True else "false" if value is False else
                  "" if value is None else str(value))
    return value


def runnable_file(home: Path, name: str, source: str) -> Path:
    """The runnable text of a published function as a file of the Sluice home (named by its
    hash, so a run in the history names the exact text it ran, and workers read it as they
    read any script)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    folder = Path(home) / "functions"
    path = folder / f"{name}.{digest}.dg"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = folder / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(source, encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    return path


# ---------------------------------------------------------------------------- running


@dataclass
class Outcome:
    status: str  # "done", "failed" or "timeout"
    value: object = None  # the return value, as JSON-ready Python
    info: list | None = None
    error: str | None = None  # rendered, Deluge style
    line: int = 0
    notes: list | None = None
    statements: int = 0


class Runner:
    """Runs function calls in the server's worker processes, which record them in the run
    history: `run_now(run)` is the only way in (see the module's docstring)."""

    def __init__(self, store, pool):
        self.store, self.pool = store, pool

    def run_now(self, run) -> Outcome:
        import time

        seen = self.pool.ends()
        self.store.submit_call(run)
        self.pool.notify()
        limit = float(run.limits.get("time") or 0)
        # the pool kills a run at its limit plus a grace; this is only a backstop
        give_up = time.monotonic() + (limit * 1.2 + 60 if limit else 86400)
        while True:
            found = self.store.get(run.id)
            if found is not None and found.status in ("done", "failed"):
                return outcome_of(found)
            if time.monotonic() > give_up:
                return Outcome("timeout", error=f"the function ran past its time limit of "
                                                f"{limit:g} s", info=[])
            seen = self.pool.wait_for_end(seen, 0.05)

    def close(self) -> None:
        pass


TIMEOUT_MARKS = ("took longer than the time limit", "passed its time limit")


def outcome_of(run) -> Outcome:
    """The Outcome of a finished run, as its worker recorded it."""
    import re

    if run.status == "done":
        return Outcome("done", run.value, run.info, notes=run.notes,
                       statements=run.statements or 0)
    error = run.error or "the function failed"
    line = re.match(r"Error at line (\d+):", error)
    timed_out = any(mark in error for mark in TIMEOUT_MARKS)
    if error.startswith("it "):  # the pool's words for a run it stopped
        error = "the function " + error[3:]
    return Outcome("timeout" if timed_out else "failed", None, run.info, error,
                   int(line.group(1)) if line else 0, run.notes, run.statements or 0)


# ---------------------------------------------------------------------------- answers


def output_type(value) -> str:
    """The Deluge type of a return value, as the answer names it."""
    from runtime.values import is_list, is_map, type_name

    if value is None:
        return "void"
    if is_map(value):
        return "map"
    if is_list(value):
        return "list"
    return {"TEXT": "string", "NUMBER": "number", "DECIMAL": "decimal", "BOOLEAN": "boolean",
            "DATE": "date", "DATE-TIME": "datetime", "TIME": "time"}.get(type_name(value),
                                                                            "string")


def success(value, info, run_id: str) -> dict:
    from runtime.values import to_plain, to_text

    kind = output_type(value)
    if kind in ("map", "list", "number", "decimal", "boolean"):
        output = to_plain(value)
    elif value is None:
        output = ""
    else:
        output = to_text(value)
    return {"code": "success",
            "details": {"output": output, "output_type": kind, "id": run_id,
                        "userMessage": list(info or [])},
            "message": "function executed successfully"}


def failure(code: str, message: str, **details) -> dict:
    return {"code": code, "details": details, "message": message}


def answer(outcome: Outcome, run_id: str) -> tuple[int, dict]:
    """The HTTP status and body for a finished call."""
    if outcome.status == "done":
        return 200, success(outcome.value, outcome.info, run_id)
    if outcome.status == "timeout":
        return 504, failure("TIMEOUT", outcome.error or "the function took too long",
                            id=run_id, userMessage=list(outcome.info or []))
    return 500, failure("FUNCTION_ERROR", outcome.error or "the function failed", id=run_id,
                        line=outcome.line, userMessage=list(outcome.info or []))
