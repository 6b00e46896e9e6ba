"""Event bindings: which scripts run when an event arrives, and how.

A bindings file is TOML (default `scripts/events.toml`), one `[[binding]]` table per rule:

    [[binding]]
    event = "campaign.sent"            # an event name, or a pattern: "lead.*", "*"
    script = "campaign_summary.dg"     # relative to the bindings file
    arguments = { campaignId = "id" }  # optional: argument <- payload path ("a.b.0.c");
                                       # without it the payload's keys are the arguments;
                                       # a path the payload lacks fails the run, saying so,
                                       # unless it ends in '?' (then the argument is null)
    limits = { statements = 5000, time = 30 }   # optional, as `sluice run --limit`
    connections = ["mailchimp"]        # optional: the only connections the script may use
                                       # (absent: any; [] : none)
    name = "summarize campaigns"       # optional, for run history

`Bindings.load(path)` reads and checks the file; `matching(event)` gives the bindings an event
runs, in file order; `check()` finds what would keep a bound script from running.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import runtime

EVENT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}\Z")
PATTERN = re.compile(r"[A-Za-z0-9_*?][A-Za-z0-9_.\-*?]{0,99}\Z")
DEFAULT_FILE = Path("scripts") / "events.toml"
KEYS = {"event", "script", "arguments", "limits", "connections", "name"}


class BindingError(Exception):
    """The bindings file or a bound script is wrong; the message names where."""


@dataclass(frozen=True)
class Binding:
    event: str
    script: Path
    name: str
    arguments: dict = field(default_factory=dict)
    limits: runtime.Limits = field(default_factory=runtime.Limits)
    connections: tuple[str, ...] | None = None  # None: any connection

    def matches(self, event: str) -> bool:
        return fnmatch.fnmatchcase(event, self.event)

    def arguments_from(self, payload: dict) -> dict:
        """The script's arguments: the payload's keys, or the paths `arguments` names."""
        if not self.arguments:
            return dict(payload)
        return {name: _at_path(payload, path.removesuffix("?"))
                for name, path in self.arguments.items()}

    def missing_argument(self, payload: dict) -> str | None:
        """Why this binding cannot run with `payload`: a path of `arguments` that the payload
        does not have (a JSON null there is a value; a path ending in '?' may be missing),
        named with the binding and the parameter; None when every path is there."""
        for name, path in self.arguments.items():
            if not path.endswith("?") and _at_path(payload, path, _ABSENT) is _ABSENT:
                return (f"binding '{self.name}': parameter '{name}' has no value: the payload "
                        f"has nothing at '{path}'")
        return None

    def source(self) -> str:
        return self.script.read_text(encoding="utf-8-sig")


@dataclass(frozen=True)
class Bindings:
    path: Path
    bindings: tuple[Binding, ...]

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Bindings":
        path = Path(path) if path is not None else DEFAULT_FILE
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BindingError(f"{path}: no such bindings file (create it, or give --bindings "
                               "FILE)") from None
        except tomllib.TOMLDecodeError as e:
            raise BindingError(f"{path}: not valid TOML: {e}") from None
        except OSError as e:
            raise BindingError(f"{path}: cannot read: {e.strerror}") from None
        unknown = set(data) - {"binding"}
        if unknown:
            raise BindingError(f"{path}: unknown table(s) {', '.join(sorted(unknown))}; "
                               "bindings are [[binding]] tables")
        entries = data.get("binding", [])
        if not isinstance(entries, list):
            raise BindingError(f"{path}: 'binding' must be an array of tables: [[binding]]")
        return cls(path, tuple(_binding(path, n, e) for n, e in enumerate(entries, 1)))

    def matching(self, event: str) -> list[Binding]:
        return [b for b in self.bindings if b.matches(event)]

    def check(self) -> list[str]:
        """Every problem of the bound scripts: missing, unreadable, or each error that would
        keep one from running (runtime.problems, what `sluice check` reports), each script in
        its app (sluice.app)."""
        from ..app import AppError, app_of

        problems = []
        for b in self.bindings:
            try:
                source = b.source()
            except FileNotFoundError:
                problems.append(f"{b.name}: the script {b.script} does not exist")
                continue
            except OSError as e:
                problems.append(f"{b.name}: cannot read {b.script}: {e.strerror}")
                continue
            try:
                app = app_of(str(b.script))
            except AppError as e:  # a sluice.toml naming no folder
                problems.append(f"{b.name}: {e}")
                continue
            found = runtime.problems(source, str(b.script), app=app)
            if found:
                rendered = runtime.StaticErrors(found, str(b.script), source).render()
                problems.append(f"{b.name}: {rendered}")
        return problems


def _binding(path: Path, number: int, entry) -> Binding:
    where = f"{path}: binding {number}"
    if not isinstance(entry, dict):
        raise BindingError(f"{where}: must be a table")
    unknown = set(entry) - KEYS
    if unknown:
        raise BindingError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: "
                           f"{', '.join(sorted(KEYS))})")
    event, script = entry.get("event"), entry.get("script")
    if not isinstance(event, str) or not PATTERN.match(event):
        raise BindingError(f"{where}: 'event' must be an event name or pattern such as "
                           "\"lead.created\" or \"lead.*\"")
    if not isinstance(script, str) or not script:
        raise BindingError(f"{where}: 'script' must be the path of a .dg file")
    arguments = entry.get("arguments", {})
    if not isinstance(arguments, dict) or not all(isinstance(v, str)
                                                  for v in arguments.values()):
        raise BindingError(f"{where}: 'arguments' maps argument names to payload paths "
                           "(texts such as \"data.id\")")
    limits = entry.get("limits", {})
    if not isinstance(limits, dict):
        raise BindingError(f"{where}: 'limits' must be a table, e.g. {{ statements = 5000 }}")
    try:
        parsed_limits = runtime.Limits.parse([f"{k}={v}" for k, v in limits.items()])
    except ValueError as e:
        raise BindingError(f"{where}: {str(e).replace('--limit ', 'limit ')}") from None
    connections = entry.get("connections")
    if connections is not None and (not isinstance(connections, list) or
                                    not all(isinstance(c, str) for c in connections)):
        raise BindingError(f"{where}: 'connections' must be a list of link names")
    name = entry.get("name") or f"{event} -> {script}"
    return Binding(event=event, script=(path.parent / script), name=str(name),
                   arguments=dict(arguments), limits=parsed_limits,
                   connections=tuple(connections) if connections is not None else None)


_ABSENT = object()


def _at_path(payload, path: str, absent=None):
    value = payload
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return absent
    return value


def valid_event_name(name: str) -> bool:
    return bool(EVENT_NAME.match(name))
