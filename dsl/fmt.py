"""Canonical source text from the AST: `sluice fmt`.

Layout: 4-space indents, one statement per line, braces on their own lines (as Zoho's editor lays
them out), one `key: value` per line in task blocks, operators spaced, parentheses where
precedence needs them and where the author wrote them around an operation (not around a single
value), `==` for a comparison written `=` in a condition. Comments are kept: a comment on its
own line stays on its own line before what followed it, a comment after code on the same line
stays at the end of that line, and a comment inside an expression moves to its own line before
the statement. One blank line is kept wherever the source had blank lines between statements.
`parse(format_script(s)) == s`.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from . import ast as A
from .build import decode_escapes

INDENT = "    "

# Binding strength of each expression form: higher binds tighter (LANGUAGE.md's order).
_BINARY_PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4,
                      "in": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}
UNARY, POSTFIX, ATOM = 7, 8, 9
# The link of each chained form printed first; chains are printed without recursion.
_CHAINED = {A.Binary: lambda e: e.left, A.Unary: lambda e: e.operand,
            A.MethodCall: lambda e: e.target, A.Attribute: lambda e: e.target}
_MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
            "\f": "\\f"}


def format_script(script: A.Script) -> str:
    printer = _Printer(script.comments)
    printer.items(script.items, 0)
    printer.flush_comments_before((10**9, 0), 0)
    text = "\n".join(printer.lines).rstrip()
    return text + "\n" if text else ""


# ---------------------------------------------------------------------------- expressions


def _has_bracketed(node) -> bool:
    """Does `node` hold a task block or `insert into` (printed over several lines)?"""
    return any(type(n) in (A.Task, A.InsertInto) for n in A.walk(node))


def precedence(e) -> int:
    if type(e) is A.Binary:
        return _BINARY_PRECEDENCE[e.op]
    if type(e) is A.Unary:
        return UNARY
    if type(e) is A.NumberLit and e.value < 0 or \
            type(e) is A.DecimalLit and decimal_literal(e).startswith("-"):  # -0.0 too
        return UNARY  # a negative literal reads as a unary minus
    if type(e) in (A.MethodCall, A.Attribute):
        return POSTFIX
    return ATOM


def parenthesized(e) -> bool:
    """Did the author write parentheses around this operation? (Its span, widened to them by
    the parser, then starts before its first operand or ends after its last.) Parentheses
    around a single value are not kept."""
    k = type(e)
    if k is A.Binary:
        return e.span[:2] != e.left.span[:2] or e.span[2:] != e.right.span[2:]
    if k is A.Unary:
        return e.span[2:] != e.operand.span[2:]
    if k is A.MethodCall or k is A.Attribute:
        return e.span[:2] != e.target.span[:2]
    return False


def text_literal(value: str) -> str:
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def decimal_literal(node: A.DecimalLit) -> str:
    raw = node.raw
    if raw and "." in raw and not raw.endswith(".") and not raw.lstrip("-").startswith("."):
        return raw
    text = repr(node.value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if "." not in text:
        text += ".0"
    return text


def date_literal(node: A.DateLit) -> str:
    if node.raw:
        return node.raw
    d = node.value
    text = f"{d.day:02d}-{_MONTH_NAMES[d.month - 1]}-{d.year:04d}"
    if isinstance(d, datetime.datetime):
        text += f" {d.hour:02d}:{d.minute:02d}:{d.second:02d}"
    return f"'{text}'"


class _Printer:
    def __init__(self, comments):
        self.lines: list[str] = []
        self.comments = sorted(comments, key=lambda c: (c.span.line, c.span.column))
        self.next_comment = 0
        self.last_line = 0  # the last source line accounted for, for blank-line keeping

    # -- comments and lines

    def emit(self, indent: int, text: str) -> None:
        # Only the first line is indented here: later lines of `text` are either inside a
        # multi-line text literal (re-indenting would change its value) or already laid out.
        self.lines.append(INDENT * indent + text)

    def blank_line_before(self, line: int) -> None:
        if self.last_line and line > self.last_line + 1 and self.lines and self.lines[-1] and \
                not self.lines[-1].endswith("{"):
            self.lines.append("")

    def flush_comments_before(self, position: tuple, indent: int) -> None:
        """Comments that start before `position` (line, column) go out on lines of their own."""
        while self.next_comment < len(self.comments):
            c = self.comments[self.next_comment]
            if (c.span.line, c.span.column) >= position:
                break
            self.blank_line_before(c.span.line)
            self.lines.append(INDENT * indent + c.text)
            self.last_line = max(self.last_line, c.span.end_line)
            self.next_comment += 1

    def trailing_comments(self, node, following=None) -> None:
        """Comments starting on the line where `node` ends, after it (and before `following`,
        the next statement, when that starts on the same line), stay at the end of it."""
        if not node.span.line:
            return
        end = (node.span.end_line, node.span.end_column)
        limit = (10**9, 0)
        if following is not None and following.span.line == end[0]:
            limit = (following.span.line, following.span.column)
        while self.next_comment < len(self.comments):
            c = self.comments[self.next_comment]
            position = (c.span.line, c.span.column)
            if c.span.line != end[0] or position < end or position >= limit:
                break
            self.lines[-1] += " " + c.text
            self.last_line = max(self.last_line, c.span.end_line)
            self.next_comment += 1

    def inner_comments(self, node, indent: int) -> None:
        """Comments inside a statement printed on one line go on lines of their own before it
        (comments between the entries of a task block stay between them instead)."""
        if node.span.line and not _has_bracketed(node):
            self.flush_comments_before((node.span.end_line, node.span.end_column), indent)

    def begin(self, node, indent: int) -> None:
        if node.span.line:
            self.flush_comments_before((node.span.line, node.span.column), indent)
            self.blank_line_before(node.span.line)

    def end(self, node, following=None) -> None:
        self.trailing_comments(node, following)
        if node.span.line:
            self.last_line = max(self.last_line, node.span.end_line)

    def close_block(self, owner, indent: int) -> None:
        """The closing brace of a block that ends where `owner` ends."""
        if owner.span.line:
            self.flush_comments_before((owner.span.end_line, owner.span.end_column - 1),
                                       indent + 1)
        self.emit(indent, "}")

    # -- statements

    def items(self, items, indent: int) -> None:
        for i, item in enumerate(items):
            self.statement(item, indent, items[i + 1] if i + 1 < len(items) else None)

    def block(self, body, owner_end, indent: int) -> None:
        self.emit(indent, "{")
        self.items(body, indent + 1)
        self.close_block(owner_end, indent)

    def statement(self, s, indent: int, following=None) -> None:
        self.begin(s, indent)
        kind = type(s)
        if kind is A.If:
            for i, branch in enumerate(s.branches):
                self.begin(branch, indent)
                keyword = "if" if i == 0 else "else if"
                self.emit(indent, f"{keyword} ({self.simple(branch.condition, indent)})")
                self.block(branch.body, branch, indent)
                self.end(branch)
            if s.orelse is not None:
                self.emit(indent, "else")
                self.block(s.orelse, s, indent)
        elif kind is A.ForEach or kind is A.ForIndex:
            index = "index " if kind is A.ForIndex else ""
            self.emit(indent, f"for each {index}{s.var} in {self.simple(s.iterable, indent)}")
            self.block(s.body, s, indent)
        elif kind is A.Try:
            self.emit(indent, "try")
            self.emit(indent, "{")
            self.items(s.body, indent + 1)
            self.emit(indent, "}")
            self.emit(indent, f"catch ({s.var})")
            self.block(s.handler, s, indent)
        elif kind is A.FunctionDef:
            name = f"{s.namespace}.{s.name}" if s.namespace else s.name
            params = ", ".join(f"{p.form or p.type} {p.name}" for p in s.params)
            self.emit(indent, f"{s.return_type} {name}({params})")
            self.block(s.body, s, indent)
        elif kind is A.Actions:
            self.emit(indent, "actions")
            self.emit(indent, "{")
            for handler in s.handlers:
                self.begin(handler, indent + 1)
                self.emit(indent + 1, f"on {handler.event}")
                self.block(handler.body, handler, indent + 1)
                self.end(handler)
            self.close_block(s, indent)
        else:
            self.inner_comments(s, indent)
            self.emit(indent, self.simple_statement(s, indent))
        self.end(s, following)

    def simple_statement(self, s, indent: int) -> str:
        kind = type(s)
        if kind is A.Assign:
            return f"{self.expr(s.target, 0, indent)} {s.op} {self.expr(s.value, 0, indent)};"
        if kind is A.ExprStmt:
            return self.expr(s.expr, 0, indent) + ";"
        if kind is A.Return:
            return "return;" if s.value is None else f"return {self.expr(s.value, 0, indent)};"
        if kind is A.Info:
            return f"info {self.expr(s.value, 0, indent)};"
        if kind is A.Throw:
            return f"throw {self.expr(s.value, 0, indent)};"
        if kind is A.Break:
            return "break;"
        if kind is A.Continue:
            return "continue;"
        if kind is A.DeleteFrom:
            return f"delete from {s.form}[{self.expr(s.criteria, 0, indent)}];"
        if kind is A.Alert:
            return f"alert {self.expr(s.value, 0, indent)};"
        if kind is A.CancelSubmit:
            return "cancel submit;"
        if kind is A.FieldAction:
            return f"{s.action} {'.'.join(s.field_path)};"
        if kind is A.ChoiceAction:
            return (f"{'.'.join(s.field_path)}:ui.{s.action}"
                    f"({self.expr(s.value, 0, indent)});")
        raise TypeError(f"not a statement: {s!r}")

    def simple(self, e, indent: int) -> str:
        """An expression in a statement header (conditions, loop sources)."""
        return self.expr(e, 0, indent)

    # -- expressions

    def expr(self, e, need: int, indent: int) -> str:
        text = self._expr(e, indent)
        return f"({text})" if precedence(e) < need or parenthesized(e) else text

    def args(self, args, indent: int) -> str:
        return ", ".join(self.expr(a, 0, indent) for a in args)

    def _expr(self, e, indent: int) -> str:
        kind = type(e)
        if kind in _CHAINED and type(_CHAINED[kind](e)) in _CHAINED:
            return self._chain(e, indent)
        if kind is A.Name:
            return e.name
        if kind is A.TextLit:
            if e.raw and decode_escapes(e.raw[1:-1]) == e.value:
                return e.raw
            return text_literal(e.value)
        if kind is A.NumberLit:
            return str(e.value)
        if kind is A.DecimalLit:
            return decimal_literal(e)
        if kind is A.BoolLit:
            return "true" if e.value else "false"
        if kind is A.NullLit:
            return "null"
        if kind is A.DateLit:
            return date_literal(e)
        if kind is A.Binary:
            p = _BINARY_PRECEDENCE[e.op]
            return f"{self.expr(e.left, p, indent)} {e.op} {self.expr(e.right, p + 1, indent)}"
        if kind is A.Unary:
            return e.op + self.expr(e.operand, UNARY, indent)
        if kind is A.Attribute:
            return f"{self.expr(e.target, POSTFIX, indent)}.{e.name}"
        if kind is A.MethodCall:
            return f"{self.expr(e.target, POSTFIX, indent)}.{e.name}({self.args(e.args, indent)})"
        if kind is A.Call:
            return f"{e.name}({self.args(e.args, indent)})"
        if kind is A.Tagged:
            return f"{e.tag}: {self.expr(e.value, 0, indent)}"
        if kind is A.Pair:
            return f"{self.expr(e.key, 0, indent)}: {self.expr(e.value, 0, indent)}"
        if kind is A.ListLit:
            inner = self.args(e.items, indent)
            return f"{{{inner}}}" if e.items else "[]"
        if kind is A.MapLit:
            return "{" + self.args(e.entries, indent) + "}"
        if kind is A.EmptyBraces:
            return "{}"
        if kind is A.Constructor:
            name = e.kind.capitalize()
            if e.element_type:
                name += ":" + e.element_type.capitalize()
            return f"{name}({self.args(e.args, indent)})"
        if kind is A.IfExpr:
            return f"if({self.args((e.condition, e.then, e.otherwise), indent)})"
        if kind is A.IfNull:
            return f"ifnull({self.args((e.value, e.fallback), indent)})"
        if kind is A.Query:
            text = f"{e.form}[{self.expr(e.criteria, 0, indent)}]"
            if e.sort_by:
                text += f" sort by {e.sort_by}" + (" desc" if e.descending else "")
            if e.range:
                low, high = (self._bound(b, indent) for b in e.range)
                text += f" range from {low} to {high}"
            return text
        if kind is A.Task:
            return self._bracketed(e.name, e.entries, indent, self._task_entry)
        if kind is A.InsertInto:
            return self._bracketed(f"insert into {e.form}", e.fields, indent,
                                   lambda f, i: f"{f.name} = {self.expr(f.value, 0, i)}")
        raise TypeError(f"not an expression: {e!r}")

    def _chain(self, e, indent: int) -> str:
        """A chain (`a + b + ...`, `x.f().g()...`, `!!x`) from its first link up, without
        recursion: each link adds text before what is printed so far (a unary operator, an
        opening parenthesis) or after it."""
        links = []
        while type(e) in _CHAINED:
            links.append(e)
            e = _CHAINED[type(e)](e)
        before: list[str] = []  # in the reverse of their order in the text
        after = [self._expr(e, indent)]
        for link in reversed(links):
            kind = type(link)
            if kind is A.Binary:
                need = _BINARY_PRECEDENCE[link.op]
            elif kind is A.Unary:
                need = UNARY
            else:
                need = POSTFIX
            if precedence(e) < need or parenthesized(e):
                before.append("(")
                after.append(")")
            if kind is A.Binary:
                after.append(f" {link.op} {self.expr(link.right, need + 1, indent)}")
            elif kind is A.Unary:
                before.append(link.op)
            elif kind is A.Attribute:
                after.append(f".{link.name}")
            else:
                after.append(f".{link.name}({self.args(link.args, indent)})")
            e = link
        return "".join(reversed(before)) + "".join(after)

    def _bound(self, e, indent: int) -> str:
        if type(e) in (A.Name, A.NumberLit) and not (type(e) is A.NumberLit and e.value < 0):
            return self._expr(e, indent)
        return f"({self.expr(e, 0, indent)})"

    def _task_entry(self, entry, indent: int) -> str:
        return f"{entry.key}: {self.args(entry.values, indent)}"

    def _bracketed(self, head: str, entries, indent: int, render) -> str:
        """`head [ entry ... ]` over several lines, the entries one level in. Comments between
        entries are placed as in statements, so the entries are laid out through self.lines."""
        saved = self.lines
        self.lines = []
        for i, entry in enumerate(entries):
            self.begin(entry, indent + 1)
            self.emit(0, INDENT * (indent + 1) + render(entry, indent + 1))
            self.end(entry, entries[i + 1] if i + 1 < len(entries) else None)
        body = self.lines
        self.lines = saved
        pad = INDENT * indent
        inner = "\n".join(body)
        return f"{head}\n{pad}[\n{inner}\n{pad}]" if body else f"{head}\n{pad}[\n{pad}]"
