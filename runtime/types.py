"""What the compiler can prove about the values of a function's variables and expressions.

A small lattice: INT (a NUMBER, never null), INT_OR_NULL, DEC (a DECIMAL, never null), STR (a
TEXT, never null), BOOL, LIST (a plain list), MAP (a plain map), NULL, and ANY. The inference is
flow-insensitive: a variable's type is the join of everything assigned to it anywhere in the
function. Where both operands of an operator are proven numbers (or non-null texts), the
compiler emits Python's own operator with an inline 64-bit (or finiteness) check instead of a
helper call: that is most of the speed of arithmetic loops and recursive functions.

A null where INT_OR_NULL allows one makes Python raise TypeError, which the runtime turns into
the same Deluge message the helper would have given.
"""

from __future__ import annotations

from dsl import ast as A

from .names import read_names

INT, INT_OR_NULL, DEC, NULL, STR, BOOL, LIST, MAP, ANY = (
    "int", "int?", "dec", "null", "str", "bool", "list", "map", "any")
INTS = frozenset({INT, INT_OR_NULL})
NUMBERS = INTS | {DEC}

_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "&&", "||"})
_INT_METHODS = frozenset({
    "size", "length", "len", "count", "indexof", "lastindexof", "find", "getoccurencecount",
    "getoccurrencecount", "tolong", "tonumber", "toint", "tobigint", "daysbetween", "getday",
    "getmonth", "getyear", "day", "month", "year", "gethour", "getminutes", "getminute",
    "getseconds", "getsecond", "hour", "minute", "second", "weekday", "getdayofweek",
    "getdayofyear", "getweekofyear", "hoursbetween", "monthsbetween", "yearsbetween", "days360",
    "monthsdiff", "yearsdiff", "totalmonth", "totalmonths", "totalyear", "totalyears",
    "unixepoch", "tounixepoch", "ceil", "floor", "getfilesize",
})
_STR_METHODS = frozenset({
    "tostring", "totext", "touppercase", "tolowercase", "upper", "lower", "trim", "ltrim",
    "rtrim", "substring", "subtext", "mid", "replaceall", "replacefirst",
    "replaceallignorecase", "replacefirstignorecase", "concat", "left", "right", "leftpad",
    "rightpad", "repeat", "proper", "encodeurl", "urlencode", "urldecode", "htmlencode",
    "htmldecode", "getalpha", "getalphanumeric", "removeallalpha", "removeallalphanumeric",
    "removefirstoccurence", "removelastoccurence", "texttohex", "hextotext", "todatestring",
    "todatetimestring", "base64encode", "base64decode",
})
_LIST_METHODS = frozenset({"keys", "values", "tolist", "sublist", "tojsonlist"})
_MAP_METHODS = frozenset({"tomap"})
_CHAINED = (A.Binary, A.Unary)
_UNKNOWN = "?"  # in the memo: not known yet in this round of the inference
_INT_KINDS = frozenset({"int", "integer", "bigint", "long", "number"})
_LITERALS = {A.NumberLit: INT, A.DecimalLit: DEC, A.TextLit: STR, A.BoolLit: BOOL,
             A.NullLit: NULL, A.ListLit: LIST, A.MapLit: MAP}


def join(a, b):
    if a is None:
        return b
    if b is None or a == b:
        return a
    if {a, b} <= {INT, INT_OR_NULL, NULL}:
        return INT_OR_NULL
    return ANY


def of_declared(kind: str):
    """The type a parameter or return value declared `kind` can hold (null included)."""
    return INT_OR_NULL if kind in _INT_KINDS else ANY


def fits(value_type, kind: str) -> bool:
    """Would a value of `value_type` pass the check for a parameter or return of `kind`?"""
    if kind in _INT_KINDS:
        return value_type in (INT, INT_OR_NULL, NULL)
    if kind in ("string", "text"):
        return value_type in (STR, NULL)
    if kind in ("decimal", "float", "double"):
        return value_type in (DEC, NULL)
    if kind in ("bool", "boolean"):
        return value_type in (BOOL, NULL)
    if kind == "list":
        return value_type in (LIST, NULL)
    if kind in ("map", "keyvalue", "record"):
        return value_type in (MAP, NULL)
    return False


class Types:
    """The types of one function's variables, and of any expression in it."""

    def __init__(self, seeds: dict[str, str], user_returns: dict[str, str], call_returns=None):
        self.seeds = seeds  # what a variable holds before the body runs (a parameter, an arg)
        self.env: dict[str, str | None] = {}
        self.user_returns = user_returns  # function name -> declared return kind
        # a call node -> the declared return kind of the user function it reaches (through
        # `thisapp.` / `standalone.`, or in another file of the app), or None
        self.call_returns = call_returns
        self._memo: dict[int, str] = {}

    def infer(self, body) -> None:
        """Join every assignment into its variable's type, until nothing changes."""
        assigned: list[tuple[str, object]] = list(self.seeds.items())
        _collect(body, assigned)
        for name, _ in assigned:
            self.env.setdefault(name, None)
        for _ in range(20):  # the lattice is shallow: this settles in a few rounds
            changed = False
            self._memo.clear()
            for name, source in assigned:
                t = source if isinstance(source, str) else self.of(source)
                new = join(self.env.get(name), t)
                if new != self.env.get(name):
                    self.env[name] = new
                    changed = True
            if not changed:
                break
        else:
            for name in self.env:
                self.env[name] = ANY
        for name, t in self.env.items():
            if t is None:
                self.env[name] = ANY
        self._memo.clear()

    def of(self, e):
        """The type of an expression (None: not known yet, during inference)."""
        key = id(e)
        found = self._memo.get(key)
        if found is not None:
            return None if found is _UNKNOWN else found
        k = type(e)
        if k is A.Binary or k is A.Unary:
            # Work out a chain (`a + b + c ...`, `!!x`) from its first link up, so that no
            # recursion runs down a long one.
            chain = []
            link = e.left if k is A.Binary else e.operand
            while type(link) in _CHAINED and id(link) not in self._memo:
                chain.append(link)
                link = link.left if type(link) is A.Binary else link.operand
            for link in reversed(chain):  # (unknown links too, until the next round)
                t = self._of(link)
                self._memo[id(link)] = _UNKNOWN if t is None else t
        t = self._of(e)
        if t is not None:
            self._memo[key] = t
        return t

    def _of(self, e):
        k = type(e)
        literal = _LITERALS.get(k)
        if literal is not None:
            return literal
        if k is A.Name:
            return self.env.get(e.name, ANY)
        if k is A.Constructor:
            if e.kind == "map":
                return MAP
            return LIST if e.kind == "list" and not e.element_type else ANY
        if k is A.Binary:
            return self._binary(e)
        if k is A.Unary:
            if e.op == "!":
                return BOOL
            t = self.of(e.operand)
            return None if t is None else (INT if t in INTS else DEC if t == DEC else ANY)
        if k is A.IfExpr:
            a, b = self.of(e.then), self.of(e.otherwise)
            return None if a is None or b is None else join(a, b)
        if k is A.IfNull:
            a, b = self.of(e.value), self.of(e.fallback)
            if a is None or b is None:
                return None
            return join(INT if a == INT_OR_NULL else (b if a == NULL else a), b)
        if k is A.Call:
            declared = self.user_returns.get(e.name)
            if declared is None and self.call_returns is not None:
                declared = self.call_returns(e)
            return of_declared(declared) if declared is not None else ANY
        if k is A.MethodCall:
            if self.call_returns is not None:
                declared = self.call_returns(e)
                if declared is not None:
                    return of_declared(declared)
            name = e.name.lower()
            if name in _INT_METHODS:
                return INT
            if name in _STR_METHODS:
                return STR
            if name in _LIST_METHODS:
                return LIST
            if name in _MAP_METHODS:
                return MAP
            return ANY
        return ANY

    def _binary(self, e):
        op = e.op
        if op in _COMPARISONS:
            return BOOL
        a, b = self.of(e.left), self.of(e.right)
        if a is None or b is None:
            return None
        if op == "+" and (a == STR or b == STR):
            return STR  # text + anything is text
        if a in INTS and b in INTS:
            return INT
        if a in NUMBERS and b in NUMBERS and op in "+-*/%":  # a DECIMAL on one side
            return DEC
        return ANY


def _collect(body, out: list) -> None:
    """(variable, expression or fixed type) for every assignment in a function body."""
    for s in body:
        k = type(s)
        if k is A.Assign and type(s.target) is A.Name:
            value = s.value if s.op == "=" else A.Binary(s.op[0], s.target, s.value)
            out.append((s.target.name, value))
        elif k is A.ForEach:
            out.append((s.var, ANY))
            _collect(s.body, out)
        elif k is A.ForIndex:
            out.append((s.var, INT))
            _collect(s.body, out)
        elif k is A.If:
            for branch in s.branches:
                _collect(branch.body, out)
            if s.orelse:
                _collect(s.orelse, out)
        elif k is A.Try:
            out.append((s.var, ANY))
            _collect(s.body, out)
            _collect(s.handler, out)


def assigned_before_read(body) -> set[str]:
    """Variables of a script body whose first mention, in top-level order, is an assignment
    (`x = ...` not reading x) or a loop over them: an argument of that name could never be
    seen, so it need not be bound and the variable's type is what the script gives it. Inside
    a loop the same holds for a variable the loop's body assigns before it reads it, when
    nothing after the loop reads it (a loop that never ran would leave it unset)."""
    reads = [read_names(s, set()) for s in body]
    last_read: dict[str, int] = {}  # name -> index of the last statement reading it
    for index, names in enumerate(reads):
        for name in names:
            last_read[name] = index
    seen: set[str] = set()
    out: set[str] = set()
    for index, s in enumerate(body):
        k = type(s)
        if k is A.Assign and type(s.target) is A.Name and s.op == "=":
            name = s.target.name
            if name not in seen and name not in read_names(s.value, set()):
                out.add(name)
        elif k in (A.ForEach, A.ForIndex):  # the loop sets its variable before the body runs
            iterable = read_names(s.iterable, set())
            if s.var not in seen and s.var not in iterable:
                out.add(s.var)
            for name in assigned_before_read(s.body):
                if name not in seen and name not in iterable and \
                        last_read.get(name, -1) <= index:
                    out.add(name)
        seen |= reads[index]
        if k is A.Assign and type(s.target) is A.Name:
            seen.add(s.target.name)
        elif k in (A.ForEach, A.ForIndex):
            seen.add(s.var)
    return out
