"""The Deluge syntax tree: the contract between `dsl` and everything after it.

Every node is an immutable record with a `span` (1-based line and column of its first character,
and of the position just after its last one). Spans, and the source spelling kept for the
formatter (`raw`), take no part in equality: two parses of the same program compare equal however
it was laid out, which is what `parse(fmt(x)) == parse(x)` relies on.

Nodes are frozen dataclasses whose methods are made here rather than by `@dataclass`: creating
~50 classes with the decorator costs about 30 ms at import, half of the start-up budget. Each
class gets its `__init__` from one small generated function, and its `__dataclass_fields__`
when first asked for, so `dataclasses.is_dataclass`, `fields`, `replace` and `asdict` work on
nodes. `dsl.ast.replace` is the quicker replace the parser itself uses.

Task names, constructor kinds, types and task keys are stored in lower case (Deluge matches them
in any letter case); variable, function and method names keep their case as written.
"""

from __future__ import annotations

import datetime


# Type words of function signatures and typed lists, matched in any letter case.
TYPE_WORDS = frozenset({
    "void", "string", "text", "int", "integer", "bigint", "long", "number", "decimal", "float",
    "double", "bool", "boolean", "date", "datetime", "time", "timestamp", "map", "list",
    "collection", "file", "keyvalue", "record", "object",
})
# Keywords (always lower case) that begin a statement.
STATEMENT_KEYWORDS = frozenset({"if", "else", "for", "try", "catch", "return", "info", "throw",
                                "break", "continue"})


class Span(tuple):
    """(line, column, end_line, end_column), 1-based; the end is just past the last character."""

    __slots__ = ()
    _fields = ("line", "column", "end_line", "end_column")  # read like a namedtuple's

    def __new__(cls, line: int, column: int, end_line: int, end_column: int):
        return tuple.__new__(cls, (line, column, end_line, end_column))

    line = property(lambda self: self[0])
    column = property(lambda self: self[1])
    end_line = property(lambda self: self[2])
    end_column = property(lambda self: self[3])

    def __repr__(self) -> str:
        return f"{self[0]}:{self[1]}-{self[2]}:{self[3]}"

    def __reduce__(self):
        return (Span, tuple(self))


NO_SPAN = Span(0, 0, 0, 0)


_MISSING = object()


class Node:
    """Base of all nodes. A subclass lists its fields in `__slots__`, in constructor order;
    `_defaults` gives optional trailing fields their default; `_uncompared` names fields that are
    keyword-only and left out of equality (besides `span`)."""

    __slots__ = ("span",)
    _fields: tuple = ()
    _compared: tuple = ()
    _defaults: dict = {}
    _uncompared: tuple = ()

    def __init_subclass__(cls) -> None:
        own = tuple(cls.__dict__.get("__slots__", ()))
        cls._fields = own
        cls._compared = tuple(f for f in own if f not in cls._uncompared)
        _pending.append(cls)
        if _ready:
            _make_initializers()

    def __setattr__(self, name, value):
        from dataclasses import FrozenInstanceError  # as @dataclass(frozen=True) raises

        raise FrozenInstanceError(f"cannot assign to field '{name}' of an immutable "
                                  f"{type(self).__name__}; use dsl.ast.replace()")

    def __delattr__(self, name):
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field '{name}' of {type(self).__name__}")

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        # With a stack of its own, not recursion: a chain of 20,000 `+` is 20,000 levels deep.
        pairs = [(self, other)]
        while pairs:
            a, b = pairs.pop()
            if isinstance(a, Node):
                if type(a) is not type(b):
                    return False
                pairs.extend((getattr(a, f), getattr(b, f)) for f in a._compared)
            elif type(a) is tuple and type(b) is tuple:
                if len(a) != len(b):
                    return False
                pairs.extend(zip(a, b))
            elif a != b:
                return False
        return True

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        return hash((type(self).__name__,) + tuple(getattr(self, f) for f in self._compared))

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._compared)
        return f"{type(self).__name__}({inner})"

    def __reduce__(self):
        kwargs = {f: getattr(self, f) for f in self._uncompared}
        kwargs["span"] = self.span
        return (_rebuild, (type(self), tuple(getattr(self, f) for f in self._compared), kwargs))

    @property
    def line(self) -> int:
        return self.span[0]

    @property
    def column(self) -> int:
        return self.span[1]

    @property
    def end_line(self) -> int:
        return self.span[2]

    @property
    def end_column(self) -> int:
        return self.span[3]


def _rebuild(cls, args, kwargs):
    return cls(*args, **kwargs)


_pending: list = []
_ready = False


def _make_initializers() -> None:
    """Each node class's __init__, generated from its fields; all of them in one exec (one
    compile per class would cost several milliseconds of start-up)."""
    sources, scope = [], {"_set": object.__setattr__, "NO_SPAN": NO_SPAN}
    for i, cls in enumerate(_pending):
        scope[f"_d{i}"] = cls._defaults
        params, body = [], []
        for f in cls._compared:
            params.append(f if f not in cls._defaults else f"{f}=_d{i}[{f!r}]")
        kw = [f"{f}=_d{i}[{f!r}]" if f in cls._defaults else f"{f}=''" for f in cls._uncompared]
        for f in cls._fields + ("span",):
            body.append(f"    _set(self, {f!r}, {f})")
        signature = ", ".join(["self"] + params + ["*"] + kw + ["span=NO_SPAN"])
        sources.append(f"def init{i}({signature}):\n" + "\n".join(body))
    exec("\n".join(sources), scope)
    for i, cls in enumerate(_pending):
        init = scope[f"init{i}"]
        init.__qualname__ = f"{cls.__name__}.__init__"
        cls.__init__ = init
    _pending.clear()


class _DataclassFields:
    """`__dataclass_fields__` of a node class, built on first use (importing `dataclasses`
    then, not at start-up): what dataclasses.fields(), replace() and asdict() read."""

    def __get__(self, obj, cls):
        found = cls.__dict__.get("_dataclass_fields")
        if found is None:
            import dataclasses

            found = {}
            for name in cls._fields + ("span",):
                kw_only = name in cls._uncompared or name == "span"
                if name == "span":
                    default = NO_SPAN
                else:
                    default = cls._defaults.get(name, "" if kw_only else dataclasses.MISSING)
                f = dataclasses.field(default=default, compare=name in cls._compared,
                                      kw_only=kw_only)
                f.name, f.type = name, object
                f._field_type = dataclasses._FIELD  # what @dataclass sets for a plain field
                found[name] = f
            type.__setattr__(cls, "_dataclass_fields", found)
        return found


Node.__dataclass_fields__ = _DataclassFields()


def fields(node: Node) -> tuple:
    """The names of a node's meaningful fields, in order (span and raw spellings left out)."""
    return node._compared


def replace(node: Node, **changes) -> Node:
    """A copy of `node` with some fields changed (span and raw included)."""
    values = {f: getattr(node, f) for f in node._fields}
    values["span"] = node.span
    values.update(changes)
    args = [values.pop(f) for f in node._compared]
    return type(node)(*args, **values)


def walk(node):
    """Every node under `node` (a node or a tuple of them), each before its children, in the
    order of the source. It keeps its own stack: a chain such as `a + b + ...` with 20,000
    terms is a tree 20,000 levels deep, deeper than Python's recursion goes."""
    stack = [node]
    pop, extend = stack.pop, stack.extend
    while stack:
        node = pop()
        if isinstance(node, tuple):
            extend(reversed(node))
        elif isinstance(node, Node):
            yield node
            extend(getattr(node, field) for field in reversed(node._compared))


# ---------------------------------------------------------------------------- expressions


class Name(Node):
    __slots__ = ('name',)
    name: str


class TextLit(Node):
    __slots__ = ('value', 'raw')
    _uncompared = ('raw',)
    value: str


class NumberLit(Node):
    __slots__ = ('value',)
    value: int


class DecimalLit(Node):
    __slots__ = ('value', 'raw')
    _uncompared = ('raw',)
    value: float


class BoolLit(Node):
    __slots__ = ('value',)
    value: bool


class NullLit(Node):
    __slots__ = ()


class DateLit(Node):
    """`'01-Jan-2024'` (a date) or `'01-Jan-2024 10:00:00'` (a date-time)."""

    __slots__ = ('value', 'raw')
    _uncompared = ('raw',)
    value: datetime.date  # a datetime.datetime when the literal has a time


class ListLit(Node):
    """`{1, 2, 3}` (or the rarer `[1, 2, 3]`)."""

    __slots__ = ('items',)
    items: tuple[Expr, ...]


class Pair(Node):
    """`key: value` inside a map literal or a `Collection(...)` call."""

    __slots__ = ('key', 'value')
    key: Expr
    value: Expr


class MapLit(Node):
    __slots__ = ('entries',)
    entries: tuple[Pair, ...]


class EmptyBraces(Node):
    """`{}`: an empty collection that becomes list-like or map-like when first filled."""

    __slots__ = ()


class Constructor(Node):
    """`List()`, `Map()`, `Collection(...)`, `List:String()` in any letter case."""

    __slots__ = ('kind', 'args', 'element_type')
    _defaults = {'args': (), 'element_type': None}
    kind: str  # "list" | "map" | "collection"
    args: tuple[Expr, ...]
    element_type: str | None  # lower case, for typed lists


class Call(Node):
    """`name(args)`: a user function or a built-in function (matched without regard to case)."""

    __slots__ = ('name', 'args')
    name: str
    args: tuple[Expr, ...]


class MethodCall(Node):
    """`target.name(args)`, including dotted roots such as `zoho.crm.getRecordById(...)`."""

    __slots__ = ('target', 'name', 'args')
    target: Expr
    name: str
    args: tuple[Expr, ...]


class Attribute(Node):
    """`target.name`: `zoho.currentdate`, `input.Email`, `record.Field`."""

    __slots__ = ('target', 'name')
    target: Expr
    name: str


class Unary(Node):
    __slots__ = ('op', 'operand')
    op: str  # "!" | "-"
    operand: Expr


class Binary(Node):
    """`raw` is "=" for a comparison written with a single `=` in a condition (op "==")."""

    __slots__ = ('op', 'left', 'right', 'raw')
    _uncompared = ('raw',)
    op: str  # || && == != < <= > >= in + - * / %
    left: Expr
    right: Expr


class IfExpr(Node):
    """`if(condition, then, otherwise)`: only the chosen branch is evaluated."""

    __slots__ = ('condition', 'then', 'otherwise')
    condition: Expr
    then: Expr
    otherwise: Expr


class IfNull(Node):
    """`ifnull(value, fallback)`."""

    __slots__ = ('value', 'fallback')
    value: Expr
    fallback: Expr


class Tagged(Node):
    """A task value with a type tag: `file: pdf` in `attachments: file: pdf`."""

    __slots__ = ('tag', 'value')
    tag: str  # lower case
    value: Expr


class TaskEntry(Node):
    """`key: value` in a task block; a key may take several values (`to: "a", "b"`)."""

    __slots__ = ('key', 'values')
    key: str  # lower case, single spaces, no space around '-': "content-type", "reply to"
    values: tuple[Expr, ...]

    @property
    def value(self):
        """The value, or a list of the values when there are several."""
        if len(self.values) == 1:
            return self.values[0]
        first, last = self.values[0].span, self.values[-1].span
        return ListLit(self.values, span=Span(first[0], first[1], last[2], last[3]))


class Task(Node):
    """`invokeurl [ url: ... type: GET ]`, `sendmail [ ... ]` or any `word [ key: value ... ]`."""

    __slots__ = ('name', 'entries')
    name: str  # lower case
    entries: tuple[TaskEntry, ...]


class Query(Node):
    """Creator record fetch: `Form[criteria]`, optionally with
    `sort by Field desc range from 1 to 10`."""

    __slots__ = ('form', 'criteria', 'sort_by', 'descending', 'range')
    _defaults = {'sort_by': None, 'descending': False, 'range': None}
    form: str
    criteria: Expr
    sort_by: str | None
    descending: bool
    range: tuple[Expr, Expr] | None


class FieldValue(Node):
    __slots__ = ('name', 'value')
    name: str
    value: Expr


class InsertInto(Node):
    """Creator `insert into Form [ Field = value ... ]`, whose value is the new record's id."""

    __slots__ = ('form', 'fields')
    form: str
    fields: tuple[FieldValue, ...]


# The expression node classes (a tuple, usable with isinstance).
Expr = (
    Name, TextLit, NumberLit, DecimalLit, BoolLit, NullLit, DateLit, ListLit, MapLit, EmptyBraces,
    Constructor, Call, MethodCall, Attribute, Unary, Binary, IfExpr, IfNull, Task, Query,
    InsertInto, Tagged,
)


# ---------------------------------------------------------------------------- statements


class Assign(Node):
    """`x = e;`, `x += e;`, `input.Field = e;`"""

    __slots__ = ('target', 'op', 'value')
    target: Name | Attribute
    op: str  # "=" "+=" "-=" "*=" "/=" "%="
    value: Expr


class ExprStmt(Node):
    __slots__ = ('expr',)
    expr: Expr


class IfBranch(Node):
    __slots__ = ('condition', 'body')
    condition: Expr
    body: tuple[Stmt, ...]


class If(Node):
    """`if (c) {...} else if (c2) {...} else {...}`; `orelse` is None when there is no `else`."""

    __slots__ = ('branches', 'orelse')
    _defaults = {'orelse': None}
    branches: tuple[IfBranch, ...]
    orelse: tuple[Stmt, ...] | None


class ForEach(Node):
    __slots__ = ('var', 'iterable', 'body')
    var: str
    iterable: Expr
    body: tuple[Stmt, ...]


class ForIndex(Node):
    """`for each index i in list {...}`: i runs over 0 .. size-1."""

    __slots__ = ('var', 'iterable', 'body')
    var: str
    iterable: Expr
    body: tuple[Stmt, ...]


class Try(Node):
    __slots__ = ('body', 'var', 'handler')
    body: tuple[Stmt, ...]
    var: str
    handler: tuple[Stmt, ...]


class Return(Node):
    __slots__ = ('value',)
    _defaults = {'value': None}
    value: Expr | None


class Info(Node):
    __slots__ = ('value',)
    value: Expr


class Throw(Node):
    __slots__ = ('value',)
    value: Expr


class Break(Node):
    __slots__ = ()


class Continue(Node):
    __slots__ = ()


class DeleteFrom(Node):
    """Creator `delete from Form[criteria];`"""

    __slots__ = ('form', 'criteria')
    form: str
    criteria: Expr


class Alert(Node):
    __slots__ = ('value',)
    value: Expr


class CancelSubmit(Node):
    __slots__ = ()


class FieldAction(Node):
    """Creator `hide Field;`, `show`, `enable`, `disable`, and `clear Field;` (its choices)."""

    __slots__ = ('action', 'field_path')
    action: str
    field_path: tuple[str, ...]


class ChoiceAction(Node):
    """Creator `input.Field:ui.add(choices);` and `Field:ui.append(choices);`."""

    __slots__ = ('action', 'field_path', 'value')
    action: str  # "add" | "append"
    field_path: tuple[str, ...]  # as written: ("input", "Course"), ("row", "Contact"), ("F",)
    value: Expr


# The statement node classes.
Stmt = (
    Assign, ExprStmt, If, ForEach, ForIndex, Try, Return, Info, Throw, Break, Continue, DeleteFrom,
    Alert, CancelSubmit, FieldAction, ChoiceAction,
)


# ---------------------------------------------------------------------------- top level


class Param(Node):
    """`string name`; for a Creator form object (`Employee emp`) the type is "form" and `form`
    holds the form's name as written."""

    __slots__ = ('type', 'name', 'form')
    _defaults = {'form': ''}
    type: str  # lower case
    name: str
    form: str


class FunctionDef(Node):
    """`string standalone.fn(String id, Map data) { ... }`"""

    __slots__ = ('return_type', 'namespace', 'name', 'params', 'body')
    return_type: str  # lower case
    namespace: str  # "standalone" in `standalone.fn`; "" when there is none
    name: str
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]


class ActionHandler(Node):
    __slots__ = ('event', 'body')
    event: str  # "add", "edit", "user input of Email", ...
    body: tuple[Stmt, ...]


class Actions(Node):
    """Creator's `actions { on add { ... } }` wrapper."""

    __slots__ = ('handlers',)
    handlers: tuple[ActionHandler, ...]


class Comment(Node):
    __slots__ = ('text',)
    text: str  # with its `//` or `/* */`


# What a script holds at its top level.
Item = Stmt + (FunctionDef, Actions)


class Script(Node):
    """A whole file: statements, function definitions and action wrappers, in source order.
    `comments` (for the formatter) and `filename` take no part in equality."""

    __slots__ = ("items", "comments", "filename")
    _uncompared = ("comments", "filename")
    _defaults = {"comments": (), "filename": "<script>"}
    items: tuple[Item, ...]
    comments: tuple[Comment, ...]
    filename: str

    @property
    def body(self) -> tuple[Stmt, ...]:
        """The statements that run when the script runs (everything but definitions)."""
        return tuple(i for i in self.items if not isinstance(i, (FunctionDef, Actions)))

    @property
    def functions(self) -> tuple[FunctionDef, ...]:
        return tuple(i for i in self.items if isinstance(i, FunctionDef))


_make_initializers()
_ready = True
