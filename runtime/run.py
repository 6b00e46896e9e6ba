"""Running compiled scripts: the run context, results, and the Runtime that keeps compiled code.

    result = runtime.run('info "hi " + name; return 1;', {"name": "Ann"})
    result.value, result.info, result.error, result.statements, result.duration
"""

from __future__ import annotations

import datetime
import sys
import time
from collections import OrderedDict

from .code import (CATCHABLE, FILENAME_PREFIX, NO_RETURN, Compiled, script_filename,
                   source_key, tb_where)
from .errors import DelugeError, LimitExceeded, StaticErrors
from .limits import (LOOK_EVERY, Limits, check_source, current_run, memory_exceeded,
                     process_memory, time_up)
from .rt import python_error_message
from .services import TASK_TITLES, Services
from .values import (Collection, TypedList, equal, from_plain, is_list, measure_printed,
                     to_plain, to_text)

_CONTAINERS = frozenset({dict, list, TypedList, Collection})
CHECK_EVERY = 1000  # statements between looks at the clock
# What a checkpoint counts towards the next look at the memory (every fourth one): statements
# that each make a few small values add up too.
CHECKPOINT_CHARGE = LOOK_EVERY // 4


class Result:
    """What a run gave: its return value, its info lines, its error (or None), stats, and notes
    from its tasks for whoever runs it (not the script's output: "mail went to the outbox")."""

    __slots__ = ("value", "info", "error", "statements", "duration", "notes", "variables",
                 "form", "returned")

    def __init__(self, value=None, info=None, error=None, statements=0, duration=0.0,
                 notes=None, variables=None, form=None, returned=True):
        self.value = value
        # False when the script ended without `return value` (or its function is void): a
        # host then shows nothing, where a returned null shows as null
        self.returned = returned
        self.info = info if info is not None else []
        self.error = error
        self.statements = statements
        self.duration = duration
        self.notes = notes if notes is not None else []
        self.variables = variables  # the body's variables at its end, in an interactive session
        self.form = form if form is not None else {}  # field -> choices (ui.add, clear)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        """JSON-ready: {"return", "info", "error": null | {"line", "message"}, "stats",
        "notes", "form": the choices of form fields that ui.add and clear set}."""
        return {
            "return": to_plain(self.value),
            "info": list(self.info),
            "error": None if self.error is None else self.error.to_dict(),
            "stats": {"statements": self.statements,
                      "duration_ms": round(self.duration * 1000, 3)},
            "notes": list(self.notes),
            "form": to_plain(self.form),
        }

    def __repr__(self) -> str:
        state = "ok" if self.ok else f"error={self.error.render()!r}"
        return f"Result({state}, value={self.value!r}, info={self.info!r})"


class RunContext:
    """The run as generated code and tasks see it (`R`): limits, output, clock, tasks."""

    def __init__(self, limits: Limits, services: Services, args: dict, on_info=None):
        self.limits = limits
        self.services = services
        self.args = args
        self.info_lines: list[str] = []
        self.notes: list[str] = []
        self.variables: dict | None = None  # set by export() in an interactive session
        self.info_bytes = 0
        self.on_info = on_info
        self.statements = 0
        self.step_limit = limits.effective("statements")
        self.max_depth = limits.effective("depth")
        self.collection_limit = limits.effective("collection_size")
        self.text_limit = limits.effective("text_size")
        self.next_check = min(self.step_limit, CHECK_EVERY)
        self.started = time.monotonic()
        self.cpu_started = time.process_time() if limits.time else 0.0
        self.cpu_share, self.cpu_share_at = 1.0, float("-inf")  # for regex_timeout
        self.deadline = self.started + limits.effective("time")
        self.memory_limit = limits.memory
        self.memory_base = process_memory() if self.memory_limit else 0
        self.charged = 0  # bytes of new values since the last look at the memory
        self.counters: dict[str, int] = {}  # for tasks: invokeurl calls made, ...
        self.form: dict[str, list] = {}  # the choices of form fields, set by ui.add and clear
        self._added: set[str] = set()  # fields whose choices a ui.add has replaced this run
        self._tz = None

    # -- limits

    def checkpoint(self, steps: int) -> float:
        """Called when the statement count passes `next_check`: stop, or say when to look
        again."""
        if steps > self.step_limit:
            raise LimitExceeded("statements", f"Execution limit exceeded: more than "
                                              f"{int(self.step_limit):,} statements")
        if time.monotonic() > self.deadline:
            raise time_up(self.limits.time)
        self.charge(CHECKPOINT_CHARGE)
        return min(self.step_limit, steps + CHECK_EVERY)

    def charge(self, nbytes: int) -> None:
        """New values of about `nbytes` were made (or are about to be): look at the memory once
        enough were; one that alone passes the limit is refused before it is made."""
        if nbytes > self.memory_limit and self.memory_limit:
            raise memory_exceeded(self.memory_limit)
        self.charged += nbytes
        if self.charged >= LOOK_EVERY:
            self.charged = 0
            if self.memory_limit and process_memory() - self.memory_base > self.memory_limit:
                raise memory_exceeded(self.memory_limit)

    def too_deep_call(self, function: str):
        """What a call one level too deep calls instead of `function` (once its arguments
        are worked out)."""
        return lambda *args: self.too_deep(function)

    def too_deep(self, function: str) -> None:
        """Called on the first line of `function` one level too deep: the error names the line
        of the call, in the caller's frame (the check sits in the callee, where it costs least)."""
        caller = sys._getframe(2)  # too_deep <- f_<function> <- its caller
        generated = caller.f_code.co_filename.startswith(FILENAME_PREFIX)
        error = LimitExceeded("depth", f"Too many nested function calls (more than "
                                       f"{int(self.max_depth)}) in '{function}'",
                              caller.f_lineno if generated else 0)
        if generated:
            error.file = script_filename(caller.f_code.co_filename)
        raise error

    def count(self, name: str, limit_name: str) -> int:
        """Count one use of something limited (e.g. an invokeurl call); stop past the limit."""
        n = self.counters.get(name, 0) + 1
        self.counters[name] = n
        if n > self.limits.effective(limit_name):
            calls = amount(getattr(self.limits, limit_name), f"{name} call")
            raise LimitExceeded(limit_name, f"More than {calls} in one run")
        return n

    # -- output

    def info(self, value) -> None:
        text = to_text(value)
        self.info_bytes += len(text.encode("utf-8", "replace")) + 1
        if self.info_bytes > self.limits.effective("info_size"):
            raise LimitExceeded("info_size", f"info output exceeded "
                                             f"{amount(self.limits.info_size, 'byte')}")
        self.info_lines.append(text)
        if self.on_info is not None:
            self.on_info(text)

    def export(self, names: dict) -> None:
        """The body's variables at its end (an interactive session keeps them)."""
        self.variables = {k[2:]: v for k, v in names.items() if k.startswith("v_")}

    def note(self, text: str) -> None:
        """A remark of a task for whoever runs the script (not part of its output)."""
        self.notes.append(text)

    # -- the world

    def now(self) -> datetime.datetime:
        if self.services.clock is not None:
            return self.services.clock().replace(microsecond=0)
        if self.services.timezone:
            if self._tz is None:
                from zoneinfo import ZoneInfo

                self._tz = ZoneInfo(self.services.timezone)
            return datetime.datetime.now(self._tz).replace(tzinfo=None, microsecond=0)
        return datetime.datetime.now().replace(microsecond=0)

    def today(self) -> datetime.date:
        return self.now().date()

    def system(self, name: str):
        """`zoho.<name>`: the current date and time, and who runs the script."""
        if name == "currentdate":
            return self.today()
        if name == "currenttime":
            return self.now()
        if name in self.services.settings:
            return self.services.settings[name]
        raise DelugeError(f"zoho.{name} is not a system variable")

    def input(self, name: str):
        return self.args.get(name)

    def input_map(self) -> dict:
        return self.args

    # -- Creator client functions, outside a form: they act on the run's form state

    def choices(self, action: str, path: tuple, value) -> None:
        """`Field:ui.add(x)` / `Field:ui.append(x)`: x is one choice or a list of them. The
        first ui.add of a field in a run replaces its choices, later ones append (as in
        Creator's script actions); a choice already there is not added again; null is none."""
        field = form_field(path)
        if action == "add" and field not in self._added:
            self._added.add(field)
            current = self.form[field] = []
        else:
            current = self.form.setdefault(field, [])
        for choice in (value if is_list(value) else (value,)):
            if choice is not None and not any(equal(choice, c) for c in current):
                current.append(choice)

    def clear_choices(self, path: tuple) -> None:
        """`clear Field;`: the field has no choices left."""
        self.form[form_field(path)] = []

    # -- tasks

    def task(self, name: str, line: int, *args):
        fn = self.services.task(name)
        if fn is None:
            raise DelugeError(f"{TASK_TITLES.get(name.lower(), name)} is not available here")
        return fn(self, *args)

    def task_block(self, name: str, line: int, entries: tuple):
        fn = self.services.task(name)
        if fn is None:
            raise DelugeError(f"the '{name}' task is not available here")
        return fn(self, dict(entries))


def amount(n, unit: str) -> str:
    """`1 second`, `0.5 seconds`, `2 invokeurl calls`, `1,024 bytes`."""
    number = f"{int(n):,}" if n == int(n) else f"{n:g}"
    return f"{number} {unit}" + ("" if n == 1 else "s")


def form_field(path: tuple) -> str:
    """The key of a field in the form state: `input.Course` and `Course` are "Course"; a
    subform row's field keeps its `row.`."""
    if len(path) > 1 and path[0] == "input":
        path = path[1:]
    return ".".join(path)


class Runtime:
    """Compiled scripts kept by source, with default limits and services, for a host program.
    With `code_cache` (a folder), compiled code also outlives the process."""

    def __init__(self, *, limits: Limits | None = None, services: Services | None = None,
                 cache_size: int = 256, code_cache: str | None = None):
        self.limits = limits or Limits()
        self.services = services or Services()
        self.code_cache = code_cache
        self._cache: OrderedDict[str, tuple[Compiled, object]] = OrderedDict()
        self._cache_size = cache_size

    def compile(self, source, filename: str = "<script>", app=None) -> Compiled:
        """Parse and compile (cached by source). Raises DelugeSyntaxError or StaticErrors, or
        LimitExceeded for a source longer than the `source` limit. `app`: see `run`."""
        if isinstance(source, str):
            check_source(source, self.limits)
        return self._compiled(source, filename, app=app)[0]

    def _compiled(self, source, filename: str, interactive: bool = False, app=None):
        """`app`: the runtime.app.App whose functions the script may call."""
        if not isinstance(source, str):  # a parsed dsl.Script
            from .compile import compile_script

            compiled = compile_script(source, "", source.filename or filename,
                                      repl=interactive, app=app)
            return compiled, compiled.make()
        fingerprint = app.fingerprint if app is not None else ""
        key = source_key(source, filename) + fingerprint
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        compiled = Compiled.load(self.code_cache, source, filename, fingerprint) \
            if self.code_cache else None
        if compiled is not None and compiled.files and not app.is_current(compiled.files):
            compiled = None  # a function it holds changed in a file outside the app's folder
        if compiled is None:
            from dsl import parse  # the parser and the compiler only when there is no code yet

            from .compile import compile_script

            compiled = compile_script(parse(source, filename), source, filename, app=app)
            if self.code_cache:
                compiled.store(self.code_cache, source, fingerprint)
        found = (compiled, compiled.make())
        self._cache[key] = found
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return found

    def run(self, source, args: dict | None = None, *, limits: Limits | None = None,
            services: Services | None = None, filename: str = "<script>",
            on_info=None, interactive: bool = False, app=None) -> Result:
        """Run a script (text, or a parsed dsl.Script). Errors of every kind come back in
        `Result.error`, never raised. `interactive` (with a parsed Script): an entry of a
        session: its body runs even when it only defines functions, and `Result.variables`
        holds its variables at the end. `app` (a runtime.app.App): the other files whose
        functions the script may call."""
        started = time.monotonic()
        limits = limits or self.limits
        try:
            if isinstance(source, str):
                check_source(source, limits)
            compiled, function = self._compiled(source, filename, interactive, app)
        except LimitExceeded as e:
            return Result(error=e, duration=time.monotonic() - started)
        except MemoryError:  # compiling takes about 1 KB per byte of a dense script
            return Result(error=LimitExceeded("memory", "Out of memory while compiling the "
                                                        "script; make it shorter"),
                          duration=time.monotonic() - started)
        except Exception as e:
            if not _compile_error(e):
                raise
            return Result(error=e, duration=time.monotonic() - started)
        values = {}
        for name, value in (args or {}).items():
            try:
                values[name] = from_plain(value)
            except ValueError as e:
                return Result(error=DelugeError(f"argument {name}: {e}"),
                              duration=time.monotonic() - started)
        context = RunContext(limits, services or self.services, values, on_info)
        token = current_run.set(context)
        value, error = None, None
        try:
            value = function(context, values)
            if type(value) in _CONTAINERS:
                measure_printed(value)  # the host shows it: it must be printable, now
        except (DelugeError, LimitExceeded) as e:
            error = e
            if not error.line:
                error.file, error.line = tb_where(e)
        except CATCHABLE as e:
            error = DelugeError(python_error_message(e))
            error.file, error.line = tb_where(e)
        except MemoryError as e:  # an allocation past the OS limit (os_memory_cap) or the RAM
            error = memory_exceeded(context.memory_limit)
            error.file, error.line = tb_where(e)
        finally:
            current_run.reset(token)
        returned = value is not NO_RETURN
        if not returned:
            value = None
        if error is not None:
            if error.file == compiled.filename:
                error.file = ""  # the script's own: no need to name it
            lines = compiled.lines_of(error.file)
            if 0 < error.line <= len(lines):
                error.statement = lines[error.line - 1].strip()
        return Result(value if error is None else None, context.info_lines, error,
                      context.statements, time.monotonic() - started, context.notes,
                      context.variables, context.form, returned and error is None)


def _compile_error(e: Exception) -> bool:
    """A syntax error or a static error (dsl is imported only when a script was parsed)."""
    errors = sys.modules.get("dsl.errors")
    return isinstance(e, StaticErrors) or (errors is not None and
                                           isinstance(e, errors.DelugeSyntaxError))


_default: Runtime | None = None


def run(source, args: dict | None = None, *, limits: Limits | None = None,
        services: Services | None = None, filename: str = "<script>", on_info=None) -> Result:
    """Run a script (source text or a parsed dsl.Script) with a shared default Runtime."""
    global _default
    if _default is None:
        _default = Runtime()
    return _default.run(source, args, limits=limits, services=services, filename=filename,
                        on_info=on_info)
