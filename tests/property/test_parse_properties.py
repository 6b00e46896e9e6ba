"""Properties of the front end over generated input."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import dsl
from dsl.fmt import format_script
from strategies import expressions, scripts

ROOT = Path(__file__).resolve().parents[2]
CORPUS = (sorted((ROOT / "scripts").glob("*.dg")) +
          sorted((ROOT / "tests/golden/syntax").glob("*.dg")))
CORPUS_TEXTS = [p.read_text(encoding="utf-8") for p in CORPUS]

TOKENS = ["x", "info", "if", "else", "for", "each", "index", "in", "try", "catch", "return", "(",
          ")", "{", "}", "[", "]", ";", ",", ":", ".", "=", "==", "+", "-", "!", "&&", "||", "*",
          "/", "%", "<", ">=", '"t"', "'01-Jan-2024'", "'s'", "1", "2.5", "true", "null",
          "invokeurl", "url", "type", "GET", "Map()", "List:String()", "//c\n", "/*c*/", "\n",
          "ifnull", "insert", "into", "delete", "from", "sort by", "actions", "on", '"', "'",
          "/*", "++", "?", "#", "\\", "\u00e9", "\t"]


def parses_or_syntax_error(text: str):
    """The contract: a Script, or DelugeSyntaxError with a sane position. Nothing else escapes."""
    try:
        script = dsl.parse(text, "fuzz.dg")
    except dsl.DelugeSyntaxError as e:
        lines = text.split("\n")
        assert 1 <= e.line <= max(len(lines), 1) + 1, (e.line, text)
        assert e.column >= 1
        assert e.message and "\n" not in e.message
        rendered = e.render()
        assert "Traceback" not in rendered
        return None
    assert isinstance(script, dsl.Script)
    return script


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
@example("")
@example("\x00")
@example('"\\')
@example("x = '")
def test_any_text_parses_or_gives_a_syntax_error(text):
    parses_or_syntax_error(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=30), st.lists(st.sampled_from([" ", "", "\n"]),
                                                                min_size=30, max_size=30))
def test_token_soup_parses_or_gives_a_syntax_error(tokens, gaps):
    parses_or_syntax_error("".join(t + g for t, g in zip(tokens, gaps)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CORPUS_TEXTS), st.data())
def test_mutated_scripts_parse_or_give_a_syntax_error(text, data):
    """Real scripts with a few characters deleted, repeated or replaced: mistakes people make."""
    for _ in range(data.draw(st.integers(1, 3))):
        if not text:
            break
        i = data.draw(st.integers(0, len(text) - 1))
        action = data.draw(st.sampled_from(["delete", "repeat", "replace"]))
        if action == "delete":
            text = text[:i] + text[i + 1:]
        elif action == "repeat":
            text = text[:i] + text[i] + text[i:]
        else:
            text = text[:i] + data.draw(st.sampled_from(list(";{}()[]\"'=.,+/ \nx"))) + text[i + 1:]
    parses_or_syntax_error(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts)
def test_generated_scripts_survive_fmt_and_parse(script):
    text = format_script(script)
    try:
        parsed = dsl.parse(text, "gen.dg")
    except dsl.DelugeSyntaxError as e:
        raise AssertionError(f"{e.render()}\n--- formatted from {script!r}:\n{text}") from None
    assert parsed == script, text
    assert format_script(dsl.parse(text)) == text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_generated_expressions_survive_fmt_and_parse_expr(expr):
    text = format_script(dsl.Script((dsl.ast.ExprStmt(dsl.ast.Call("f", (expr,))),)))
    parsed = dsl.parse(text).items[0].expr.args[0]
    assert parsed == expr, text


def test_corpus_scripts_survive_fmt():
    for path, text in zip(CORPUS, CORPUS_TEXTS):
        for chunk in text.split("\n---\n"):
            try:
                script = dsl.parse(chunk)
            except dsl.DelugeSyntaxError:
                continue
            assert dsl.parse(format_script(script)) == script, path
