"""Runtime errors as a script writer sees them.

`DelugeError` is what a script can catch (`try { } catch (e) { }`) and what a run reports:
"Error at line 7: Index 5 is out of range for a list of size 3". Helpers raise it without a
line; the run (or the catching block) takes the line from the generated code's frame, whose line
numbers are the script's.

`LimitExceeded` stops a run and cannot be caught by the script: a runaway loop inside a
`try` must still end.
"""

from __future__ import annotations

from collections import namedtuple


class DelugeError(Exception):
    """A runtime error of the script. `line` is 0 until the run knows it; `file` is set when
    the line is in another file of the script's app (runtime.app)."""

    file = ""

    def __init__(self, message: str, line: int = 0, *, thrown=None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.thrown = thrown  # the value of a `throw`, when the script threw one
        self.statement = ""  # the source line of the failing statement, once known

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        return f"Error at line {self.line}: {self.message}" if self.line else self.message

    def to_dict(self) -> dict:
        out = {"line": self.line, "message": self.message}
        if self.file:
            out["file"] = self.file
        return out


class MissingArgument(DelugeError):
    """The function a run starts with has a parameter that no argument fills. The host says
    how to give one (`sluice run` names --arg)."""

    def __init__(self, parameter: str, function: str):
        super().__init__(f"parameter '{parameter}' has no value")
        self.parameter = parameter
        self.function = function


class LimitExceeded(BaseException):
    """A run went past one of its limits. Not an Exception: `catch` in a script cannot stop it."""

    file = ""

    def __init__(self, limit: str, message: str, line: int = 0):
        super().__init__(message)
        self.limit = limit
        self.message = message
        self.line = line
        self.statement = ""

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        return f"Error at line {self.line}: {self.message}" if self.line else self.message

    def to_dict(self) -> dict:
        out = {"line": self.line, "message": self.message, "limit": self.limit}
        if self.file:
            out["file"] = self.file
        return out


class Problem(namedtuple("Problem", "line column message code")):
    """One thing wrong with a script before it runs: where, what, and a code naming its kind
    (`syntax`, `unknown-function`, `arity`, `undefined-variable`, `break-outside-loop`, ...).
    (line: int, column: int, message: str, code: str; a collections.namedtuple, as typing
    would load `re` into every `sluice run`.)"""

    __slots__ = ()

    def to_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message,
                "code": self.code}


class StaticErrors(Exception):
    """Everything wrong with a script that can be told before it runs, reported together."""

    def __init__(self, errors: list[Problem], filename: str = "<script>", source: str = ""):
        self.errors = sorted(errors)
        self.filename = filename
        self.source_lines = source.split("\n")
        super().__init__(self.render())

    @property
    def line(self) -> int:
        return self.errors[0].line

    @property
    def column(self) -> int:
        return self.errors[0].column

    @property
    def message(self) -> str:
        return self.errors[0].message

    def render(self) -> str:
        out = []
        for line, column, message, _code in self.errors:
            out.append(f"{self.filename}:{line}:{column}: {message}")
            if 0 < line <= len(self.source_lines) and self.source_lines[line - 1].strip():
                text = self.source_lines[line - 1].expandtabs(4)
                prefix = self.source_lines[line - 1][:max(column - 1, 0)].expandtabs(4)
                out.append(f"    {text}\n    {' ' * len(prefix)}^")
        return "\n".join(out)

    def to_dict(self) -> dict:
        return dict(self.errors[0].to_dict(), all=[p.to_dict() for p in self.errors])
