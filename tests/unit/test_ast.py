"""AST nodes: immutable, equal regardless of layout, exact spans, picklable."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

import dsl
from dsl import ast as A


def test_nodes_are_immutable():
    node = dsl.parse_expr("a + 1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.op = "-"
    with pytest.raises(dataclasses.FrozenInstanceError):
        del node.left


def test_nodes_are_dataclasses():
    node = dsl.parse_expr('f(1, "a")')
    assert dataclasses.is_dataclass(node)
    assert [f.name for f in dataclasses.fields(node)] == ["name", "args", "span"]
    assert dataclasses.replace(node, name="g") == A.Call("g", node.args)
    assert dataclasses.asdict(dsl.parse_expr("a"))["span"] == (1, 1, 1, 2)
    assert [f.name for f in dataclasses.fields(A.TextLit)] == ["value", "raw", "span"]


def test_equality_ignores_layout_and_spelling():
    a = dsl.parse('x = {"a": 1.50, \'b\': [1, 2]};')
    b = dsl.parse('x={"a":1.5,"b":{1,2}};  // same thing')
    assert a == b and hash(a.items[0]) == hash(b.items[0])
    assert a.items[0].span != b.items[0].span
    assert dsl.parse("x = 1;") != dsl.parse("x = 2;")


def test_spans_cover_each_node_exactly():
    text = 'total = items.get(0).get("price") * (1 + rate);\nif (x) { info total; }'
    script = dsl.parse(text)
    lines = text.split("\n")

    def source(node):
        s = node.span
        assert s.line == s.end_line
        return lines[s.line - 1][s.column - 1:s.end_column - 1]

    assign, if_stmt = script.items
    assert source(assign) == text.split("\n")[0]
    assert source(assign.value) == 'items.get(0).get("price") * (1 + rate)'
    assert source(assign.value.left) == 'items.get(0).get("price")'
    assert source(assign.value.right) == "(1 + rate)"
    assert source(assign.value.left.target) == "items.get(0)"
    assert source(if_stmt) == "if (x) { info total; }"
    assert source(if_stmt.branches[0].body[0]) == "info total;"
    assert (if_stmt.line, if_stmt.column, if_stmt.end_line, if_stmt.end_column) == (2, 1, 2, 23)


def test_spans_of_multi_line_nodes():
    text = 'r = invokeurl\n[\n    url: "u"\n    type: GET\n];\ns = "two\nlines";'
    task_assign, text_assign = dsl.parse(text).items
    assert task_assign.value.span == A.Span(1, 5, 5, 2)
    assert task_assign.value.entries[1].span == A.Span(4, 5, 4, 14)
    assert text_assign.value.span == A.Span(6, 5, 7, 7)


def test_replace_fields_and_copy():
    node = dsl.parse_expr("f(1)")
    changed = A.replace(node, name="g")
    assert changed.name == "g" and changed.args == node.args and changed.span == node.span
    assert A.fields(node) == ("name", "args")
    assert copy.deepcopy(node) == node


def test_pickle_round_trip_keeps_spans_and_comments():
    script = dsl.parse("// hi\nx = 'a';", "f.dg")
    again = pickle.loads(pickle.dumps(script))
    assert again == script
    assert again.items[0].span == script.items[0].span
    assert again.comments == script.comments and again.filename == "f.dg"
    assert again.items[0].value.raw == "'a'"


def test_task_entry_value_with_several_values():
    (entry,) = dsl.parse_expr('sendmail [ to: "a", "b" ]').entries
    assert entry.values == (A.TextLit("a"), A.TextLit("b"))
    assert entry.value == A.ListLit((A.TextLit("a"), A.TextLit("b")))


def test_body_and_functions_of_a_script():
    script = dsl.parse("string f() { return 1; }\ninfo f();\nactions { on add { } }")
    assert [type(i).__name__ for i in script.body] == ["Info"]
    assert [f.name for f in script.functions] == ["f"]


def test_repr_shows_meaning_not_positions():
    assert repr(dsl.parse_expr("a")) == "Name(name='a')"
