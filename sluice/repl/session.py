"""The REPL without a terminal. `Session` keeps variables and functions between entries, runs
each entry through the runtime and answers `:commands`; `completions` offers what may come next
(sluice.repl.terminal puts both in a prompt)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import dsl
import runtime
from dsl import ast as A
from dsl.errors import DelugeSyntaxError
from runtime.values import Collection, to_text, type_name

HELP = """\
Type Deluge statements or expressions; an expression shows its value.
Enter runs an entry once it is complete (an open { or ( asks for more lines).
Variables and functions stay from one entry to the next.
  :help                 this text
  :vars                 the variables and functions so far
  :reset                forget them all, and set the limits back to the session's first
  :load FILE            run a .dg file here (its functions and variables stay)
  :app [DIR]            call the functions of the app in DIR (standalone.f, thisapp.f);
                        without DIR, list them
  :connections          the connections scripts can name (connection: "...")
  :limits [NAME=VALUE]  show or change the limits of each entry (0 lifts one)
  :quit                 leave (or Ctrl-D)
Ctrl-C stops a running entry and keeps the session."""

KEYWORDS = ("if", "else", "for each", "index", "in", "return", "info", "break", "continue",
            "try", "catch", "throw", "true", "false", "null", "invokeurl", "sendmail",
            "Map()", "List()", "Collection()")
COMMANDS = (":help", ":vars", ":reset", ":load", ":app", ":connections", ":limits", ":quit")


@dataclass
class Outcome:
    """What an entry gave: info lines (already shown when a callback was given), the value of an
    expression, an error, notes of tasks, or the text of a command."""

    info: list[str] = field(default_factory=list)
    value: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    message: str | None = None
    quit: bool = False


def show(value) -> str:
    """An expression's value as the REPL shows it: texts quoted, so "1" and 1 differ."""
    if type(value) is str:
        import json

        return json.dumps(value, ensure_ascii=False)
    return to_text(value)


class Session:
    def __init__(self, services=None, limits: runtime.Limits | None = None,
                 connections=None):
        self.runtime = runtime.Runtime()
        self.services = services or runtime.Services.standard()
        self.limits = limits or runtime.Limits()
        self.first_limits = self.limits  # what :reset goes back to
        self.variables: dict = {}
        self.functions: dict[str, A.FunctionDef] = {}
        self.app = None  # a runtime.app.App whose functions entries may call (:app DIR)
        self._connections = connections  # a callable giving link names, for completion

    # ------------------------------------------------------------------ entries

    def needs_more(self, text: str) -> bool:
        """True while `text` cannot run yet because it stops too early (an open block, text,
        comment or bracket). A statement missing only its final `;` runs."""
        stripped = text.strip()
        if not stripped or stripped.startswith(":"):
            return False
        if not dsl.is_incomplete(text):
            return False
        try:
            dsl.parse_expr(text)
            return False
        except DelugeSyntaxError:
            pass
        return dsl.is_incomplete(text + "\n;") or not _parses(text + "\n;")

    def execute(self, text: str, on_info=None) -> Outcome:
        stripped = text.strip()
        if not stripped:
            return Outcome()
        if stripped.startswith(":"):
            return self.command(stripped)
        try:
            script, expression = self._parse(text)
        except DelugeSyntaxError as e:
            return Outcome(error=e.render())
        functions = dict(self.functions)
        for f in script.functions:
            functions[f.name] = f
        body = tuple(i for i in script.items if not isinstance(i, A.FunctionDef))
        whole = A.Script(tuple(functions.values()) + body, comments=(), filename="<repl>",
                         span=script.span)
        result = self.runtime.run(whole, self.variables, limits=self.limits,
                                  services=self.services, filename="<repl>", on_info=on_info,
                                  interactive=True, app=self.app)
        if result.variables is not None:
            self.variables.update(result.variables)
        outcome = Outcome(info=list(result.info), notes=list(result.notes))
        if not result.ok:
            outcome.error = _render(result.error, text)
            return outcome
        self.functions = functions
        if expression or result.returned:  # `return null;` shows null, as `sluice run` does
            outcome.value = show(result.value)
        return outcome

    def _parse(self, text: str) -> tuple[A.Script, bool]:
        try:
            dsl.parse_expr(text)
            # `return` keeps the expression's own line and columns for errors
            return dsl.parse("return " + text + "\n;", "<repl>"), True
        except DelugeSyntaxError:
            pass
        try:
            return dsl.parse(text, "<repl>"), False
        except DelugeSyntaxError as first:
            if text.rstrip().endswith(";"):
                raise
            try:  # a statement complete but for its final ';' runs, whatever it ends with
                return dsl.parse(text + "\n;", "<repl>"), False
            except DelugeSyntaxError:
                raise first from None

    # ------------------------------------------------------------------ commands

    def command(self, text: str) -> Outcome:
        word, _, rest = text.partition(" ")
        word, rest = word.lower(), rest.strip()
        if word in (":q", ":quit", ":exit"):
            return Outcome(quit=True)
        if word in (":h", ":help", ":?"):
            return Outcome(message=HELP)
        if word == ":vars":
            return Outcome(message=self._describe_vars())
        if word == ":reset":
            self.variables.clear()
            self.functions.clear()
            changed = self.limits.as_dict() != self.first_limits.as_dict()
            self.limits = self.first_limits
            return Outcome(message="all variables and functions forgotten" +
                           ("; limits back to " + self._describe_limits() if changed else ""))
        if word == ":load":
            return self._load(rest)
        if word == ":app":
            return self._app(rest)
        if word == ":connections":
            return Outcome(message=self._describe_connections())
        if word == ":limits":
            return self._limits(rest)
        return Outcome(error=f"unknown command {word}: see :help")

    def _describe_vars(self) -> str:
        lines = []
        for name, value in self.variables.items():
            text = show(value)
            if len(text) > 70:
                text = text[:67] + "..."
            lines.append(f"{name} : {_kind(value)} = {text}")
        for f in self.functions.values():
            params = ", ".join(f"{p.type} {p.name}" for p in f.params)
            lines.append(f"{f.return_type} {f.name}({params})")
        return "\n".join(lines) if lines else "no variables or functions yet"

    def _app(self, folder: str) -> Outcome:
        """`:app DIR`: entries call the functions of the app in DIR; `:app`: list them."""
        from ..app import AppError, app_of

        if folder:
            try:
                self.app = app_of(None, [str(Path(folder).expanduser())])
            except AppError as e:
                return Outcome(error=f":app {e}")
        if self.app is None:
            return Outcome(message="no app: :app DIR names the folder of one")
        functions = self.app.functions()
        lines = [f"{f.signature()}  {f.file.filename}:{f.line}" for f in functions]
        head = f"app {self.app.root}: {len(functions)} function(s)"
        return Outcome(message="\n".join([head] + lines))

    def _load(self, name: str) -> Outcome:
        if not name:
            return Outcome(error=":load needs a file name")
        path = Path(name).expanduser()
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as e:
            return Outcome(error=f":load {name}: {e.strerror or e}")
        try:
            script = dsl.parse(text, str(path))
        except DelugeSyntaxError as e:
            return Outcome(error=e.render())
        for f in script.functions:
            self.functions[f.name] = f
        body = [i for i in script.items if not isinstance(i, A.FunctionDef)]
        if not body:
            names = ", ".join(f.name for f in script.functions) or "nothing"
            return Outcome(message=f"loaded {path}: functions {names}")
        outcome = self.execute(text)
        outcome.message = f"loaded {path}"
        return outcome

    def link_names(self) -> list[str]:
        if self._connections is None:
            return []
        try:
            return list(self._connections())
        except Exception:  # completion must never break the prompt
            return []

    def _describe_connections(self) -> str:
        if self._connections is None:
            return "no connection store here"
        try:
            from connections import Connections, Store

            with Connections(Store.open()) as conns:
                infos = conns.list()
        except Exception as e:
            return f"the connections cannot be listed: {e}"
        if not infos:
            return "no connections yet: sluice connections create LINK --service NAME"
        return "\n".join(f'connection: "{i.link_name}"  ({i.service}, {i.auth}, {i.status})'
                         for i in infos)

    def _limits(self, rest: str) -> Outcome:
        if rest:
            try:
                self.limits = runtime.Limits.parse(rest.split(), self.limits)
            except ValueError as e:
                return Outcome(error=str(e).replace("--limit", ":limits"))
        return Outcome(message=self._describe_limits())

    def _describe_limits(self) -> str:
        return "  ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in self.limits.as_dict().items())


def _parses(text: str) -> bool:
    try:
        dsl.parse(text)
        return True
    except DelugeSyntaxError:
        return False


def _kind(value) -> str:
    if type(value) is Collection:
        return "COLLECTION"
    return type_name(value)


def _render(error, text: str) -> str:
    rendered = error.render()
    lines = text.splitlines()
    line = getattr(error, "line", 0)
    if getattr(error, "file", ""):  # in a function of the app: that file's line
        statement = getattr(error, "statement", "")
        return f"{error.file}: {rendered}" + (f"\n    {statement}" if statement else "")
    if isinstance(error, runtime.DelugeError) and 0 < line <= len(lines) and \
            len(lines) > 1:
        rendered += f"\n    {lines[line - 1].strip()}"
    return rendered


# ---------------------------------------------------------------------------- completion


def _method_names(value) -> list[str]:
    import runtime.methods  # noqa: F401  (fills the tables)
    from runtime.builtins import KINDS, all_builtins

    names = set()
    for b in all_builtins():
        if not b.on:
            continue
        kinds = b.on.split()
        if value is None or any(type(value) in KINDS.get(k, ()) for k in kinds):
            names.add(b.name)
    return sorted(names, key=str.lower)


def _function_names() -> list[str]:
    import runtime.methods  # noqa: F401  (fills the tables)
    from runtime.builtins import FUNCTIONS

    return sorted({b.name for b in FUNCTIONS.values()}, key=str.lower)


_AFTER_DOT = re.compile(r"([A-Za-z_]\w*)\s*\.\s*(\w*)$")
_IN_CONNECTION = re.compile(r"connection\s*:\s*(\"?)(\w*)$", re.IGNORECASE)
_WORD = re.compile(r"[:A-Za-z_]\w*$")


def completions(session: Session, before_cursor: str) -> list[tuple[str, int]]:
    """(text, start offset relative to the cursor) for what may come next."""
    m = _IN_CONNECTION.search(before_cursor)
    if m:
        quote, prefix = m.group(1), m.group(2)
        return [((f'"{n}"' if not quote else f'{n}"'), -len(prefix) - (0 if quote else 0))
                for n in session.link_names() if n.startswith(prefix)]
    m = _AFTER_DOT.search(before_cursor)
    if m:
        receiver, prefix = m.group(1), m.group(2)
        value = session.variables.get(receiver)
        names = _method_names(value if receiver in session.variables else None)
        return [(n + "(", -len(prefix)) for n in names if n.lower().startswith(prefix.lower())]
    m = _WORD.search(before_cursor)
    prefix = m.group(0) if m else ""
    if not prefix:
        return []
    if prefix.startswith(":"):
        return [(c, -len(prefix)) for c in COMMANDS if c.startswith(prefix.lower())]
    candidates = list(session.variables) + [f + "(" for f in session.functions] + \
        list(KEYWORDS) + [f + "(" for f in _function_names()]
    seen, out = set(), []
    for c in candidates:
        if c.lower().startswith(prefix.lower()) and c not in seen and c != prefix:
            seen.add(c)
            out.append((c, -len(prefix)))
    return out
