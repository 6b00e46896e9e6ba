"""runtime.problems: every error of a script, syntax errors past the first included."""

from __future__ import annotations

import runtime


def found(text: str) -> list[tuple[int, int, str]]:
    return [(p.line, p.code, p.message) for p in runtime.problems(text, "t.dg")]


def test_every_static_error_with_its_code():
    text = ("x = foo(1);\n"
            "break;\n"
            "int f(int a) { return b; }\n"
            "y = f(1, 2);\n"
            "z = 'a'.length(3);\n"
            "for each i in {1} { continue; }\n")
    assert [(line, code) for line, code, _ in found(text)] == [
        (1, "unknown-function"), (2, "break-outside-loop"), (3, "undefined-variable"),
        (4, "arity"), (5, "arity")]


def test_syntax_errors_past_the_first():
    text = "x = 5\ny = x +;\nif (y > ) {\n    info y;\n}\nz = 1;\nw = ;\n"
    assert [(line, code) for line, code, _ in found(text)] == [
        (1, "syntax"), (2, "syntax"), (3, "syntax"), (7, "syntax")]


def test_static_errors_beside_missing_semicolons():
    """When the only repairs are missing ';', the repaired text's static errors are real."""
    assert [(line, code) for line, code, _ in found("a = {\"x\": 1}\nb = foo(2);\n")] == [
        (1, "syntax"), (2, "unknown-function")]


def test_recovery_stops_where_it_could_invent_errors():
    # an open text swallows the rest: only its own error
    assert [line for line, _, _ in found('info "abc;\ninfo 2 +;\n')] == [1]
    # a call left open over lines: no guess about what follows
    assert [line for line, _, _ in found("x = foo(1,\n;\ny = ;\n")] == [2]


def test_a_valid_script_has_none():
    assert found("info 1;\nint f(int a) { return a; }\n") == []
