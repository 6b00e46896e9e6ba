"""Grammar rules -> dsl.ast nodes, called by the parser as each rule is reduced.

Each function gets the rule's children as matched, punctuation included (tokens are
`dsl.parser.Tok`), so every node's span runs exactly from its first character to its last.
Besides shaping nodes, this settles what the grammar leaves open on purpose: which single-quoted
literals are dates, which `name(...)` calls are constructors or `ifnull`, which `x[...]` are Creator
record queries and which are indexing (not Deluge), and the range of numbers.
"""

from __future__ import annotations

import datetime
import re

from . import ast as A
from .errors import MAX_FUNCTIONS
from .parser import Tok

Span = A.Span
TYPE_WORDS = A.TYPE_WORDS
MAX_NUMBER = 2**63 - 1

CONSTRUCTORS = frozenset({"list", "map", "collection"})
PAIR_METHODS = frozenset({"insert", "update"})  # methods that take `key: value` arguments

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_DATE = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})(?:[ \t]+(\d{1,2}):(\d{2}):(\d{2}))?\Z")
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
            "'": "'"}
_CRITERIA_OPS = frozenset({"==", "!=", "<", "<=", ">", ">=", "&&", "||", "in"})


class BuildError(Exception):
    """A rule matched but means nothing valid; dsl.parse turns it into a DelugeSyntaxError."""

    def __init__(self, message: str, span: Span):
        super().__init__(message)
        self.message = message
        self.span = span


def decode_escapes(body: str) -> str:
    """JSON-style escapes; an unknown escape such as `\\d` (common in regular expressions)
    stays as written."""
    if "\\" not in body:
        return body

    def one(m: re.Match) -> str:
        code = m.group(1)
        if len(code) == 5:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, m.group(0))

    return _ESCAPE.sub(one, body)


def task_key(raw: str) -> str:
    """`Content - Type` -> `content-type`; `reply  to` -> `reply to`."""
    key = re.sub(r"\s*-\s*", "-", raw.strip())
    return re.sub(r"\s+", " ", key).lower()


_new_span = tuple.__new__  # Span(...) without the Python-level __new__: spans are made per node


def _span(first, last) -> Span:
    """From the start of `first` to the end of `last` (tokens, nodes or bodies)."""
    if type(first) is Tok:
        line, column = first.line, first.column
    else:
        line, column = first.span[0], first.span[1]
    if type(last) is Tok:
        return _new_span(Span, (line, column, last.end_line, last.end_column))
    end = last.span
    return _new_span(Span, (line, column, end[2], end[3]))


def _tok_span(tok: Tok) -> Span:
    return _new_span(Span, (tok.line, tok.column, tok.end_line, tok.end_column))


def _nodes(children) -> tuple:
    """The children that are values (not punctuation, keywords or empty statements)."""
    return tuple(c for c in children if c is not None and type(c) is not Tok)


# Words of other languages that start a function where Deluge writes a return type.
_FOREIGN_FUNCTION_WORDS = frozenset({"function", "def", "func", "fn", "fun", "sub", "procedure"})


def _type(tok: Tok) -> str:
    word = tok.value.lower()
    if word not in TYPE_WORDS:
        if word in _FOREIGN_FUNCTION_WORDS:
            raise BuildError(f"'{tok.value}' is not Deluge: a function starts with its return "
                             "type, as in 'void notify(string id)' or 'string name(map m)'",
                             _tok_span(tok))
        raise BuildError(f"unknown type '{tok.value}'", _tok_span(tok))
    return word


def _field_path(target: str) -> tuple:
    """`input.Course :ui.` -> ("input", "Course")."""
    return tuple(p.strip() for p in target.rsplit(":", 1)[0].split("."))


def _plain_args(args, callee: str) -> tuple:
    for a in args:
        if type(a) is A.Pair:
            raise BuildError(f"'key: value' arguments belong to Collection(...), not {callee}(...)",
                             a.span)
    return args


def _is_index_like(e) -> bool:
    """`x[0]`, `m["k"]`, `x[i + 1]`: indexing, which Deluge does not have."""
    if isinstance(e, (A.NumberLit, A.TextLit, A.DecimalLit, A.Name, A.NullLit)):
        return True
    if isinstance(e, A.Binary):
        return e.op not in _CRITERIA_OPS
    return isinstance(e, A.Unary) and e.op == "-"


class Body(tuple):
    """A block's statements, carrying the span of its braces while the parent is built."""

    span: Span


class Rules:
    """One function per grammar rule (or alias), looked up by name by dsl.parser."""

    # -- top level

    @staticmethod
    def script(c):
        items = _nodes(c)
        span = _span(items[0], items[-1]) if items else A.NO_SPAN
        functions = [i for i in items if type(i) is A.FunctionDef]
        if len(functions) > MAX_FUNCTIONS:
            raise BuildError(f"a script may define at most {MAX_FUNCTIONS:,} functions; split it "
                             "into several scripts", functions[MAX_FUNCTIONS].span)
        return A.Script(items=items, span=span)

    @staticmethod
    def function_def(c):
        rtype, qualified = c[0], c[1]
        params = tuple(p for p in c[2:-1] if type(p) is A.Param)
        seen = set()
        for p in params:
            if p.name in seen:
                raise BuildError(f"parameter '{p.name}' appears twice", p.span)
            seen.add(p.name)
        *namespace, name = qualified
        return A.FunctionDef(_type(rtype), ".".join(namespace), name, params, tuple(c[-1]),
                             span=_span(c[0], c[-1]))

    @staticmethod
    def qualified_name(c):
        return tuple(t.value for t in c if t.type == "NAME")

    @staticmethod
    def param(c):
        if c[0].value.lower() in TYPE_WORDS:
            return A.Param(c[0].value.lower(), c[1].value, span=_span(c[0], c[1]))
        # any other word names a Creator form: the argument is that form's records
        return A.Param("form", c[1].value, c[0].value, span=_span(c[0], c[1]))

    @staticmethod
    def actions_block(c):
        return A.Actions(_nodes(c), span=_span(c[0], c[-1]))

    @staticmethod
    def action_handler(c):
        event = " ".join(t.value for t in c[1:-1]).lower()
        return A.ActionHandler(event, tuple(c[-1]), span=_span(c[0], c[-1]))

    # -- statements

    @staticmethod
    def block(c):
        body = Body(s for s in c[1:-1] if s is not None)
        body.span = _span(c[0], c[-1])
        return body

    @staticmethod
    def assignment(c):
        target = c[0]
        root = target
        while type(root) is A.Attribute:
            root = root.target
        if type(target) not in (A.Name, A.Attribute) or type(root) not in (A.Name, A.Query):
            raise BuildError("only a variable or a field can be assigned to", target.span)
        return A.Assign(target, c[1].value, c[2], span=_span(target, c[-1]))

    @staticmethod
    def expr_stmt(c):
        return A.ExprStmt(c[0], span=_span(c[0], c[-1]))

    @staticmethod
    def task_stmt(c):
        return A.ExprStmt(c[0], span=c[0].span)

    @staticmethod
    def empty_stmt(c):
        return None

    @staticmethod
    def if_stmt(c):
        branches = [A.IfBranch(c[2], tuple(c[4]), span=_span(c[0], c[4]))]
        orelse = None
        for item in c[5:]:
            if type(item) is A.IfBranch:
                branches.append(item)
            elif type(item) is Body:
                orelse = tuple(item)
        return A.If(tuple(branches), orelse, span=_span(c[0], c[-1]))

    @staticmethod
    def else_if(c):
        return A.IfBranch(c[3], tuple(c[5]), span=_span(c[0], c[5]))

    @staticmethod
    def for_each(c):
        return A.ForEach(c[2].value, c[4], tuple(c[5]), span=_span(c[0], c[5]))

    @staticmethod
    def for_index(c):
        return A.ForIndex(c[3].value, c[5], tuple(c[6]), span=_span(c[0], c[6]))

    @staticmethod
    def try_stmt(c):
        return A.Try(tuple(c[1]), c[4].value, tuple(c[6]), span=_span(c[0], c[6]))

    @staticmethod
    def return_stmt(c):
        return A.Return(c[1] if len(c) == 3 else None, span=_span(c[0], c[-1]))

    @staticmethod
    def info_stmt(c):
        return A.Info(c[1], span=_span(c[0], c[-1]))

    @staticmethod
    def throw_stmt(c):
        return A.Throw(c[1], span=_span(c[0], c[-1]))

    @staticmethod
    def break_stmt(c):
        return A.Break(span=_span(c[0], c[-1]))

    @staticmethod
    def continue_stmt(c):
        return A.Continue(span=_span(c[0], c[-1]))

    @staticmethod
    def delete_stmt(c):
        return A.DeleteFrom(c[2].value, c[4], span=_span(c[0], c[-1]))

    @staticmethod
    def alert_stmt(c):
        return A.Alert(c[1], span=_span(c[0], c[-1]))

    @staticmethod
    def cancel_stmt(c):
        return A.CancelSubmit(span=_span(c[0], c[-1]))

    @staticmethod
    def field_action(c):
        path = tuple(t.value for t in c[1:-1] if t.type == "NAME")
        return A.FieldAction(c[0].value.lower(), path, span=_span(c[0], c[-1]))

    @staticmethod
    def clear_stmt(c):
        path = tuple(t.value for t in c[1:-1] if t.type == "NAME")
        return A.FieldAction("clear", path, span=_span(c[0], c[-1]))

    @staticmethod
    def ui_stmt(c):
        target, name = c[0], c[1]
        action = name.value.lower()
        if action not in ("add", "append"):
            raise BuildError(f"unknown client function 'ui.{name.value}'; a choice field "
                             "takes ui.add(x) or ui.append(x)", _tok_span(name))
        args = c[3] if len(c) == 6 else ()
        if len(args) != 1:
            raise BuildError(f"ui.{action} takes one value (a choice or a list of choices), "
                             f"got {len(args)}", _span(c[2], c[-2]))
        return A.ChoiceAction(action, _field_path(target.value),
                              _plain_args(args, "ui." + action)[0], span=_span(target, c[-1]))

    # -- expressions

    @staticmethod
    def loose_equal(c):
        """`a = b` in a condition: the comparison `a == b`, spelled as written."""
        left, op, right = c
        if op.value != "=":
            raise BuildError(f"'{op.value}' assigns a value and cannot stand in a condition",
                             _tok_span(op))
        return A.Binary("==", left, right, raw="=", span=_span(left, right))

    @staticmethod
    def binary(c):
        left, op, right = c
        return A.Binary(op.value, left, right, span=_span(left, right))

    @staticmethod
    def unary_op(c):
        op, operand = c
        span = _span(op, operand)
        if op.value == "-":
            if type(operand) is A.NumberLit:
                return A.NumberLit(-operand.value, span=span)
            if type(operand) is A.DecimalLit and not operand.raw.startswith("-"):
                return A.DecimalLit(-operand.value, raw="-" + operand.raw, span=span)
        return A.Unary(op.value, operand, span=span)

    @staticmethod
    def primary(c):  # "(" expr ")": the value, its span widened to the parentheses
        return A.replace(c[1], span=_span(c[0], c[2]))

    @staticmethod
    def attribute(c):
        return A.Attribute(c[0], c[2].value, span=_span(c[0], c[2]))

    @staticmethod
    def method_call(c):
        args = c[4] if len(c) == 6 else ()
        name = c[2].value
        if name.lower() not in PAIR_METHODS:  # collection.insert("k": v) takes pairs
            args = _plain_args(args, name)
        return A.MethodCall(c[0], name, args, span=_span(c[0], c[-1]))

    @staticmethod
    def name(c):
        tok = c[0]
        return A.Name(tok.value, span=_tok_span(tok))

    @staticmethod
    def call(c):
        name = c[0].value
        args = c[2] if len(c) == 4 else ()
        span = _span(c[0], c[-1])
        word = name.lower()
        if word == "collection":
            return A.Constructor("collection", args, span=span)
        args = _plain_args(args, name)
        if word in CONSTRUCTORS:
            return A.Constructor(word, args, span=span)
        if word == "ifnull":
            if len(args) != 2:
                raise BuildError(f"ifnull takes 2 values (a value and a fallback), got {len(args)}",
                                 span)
            return A.IfNull(args[0], args[1], span=span)
        return A.Call(name, args, span=span)

    @staticmethod
    def typed_list(c):
        tok = c[0]
        element = re.split(r"\s*:\s*", tok.value, maxsplit=1)[1]
        kind = element.lower()
        if kind not in TYPE_WORDS or kind in ("void", "map", "list", "collection"):
            raise BuildError(f"unknown list element type '{element}'", _tok_span(tok))
        args = c[2] if len(c) == 4 else ()
        return A.Constructor("list", _plain_args(args, "List"), kind, span=_span(c[0], c[-1]))

    @staticmethod
    def if_expr(c):
        return A.IfExpr(c[2], c[4], c[6], span=_span(c[0], c[-1]))

    @staticmethod
    def empty_braces(c):
        return A.EmptyBraces(span=_span(c[0], c[-1]))

    @staticmethod
    def list_literal(c):
        return A.ListLit(_nodes(c), span=_span(c[0], c[-1]))

    bracket_list = list_literal

    @staticmethod
    def map_literal(c):
        return A.MapLit(_nodes(c), span=_span(c[0], c[-1]))

    @staticmethod
    def args(c):
        return _nodes(c)

    @staticmethod
    def pair(c):
        return A.Pair(c[0], c[2], span=_span(c[0], c[2]))

    @staticmethod
    def task(c):
        return A.Task(c[0].value.lower(), _nodes(c), span=_span(c[0], c[-1]))

    @staticmethod
    def task_entry(c):
        values = _nodes(c[2:])
        return A.TaskEntry(task_key(c[0].value), values, span=_span(c[0], values[-1]))

    @staticmethod
    def tagged(c):
        tag = c[0].value.rstrip(": \t").lower()
        return A.Tagged(tag, c[1], span=_span(c[0], c[1]))

    @staticmethod
    def query(c):
        criteria = c[2]
        sort_by, descending, bounds = None, False, []
        for i in range(4, len(c)):
            item = c[i]
            if type(item) is Tok:
                if item.type == "SORT_BY":
                    sort_by = c[i + 1].value
                elif item.type == "SORT_ORDER":
                    descending = item.value == "desc"
            else:
                bounds.append(item)
        span = _span(c[0], c[-1])
        if sort_by is None and not bounds and _is_index_like(criteria):
            raise BuildError("Deluge has no [ ] indexing; use .get(i) for lists and .get(key) for "
                             "maps", span)
        return A.Query(c[0].value, criteria, sort_by, descending,
                       tuple(bounds) if bounds else None, span=span)

    @staticmethod
    def insert_into(c):
        return A.InsertInto(c[2].value, _nodes(c), span=_span(c[0], c[-1]))

    @staticmethod
    def field_value(c):
        return A.FieldValue(c[0].value, c[2], span=_span(c[0], c[2]))

    # -- literals

    @staticmethod
    def text(c):
        tok = c[0]
        raw = tok.value
        return A.TextLit(decode_escapes(raw[1:-1]), raw=raw, span=_tok_span(tok))

    @staticmethod
    def quoted(c):
        raw = c[0].value
        body = decode_escapes(raw[1:-1])
        span = _tok_span(c[0])
        m = _DATE.match(body.strip())
        if m and m.group(2).lower() in _MONTHS:
            day, month, year = int(m.group(1)), _MONTHS[m.group(2).lower()], int(m.group(3))
            try:
                if m.group(4) is None:
                    value = datetime.date(year, month, day)
                else:
                    value = datetime.datetime(year, month, day, int(m.group(4)),
                                              int(m.group(5)), int(m.group(6)))
            except ValueError:
                raise BuildError(f"{raw} is not a real date", span) from None
            return A.DateLit(value, raw=raw, span=span)
        return A.TextLit(body, raw=raw, span=span)

    @staticmethod
    def number_literal(c):
        tok = c[0]
        span = _tok_span(tok)
        digits = tok.value.lstrip("0")
        if len(digits) > 19 or int(tok.value) > MAX_NUMBER:  # (Python reads 4,300 at most)
            raise BuildError(f"number {_shown(digits)} is too big: a NUMBER is a 64-bit integer "
                             f"(at most {MAX_NUMBER})", span)
        return A.NumberLit(int(tok.value), span=span)

    @staticmethod
    def decimal(c):
        raw = c[0].value
        value = float(raw)
        if value == float("inf"):
            raise BuildError(f"decimal {_shown(raw)} is too big", _tok_span(c[0]))
        return A.DecimalLit(value, raw=raw, span=_tok_span(c[0]))

    @staticmethod
    def true(c):
        return A.BoolLit(True, span=_tok_span(c[0]))

    @staticmethod
    def false(c):
        return A.BoolLit(False, span=_tok_span(c[0]))

    @staticmethod
    def null(c):
        return A.NullLit(span=_tok_span(c[0]))


def _shown(digits: str) -> str:
    """A number as an error message shows it: a long one by its first digits and its length."""
    if len(digits) <= 40:
        return digits
    return f"{digits[:20]}... ({sum(ch.isdigit() for ch in digits):,} digits)"


def comments_of(tokens) -> tuple:
    """Comment nodes; a Windows line end (CR LF) leaves no CR in the comment's text."""
    return tuple(A.Comment(t.value.replace("\r\n", "\n").rstrip("\r"), span=_tok_span(t))
                 for t in tokens)
