"""The one runner for tests/golden/*/*.dg (see tests/golden_files.py for the format)."""

from __future__ import annotations

import json
import re

import pytest

import dsl
import runtime
from dsl.fmt import format_script
from dsl.sexpr import sexpr
from golden_files import golden_chunks
from runtime.values import to_plain

SYNTAX = golden_chunks("syntax")
RUN = golden_chunks("run")


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


def _run_options(chunk):
    """`// option: limit statements=10`, `// option: arg name=<json>`, `// option: timezone Z`."""
    limits, args, timezone = [], {}, "UTC"
    for option in chunk.options:
        word, _, rest = option.partition(" ")
        if word == "limit":
            limits.append(rest)
        elif word == "arg":
            name, _, value = rest.partition("=")
            args[name] = json.loads(value)
        elif word == "timezone":
            timezone = rest.strip()
        else:
            raise AssertionError(f"unknown option {option!r}")
    return runtime.Limits.parse(limits), args, runtime.Services(timezone=timezone)


def _plain_json(value) -> str:
    return json.dumps(to_plain(value), sort_keys=False, ensure_ascii=False)


@pytest.mark.parametrize("chunk", RUN, ids=[c.id for c in RUN])
def test_run(chunk):
    limits, args, services = _run_options(chunk)
    result = runtime.run(chunk.source, args, limits=limits, services=services,
                         filename=chunk.path.name)
    rendered = result.error.render() if result.error is not None else ""
    everything = rendered + "\n".join(result.info)
    assert "Traceback" not in everything and "File \"" not in everything
    assert "Internal error" not in rendered, rendered
    if chunk.errors:
        assert len(chunk.errors) == 1
        line, column, pattern = chunk.errors[0]
        assert result.error is not None, f"expected an error, got {result!r}"
        assert re.search(pattern, result.error.message), rendered
        assert result.error.line == line, rendered
        if column is not None:
            assert result.error.column == column, rendered
    else:
        assert result.ok, rendered
    info_lines = "\n".join(result.info).split("\n") if result.info else []
    assert info_lines == chunk.expect
    if chunk.returns is not None:
        expected = runtime.run(f"return {chunk.returns};")
        assert expected.ok, expected.error.render()
        assert _plain_json(result.value) == _plain_json(expected.value)


def test_enough_run_cases():
    assert len(RUN) >= 250


def test_every_builtin_is_used_in_a_golden_case():
    """Each built-in (any one of its spellings) appears, called, in tests/golden/run."""
    from runtime.builtins import all_builtins

    text = "\n".join(c.source for c in RUN).lower()
    by_function: dict = {}
    for entry in all_builtins():
        by_function.setdefault(entry.fn, set()).add(entry.name.lower().split(".")[-1])
    missing = sorted(min(names) for names in by_function.values()
                     if not any(f"{name}(" in text for name in names))
    assert missing == []
