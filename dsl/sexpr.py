"""AST -> compact s-expression, for tests that pin down how a script parses.

    x = a + b * 2;           ->  (= x (+ a (* b 2)))
    info m.get("k");         ->  (info (method m get "k"))
"""

from __future__ import annotations

import json

from . import ast as A


def sexpr(node) -> str:
    if isinstance(node, tuple):
        return " ".join(sexpr(n) for n in node)
    kind = type(node)
    fn = _FORMS.get(kind)
    if fn is None:
        raise TypeError(f"no s-expression for {kind.__name__}")
    return fn(node)


def _list(*parts) -> str:
    return "(" + " ".join(p for p in parts if p != "") + ")"


def _block(body) -> str:
    return _list("block", sexpr(tuple(body)))


def _if(s: A.If) -> str:
    parts = ["if"]
    for i, branch in enumerate(s.branches):
        if i:
            parts.append("elif")
        parts += [sexpr(branch.condition), _block(branch.body)]
    if s.orelse is not None:
        parts += ["else", _block(s.orelse)]
    return _list(*parts)


def _query(q: A.Query) -> str:
    parts = ["query", q.form, sexpr(q.criteria)]
    if q.sort_by:
        parts += ["sort", q.sort_by] + (["desc"] if q.descending else [])
    if q.range:
        parts += ["range", sexpr(q.range[0]), sexpr(q.range[1])]
    return _list(*parts)


def _constructor(c: A.Constructor) -> str:
    kind = c.kind + (f":{c.element_type}" if c.element_type else "")
    return _list("new", kind, sexpr(c.args))


def _function(f: A.FunctionDef) -> str:
    name = f"{f.namespace}.{f.name}" if f.namespace else f.name
    params = _list(*(f"{p.form or p.type}:{p.name}" for p in f.params))
    return _list("def", f.return_type, name, params, _block(f.body))


_FORMS = {
    A.Name: lambda n: n.name,
    A.TextLit: lambda n: json.dumps(n.value, ensure_ascii=False),
    A.NumberLit: lambda n: str(n.value),
    A.DecimalLit: lambda n: repr(n.value),
    A.BoolLit: lambda n: "true" if n.value else "false",
    A.NullLit: lambda n: "null",
    A.DateLit: lambda n: "'" + (n.value.isoformat(sep=" ") if hasattr(n.value, "hour")
                                else n.value.isoformat()) + "'",
    A.ListLit: lambda n: _list("list", sexpr(n.items)),
    A.MapLit: lambda n: _list("map", sexpr(n.entries)),
    A.Pair: lambda n: _list(":", sexpr(n.key), sexpr(n.value)),
    A.EmptyBraces: lambda n: "{}",
    A.Constructor: _constructor,
    A.Call: lambda n: _list("call", n.name, sexpr(n.args)),
    A.MethodCall: lambda n: _list("method", sexpr(n.target), n.name, sexpr(n.args)),
    A.Attribute: lambda n: _list("attr", sexpr(n.target), n.name),
    A.Unary: lambda n: _list(n.op, sexpr(n.operand)),
    A.Binary: lambda n: _list(n.op, sexpr(n.left), sexpr(n.right)),
    A.IfExpr: lambda n: _list("if-expr", sexpr(n.condition), sexpr(n.then), sexpr(n.otherwise)),
    A.IfNull: lambda n: _list("ifnull", sexpr(n.value), sexpr(n.fallback)),
    A.TaskEntry: lambda n: _list(json.dumps(n.key), sexpr(n.values)),
    A.Tagged: lambda n: _list(n.tag, sexpr(n.value)),
    A.Task: lambda n: _list("task", n.name, sexpr(n.entries)),
    A.Query: _query,
    A.FieldValue: lambda n: _list(n.name, sexpr(n.value)),
    A.InsertInto: lambda n: _list("insert", n.form, sexpr(n.fields)),
    A.Assign: lambda n: _list(n.op, sexpr(n.target), sexpr(n.value)),
    A.ExprStmt: lambda n: sexpr(n.expr),
    A.If: _if,
    A.ForEach: lambda n: _list("for", n.var, sexpr(n.iterable), _block(n.body)),
    A.ForIndex: lambda n: _list("for-index", n.var, sexpr(n.iterable), _block(n.body)),
    A.Try: lambda n: _list("try", _block(n.body), n.var, _block(n.handler)),
    A.Return: lambda n: _list("return", "" if n.value is None else sexpr(n.value)),
    A.Info: lambda n: _list("info", sexpr(n.value)),
    A.Throw: lambda n: _list("throw", sexpr(n.value)),
    A.Break: lambda n: "(break)",
    A.Continue: lambda n: "(continue)",
    A.DeleteFrom: lambda n: _list("delete", n.form, sexpr(n.criteria)),
    A.Alert: lambda n: _list("alert", sexpr(n.value)),
    A.CancelSubmit: lambda n: "(cancel-submit)",
    A.FieldAction: lambda n: _list(n.action, ".".join(n.field_path)),
    A.ChoiceAction: lambda n: _list("ui." + n.action, ".".join(n.field_path), sexpr(n.value)),
    A.FunctionDef: _function,
    A.ActionHandler: lambda n: _list("on", json.dumps(n.event), _block(n.body)),
    A.Actions: lambda n: _list("actions", sexpr(n.handlers)),
    A.Script: lambda n: sexpr(n.items),
}
