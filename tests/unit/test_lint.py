"""dsl.style_warnings: what `sluice check --strict` reports."""

from __future__ import annotations

import dsl


def _warnings(text: str):
    return [(w.span.line, w.span.column, w.code) for w in dsl.style_warnings(dsl.parse(text))]


def test_single_equals_comparisons_are_found_wherever_they_are():
    text = ('if (a = 1) { if ((b = 2) && c == 3) {} }\n'
            'else if (x.size() = 0) {}\n'
            'void f() { y = if(z = 1, 1, 2); }\n')
    assert _warnings(text) == [(1, 5, "single-equals"), (1, 18, "single-equals"),
                               (2, 10, "single-equals"), (3, 19, "single-equals")]


def test_double_equals_and_assignments_are_not_warned_about():
    assert _warnings("a = 1; if (a == 1) { b = a != 2; }") == []


def test_the_comparison_is_the_same_as_with_two():
    assert dsl.parse("if (a = 1) {}") == dsl.parse("if (a == 1) {}")
