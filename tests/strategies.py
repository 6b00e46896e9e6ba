"""Hypothesis strategies for Deluge ASTs of the shapes the parser produces."""

from __future__ import annotations

import datetime

from hypothesis import strategies as st

from dsl import ast as A

# Words that are keywords somewhere, or that the parser turns into something other than a Name.
RESERVED = {
    "if", "else", "for", "each", "in", "try", "catch", "return", "break", "continue", "from",
    "into", "to", "on", "true", "false", "null", "info", "throw", "alert", "hide", "show", "enable",
    "disable", "index", "actions", "cancel", "delete", "insert", "sort", "range", "asc", "desc",
    "list", "map", "collection", "ifnull", "file", "template",
}

names = st.from_regex(r"[a-z][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda n: n.lower() not in RESERVED)
forms = st.from_regex(r"[A-Z][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda n: n.lower() not in RESERVED)
task_keys = st.sampled_from(["url", "type", "parameters", "headers", "content-type", "connection",
                             "detailed", "response-format", "reply to", "subject", "to"])


def _name_node(n):
    return A.Name(n)


texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
literals = st.one_of(
    texts.map(A.TextLit),
    st.integers(-(2**63) + 1, 2**63 - 1).map(A.NumberLit),
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(A.DecimalLit),
    st.booleans().map(A.BoolLit),
    st.just(A.NullLit()),
    st.dates(datetime.date(1000, 1, 1), datetime.date(9999, 12, 31)).map(A.DateLit),
    st.datetimes(datetime.datetime(1000, 1, 1), datetime.datetime(9999, 12, 31))
    .map(lambda d: A.DateLit(d.replace(microsecond=0))),
    st.just(A.EmptyBraces()),
)
atoms = st.one_of(literals, names.map(_name_node))
binary_ops = st.sampled_from(["||", "&&", "==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*",
                              "/", "%"])
comparison_ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "&&", "||"])


def _unary(op, operand):
    if op == "-" and type(operand) in (A.NumberLit, A.DecimalLit):
        operand = A.Name("x")  # `-5` is read as the literal -5, never as a minus applied to 5
    return A.Unary(op, operand)


def _extend(children):
    small = st.lists(children, max_size=3).map(tuple)
    pairs = st.builds(A.Pair, children, children)
    values = st.one_of(children, st.builds(A.Tagged, st.sampled_from(["file", "template"]),
                                           children))
    criteria = st.builds(A.Binary, comparison_ops, children, children)
    bound = st.one_of(names.map(_name_node), st.integers(0, 100).map(A.NumberLit), children)
    return st.one_of(
        st.builds(A.Binary, binary_ops, children, children),
        st.builds(_unary, st.sampled_from(["!", "-"]), children),
        st.builds(A.Call, names, small),
        st.builds(A.MethodCall, children, names, small),
        st.builds(A.Attribute, children, names),
        st.builds(A.ListLit, small),
        st.builds(A.MapLit, st.lists(pairs, min_size=1, max_size=3).map(tuple)),
        st.builds(A.Constructor, st.sampled_from(["list", "map"]), small),
        st.builds(A.Constructor, st.just("collection"),
                  st.lists(st.one_of(children, pairs), max_size=3).map(tuple)),
        st.builds(lambda t, a: A.Constructor("list", a, t),
                  st.sampled_from(["string", "int", "decimal", "date", "bool"]), small),
        st.builds(A.IfExpr, children, children, children),
        st.builds(A.IfNull, children, children),
        st.builds(A.Task, names.map(str.lower),
                  st.lists(st.builds(A.TaskEntry, task_keys,
                                     st.lists(values, min_size=1, max_size=2).map(tuple)),
                           max_size=3).map(tuple)),
        st.builds(A.Query, forms, criteria, st.none() | names, st.booleans(),
                  st.none() | st.tuples(bound, bound))
        .map(lambda q: q if q.sort_by else A.replace(q, descending=False)),
        st.builds(A.InsertInto, forms,
                  st.lists(st.builds(A.FieldValue, forms, children), max_size=3).map(tuple)),
    )


expressions = st.recursive(atoms, _extend, max_leaves=12)
targets = st.one_of(names.map(_name_node),
                    st.builds(A.Attribute, names.map(_name_node), names))
statement_exprs = st.one_of(  # what stands alone as a statement in real scripts
    st.builds(A.Call, names, st.lists(expressions, max_size=2).map(tuple)),
    st.builds(A.MethodCall, expressions, names, st.lists(expressions, max_size=2).map(tuple)),
)


def _simple_statements():
    return st.one_of(
        st.builds(A.Assign, targets, st.sampled_from(["=", "+=", "-=", "*=", "/=", "%="]),
                  expressions),
        st.builds(A.ExprStmt, statement_exprs),
        st.builds(A.Return, st.none() | expressions),
        st.builds(A.Info, expressions),
        st.builds(A.Throw, expressions),
        st.just(A.Break()),
        st.just(A.Continue()),
        st.builds(A.DeleteFrom, forms, st.builds(A.Binary, comparison_ops, expressions,
                                                 expressions)),
        st.builds(A.Alert, expressions),
        st.just(A.CancelSubmit()),
        st.builds(A.FieldAction, st.sampled_from(["hide", "show", "enable", "disable"]),
                  st.lists(forms, min_size=1, max_size=2).map(tuple)),
    )


def _compound(inner):
    body = st.lists(inner, max_size=3).map(tuple)
    return st.one_of(
        st.builds(A.If, st.lists(st.builds(A.IfBranch, expressions, body), min_size=1,
                                 max_size=3).map(tuple), st.none() | body),
        st.builds(A.ForEach, names, expressions, body),
        st.builds(A.ForIndex, names, expressions, body),
        st.builds(A.Try, body, names, body),
    )


statements = st.recursive(_simple_statements(), _compound, max_leaves=8)
type_words = st.sampled_from(sorted(A.TYPE_WORDS - {"void"}))
functions = st.builds(
    A.FunctionDef, st.sampled_from(sorted(A.TYPE_WORDS)), st.sampled_from(["", "standalone"]),
    names, st.lists(st.builds(A.Param, type_words, names), max_size=3, unique_by=lambda p: p.name)
    .map(tuple), st.lists(statements, max_size=3).map(tuple))
scripts = st.lists(st.one_of(statements, functions), max_size=5).map(
    lambda items: A.Script(tuple(items)))
