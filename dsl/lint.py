"""Warnings about scripts that are valid but written in a way worth changing (`sluice check
--strict`).

Today there is one: a comparison written with a single `=` (`if (status = "Open")`). Zoho's
editor saves such conditions and Deluge compares there, so they parse and run; but the same `=`
assigns everywhere else, and `==` says what is meant. The parser keeps the spelling on the node
(`Binary.raw == "="`), so this is a walk over the tree, and the formatter rewrites them.
"""

from __future__ import annotations

from . import ast as A


class StyleWarning:
    """A warning with the span it is about; `code` names its kind for tools."""

    __slots__ = ("span", "message", "code")

    def __init__(self, span: A.Span, message: str, code: str):
        self.span = span
        self.message = message
        self.code = code

    def to_dict(self) -> dict:
        return {"line": self.span.line, "column": self.span.column, "code": self.code,
                "message": self.message}

    def __repr__(self) -> str:
        return f"StyleWarning({self.span!r}, {self.message!r})"


def style_warnings(script: A.Script) -> list[StyleWarning]:
    """The warnings of a parsed script, in source order."""
    found = [StyleWarning(node.span, "'=' compares here; write '==' (sluice fmt does)",
                          "single-equals")
             for node in A.walk(script) if type(node) is A.Binary and node.raw == "="]
    found.sort(key=lambda w: (w.span.line, w.span.column))
    return found
