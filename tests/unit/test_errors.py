"""Syntax errors: where they point, how they render, what a REPL learns from them."""

from __future__ import annotations

import pickle

import pytest

import dsl
from dsl import DelugeSyntaxError


def error_of(text: str) -> DelugeSyntaxError:
    with pytest.raises(DelugeSyntaxError) as info:
        dsl.parse(text, "f.dg")
    return info.value


def test_render_shows_location_line_and_carets():
    err = error_of('x = 1;\ny = "abc" "d";')
    assert err.render() == (
        "f.dg:2:11: unexpected text \"d\"; expected an operator or ';'\n"
        '    y = "abc" "d";\n'
        "              ^^^"
    )


def test_render_expands_tabs_under_the_caret():
    err = error_of("\tx = ;")
    assert err.render().splitlines()[1:] == ["        x = ;", "            ^"]


def test_missing_semicolon_points_after_the_statement():
    err = error_of("a = 1\nb = 2;")
    assert (err.line, err.column) == (1, 6)
    assert err.render().splitlines()[-1] == "         ^"


def test_to_dict_for_tools():
    err = error_of("x = ;")
    assert err.to_dict() == {"file": "f.dg", "line": 1, "column": 5, "end_line": 1,
                             "end_column": 6, "message": "expected a value after '='"}


def test_errors_pickle():
    err = error_of("x = ;")
    again = pickle.loads(pickle.dumps(err))
    assert again.render() == err.render()


@pytest.mark.parametrize("text", [
    "if (x) {", "x = invokeurl [", "info \"abc", "/* open", "x = 1 +", "x = f(1,",
    "for each r in rows\n{\n  info r;", "x = 1", "return", "if (a) {} else {",
    "m = {\"a\": 1}", "if (a = 1) {", "input.Course:ui.add(", "clear Course",
])
def test_incomplete_input(text):
    assert dsl.is_incomplete(text)


@pytest.mark.parametrize("text", ["x = 1;", "", "   ", "}", "x = ;", "info 1 2;", "else {",
                                  "x = 1;\nelse {", "function f(", "application \"App\"\n{",
                                  "x = y =>", "if (a === "])
def test_complete_or_wrong_input(text):
    assert not dsl.is_incomplete(text)


def test_parse_expr():
    assert dsl.parse_expr('"a,b".toList(",").size() + 1').op == "+"
    with pytest.raises(DelugeSyntaxError):
        dsl.parse_expr("x = 1")


def test_errors_never_leak_parser_internals():
    for text in ["x = = 1;", "}{", "info [;", "a.b.c(", "x = {1:};", "@"]:
        rendered = error_of(text).render()
        for word in ("lark", "Token", "LALR", "$END", "__ANON", "Traceback"):
            assert word not in rendered, (text, rendered)
