"""The one runner for tests/golden/*/*.dg (see tests/golden_files.py for the format)."""

from __future__ import annotations

import re

import pytest

import dsl
from dsl.fmt import format_script
from dsl.sexpr import sexpr
from golden_files import golden_chunks

SYNTAX = golden_chunks("syntax")


def _normalize(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("( ", "(").replace(" )", ")")).strip()


@pytest.mark.parametrize("chunk", SYNTAX, ids=[c.id for c in SYNTAX])
def test_syntax(chunk):
    assert not (chunk.expect or chunk.returns), "syntax chunks only parse"
    if chunk.errors:
        assert len(chunk.errors) == 1, "a script stops at its first syntax error"
        line, column, pattern = chunk.errors[0]
        with pytest.raises(dsl.DelugeSyntaxError) as info:
            dsl.parse(chunk.source, chunk.path.name)
        err = info.value
        rendered = err.render()
        assert "Traceback" not in rendered and "lark" not in rendered.lower()
        assert re.search(pattern, err.message), rendered
        assert (err.line, err.column if column is not None else None) == (line, column), rendered
        return

    script = dsl.parse(chunk.source, chunk.path.name)
    if chunk.ast is not None:
        assert _normalize(sexpr(script)) == _normalize(chunk.ast)
    # every valid chunk survives the formatter, and the formatter is stable
    formatted = format_script(script)
    again = dsl.parse(formatted, "formatted.dg")
    assert again == script, formatted
    assert format_script(again) == formatted
    assert len(again.comments) == len(script.comments)


def test_enough_syntax_cases():
    valid = [c for c in SYNTAX if not c.errors]
    broken = [c for c in SYNTAX if c.errors]
    assert len(SYNTAX) >= 80 and len(valid) >= 30 and len(broken) >= 30
