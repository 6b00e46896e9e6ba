"""Deluge values on Python types, and what every value can do: name its type, print, be JSON,
compare.

    TEXT str          NUMBER int (64-bit, checked)   DECIMAL float      BOOLEAN bool
    null None         DATE datetime.date             DATE-TIME datetime.datetime
    TIME datetime.time
    LIST list (TypedList for List:String() and friends)
    KEY-VALUE dict (text keys, insertion order)      COLLECTION Collection
    FILE DelugeFile   the caught error of `catch (e)`: ErrorValue

Printing follows LANGUAGE.md decision 12; equality and order decision 11.

Lists and maps are Python's own, so a script can put a map inside itself, or the same map under
two keys at each of thirty levels: printed, that is a billion leaves. Before a list or map is
printed, `measure_printed` walks its lists and maps (their elements at C speed) and refuses one
whose printed form would pass the text limit, or that contains itself; equality remembers the
pairs it has already compared, so shared parts are compared once.
"""

from __future__ import annotations

import datetime
from array import array

from .errors import DelugeError
from .limits import text_limit

MIN_NUMBER, MAX_NUMBER = -(2**63), 2**63 - 1
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class TypedList(list):
    """`List:String()` and friends: a list whose elements are converted (or refused) on entry."""

    __slots__ = ("element_type",)

    def __init__(self, element_type: str, items=()):
        super().__init__()
        self.element_type = element_type
        for item in items:
            self.append(coerce_element(element_type, item))

    def copy(self):
        out = TypedList(self.element_type)
        out.extend(self)
        return out


class Collection:
    """`{}` and `Collection()`: becomes list-like or map-like with its first element."""

    __slots__ = ("items",)

    def __init__(self, items=None):
        self.items = items  # None (still empty and undecided), a list, or a dict

    @property
    def is_map(self) -> bool:
        return type(self.items) is dict

    def __iter__(self):
        return iter(self.items or ())

    def __len__(self):
        return len(self.items or ())

    def __repr__(self) -> str:
        return f"Collection({self.items!r})"


class DelugeFile:
    """A FILE value: a name, bytes and a content type."""

    __slots__ = ("name", "content", "content_type")

    def __init__(self, name: str, content: bytes, content_type: str = "application/octet-stream"):
        self.name = name
        self.content = content
        self.content_type = content_type

    def __eq__(self, other):
        return type(other) is DelugeFile and (self.name, self.content) == (other.name,
                                                                          other.content)

    def __hash__(self):
        return hash((self.name, self.content))

    def __repr__(self) -> str:
        return f"DelugeFile({self.name!r}, {len(self.content)} bytes)"


class ErrorValue:
    """The value of `e` in `catch (e)`: `e.message`, `e.lineNo`, and the full text when printed."""

    __slots__ = ("message", "line", "thrown")

    def __init__(self, message: str, line: int, thrown=None):
        self.message = message
        self.line = line
        self.thrown = thrown

    def text(self) -> str:
        return f"Error at line {self.line}: {self.message}"

    def __eq__(self, other):
        return type(other) is ErrorValue and (self.message, self.line) == (other.message,
                                                                          other.line)

    def __hash__(self):
        return hash((self.message, self.line))


# ---------------------------------------------------------------------------- type names

_TYPE_NAMES = {
    str: "TEXT", int: "NUMBER", float: "DECIMAL", bool: "BOOLEAN", type(None): "NULL",
    datetime.date: "DATE", datetime.datetime: "DATE-TIME", datetime.time: "TIME",
    list: "LIST", TypedList: "LIST", dict: "KEY-VALUE", Collection: "COLLECTION",
    DelugeFile: "FILE", ErrorValue: "KEY-VALUE",
}


def type_name(v) -> str:
    return _TYPE_NAMES.get(type(v), "VALUE")


def is_list(v) -> bool:
    t = type(v)
    return t is list or t is TypedList or (t is Collection and not v.is_map)


def is_map(v) -> bool:
    t = type(v)
    return t is dict or (t is Collection and v.is_map)


def number_overflow() -> DelugeError:
    return DelugeError("Number overflow: the result does not fit in a 64-bit NUMBER")


def check_number(n: int) -> int:
    if MIN_NUMBER <= n <= MAX_NUMBER:
        return n
    raise number_overflow()


def check_decimal(x: float) -> float:
    if x != x or x in (float("inf"), float("-inf")):
        raise DelugeError("Decimal overflow: the result is not a finite number")
    return x


# ---------------------------------------------------------------------------- printing


def decimal_text(x: float) -> str:
    """Shortest round-trip form, always with a decimal point: 2.5, 3.0, 0.1."""
    text = repr(x)
    if "e" in text or "E" in text:
        from decimal import Decimal

        text = format(Decimal(text), "f")
        if "." not in text:
            text += ".0"
    elif "." not in text and text not in ("inf", "-inf", "nan"):
        text += ".0"
    return text


def date_text(d: datetime.date) -> str:
    return f"{d.day:02d}-{MONTHS[d.month - 1]}-{d.year:04d}"


def datetime_text(d: datetime.datetime) -> str:
    return f"{date_text(d)} {d.hour:02d}:{d.minute:02d}:{d.second:02d}"


def time_text(t: datetime.time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"


# Values that print, and go into JSON, as a text: dates and times, files (their name), errors.
_SHOWN_AS_TEXT = {datetime.datetime: datetime_text, datetime.date: date_text,
                  datetime.time: time_text, DelugeFile: lambda f: f.name,
                  ErrorValue: lambda e: e.text()}


_CONTAINER_TYPES = frozenset({dict, list, TypedList, Collection})


def measure_printed(v) -> None:
    """Refuse to print `v` when its printed form would pass the run's text limit (each element
    printed at least once for each path to it) or when it contains itself."""
    t = type(v)
    if t is Collection:
        v = v.items
        t = type(v)
    if t is not dict and t is not list and t is not TypedList:
        return
    if len(v) <= 32 and _small_size(v) >= 0:  # the common case: nothing to fear
        return
    total, nested = _scan(v)
    if nested is not None:  # next: lists and maps of plain values inside
        for child in nested:
            if type(child) is Collection:
                child = child.items
                if child is None:
                    continue
            size, inner = _scan(child)
            if inner is not None:
                break
            total += size
        else:
            nested = None
    if nested is None:
        if total > _SHORT:
            limit = text_limit()
            if total > limit:
                raise _too_long(limit)
        return
    total, _ = _scan(v)
    limit = text_limit()
    on_path = {id(v)}
    done: dict[int, int] = {}  # id of a list or map walked already -> its size, so a part
    # shared by many paths counts each time it is met but is walked once
    stack = [(v, iter(nested), 0)]
    while stack:
        container, children, before = stack[-1]
        child = next(children, _END)
        if child is _END:
            stack.pop()
            on_path.discard(id(container))
            done[id(container)] = total - before
            continue
        if type(child) is Collection:
            child = child.items
            if child is None:
                continue
        key = id(child)
        if key in done:
            total += done[key]
        elif key in on_path:
            raise DelugeError("a list or map that contains itself cannot be printed")
        else:
            before = total
            size, inner = _scan(child)
            total += size
            if inner is not None:
                on_path.add(key)
                stack.append((child, iter(inner), before))
            else:
                done[key] = size
        if total > limit:
            raise _too_long(limit)


_END = object()
_SHORT = 1000  # shorter printed forms are not looked at against the limit (as before it)


def _too_long(limit) -> DelugeError:
    return DelugeError(f"the list or map printed would be longer than {int(limit):,} "
                       "characters (limit text_size)")


def _small_size(c) -> int:
    """The printed size of a small list or map holding plain values and small lists and maps
    of plain values (the common shape: a record with a list of tags), when it is short; -1
    for anything else, which measure_printed then walks."""
    size = len(c) + 1
    for x in (c.values() if type(c) is dict else c):
        tx = type(x)
        if tx is str:
            size += len(x)
        elif tx is dict or tx is list:
            if len(x) > 32:
                return -1
            size += len(x) + 1
            for y in (x.values() if tx is dict else x):
                ty = type(y)
                if ty is str:
                    size += len(y)
                elif ty in _CONTAINER_TYPES:
                    return -1
        elif tx in _CONTAINER_TYPES:
            return -1
    return size if size <= _SHORT else -1


def _scan(c) -> tuple[int, list | None]:
    """At least as many characters as `c` prints to, not counting the lists and maps in it;
    and those (None when there are none). A map's keys are not counted: they are distinct
    texts, so they cannot print longer than the memory they take."""
    values = c.values() if type(c) is dict else c
    size = len(c) + 1
    if len(c) <= 32:  # small: one pass in Python beats building sets
        nested = None
        for x in values:
            tx = type(x)
            if tx is str:
                size += len(x)
            elif tx in _CONTAINER_TYPES:
                if nested is None:
                    nested = [x]
                else:
                    nested.append(x)
        return size, nested
    types = set(map(type, values))
    if str in types:
        size += (sum(map(len, values)) if len(types) == 1 else
                 sum([len(x) for x in values if type(x) is str]))
    if _CONTAINER_TYPES.isdisjoint(types):
        return size, None
    return size, [x for x in values if type(x) in _CONTAINER_TYPES]


def to_text(v) -> str:
    """How `info` and `toString()` show a value."""
    t = type(v)
    if t is str:
        return v
    if t is int:
        return str(v)
    if t is float:
        return decimal_text(v)
    if t is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if t is dict:
        return json_text(v)
    if t is list or t is TypedList:
        measure_printed(v)
        return ",".join([_element_text(x) for x in v])
    if t is Collection:
        return "{}" if v.items is None else to_text(v.items)
    shown = _SHOWN_AS_TEXT.get(t)
    if shown is not None:
        return shown(v)
    raise DelugeError(f"cannot show a value of type {type(v).__name__}")


def concat_text(v) -> str:
    """A value inside `+` with text: as printed, except that null is empty."""
    return "" if v is None else to_text(v)


def _element_text(v) -> str:
    t = type(v)
    if t is dict or t is list or t is TypedList or t is Collection:
        return json_text(v, measured=True)  # by the list holding it
    return to_text(v)


def _json_default(v):
    t = type(v)
    if t is Collection:
        return v.items if v.items is not None else {}
    shown = _SHOWN_AS_TEXT.get(t)
    if shown is not None:
        return shown(v)
    raise TypeError(f"not a Deluge value: {t.__name__}")


_encode = None  # one JSON encoder, made on first use (json is not needed to start)


def json_text(v, measured: bool = False) -> str:
    """Compact JSON, as Deluge prints maps: {"a":1,"b":[1,2]}; dates as their printed text.
    `measured`: measure_printed(v) has passed already."""
    global _encode
    if not measured:
        measure_printed(v)
    if _encode is None:
        import json

        _encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False,
                                   default=_json_default, allow_nan=False).encode
    try:
        return _encode(v)
    except ValueError:
        raise DelugeError("a decimal that is not a finite number cannot be written as JSON") \
            from None
    except RecursionError:
        raise DelugeError("a list or map nested this deep cannot be printed") from None


def to_plain(v):
    """Deluge value -> JSON-compatible Python (for `sluice run --json` and hosts)."""
    t = type(v)
    if t in (str, int, float, bool) or v is None:
        return v
    if t is dict:
        return {k: to_plain(x) for k, x in v.items()}
    if t is list or t is TypedList:
        return [to_plain(x) for x in v]
    if t is Collection:
        return to_plain(v.items) if v.items is not None else {}
    return _json_default(v)


def from_json(text: str):
    """JSON text -> Deluge values (objects keep their key order)."""
    import json

    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except ValueError as e:
        if "integer string conversion" in str(e):  # Python's own limit on digits
            raise ValueError("a number in it has too many digits") from None
        raise
    return _from_plain(value)


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


_INFINITY = float("inf")


def _finite_float(text: str) -> float:
    """A JSON number with a fraction or exponent; 1e999 is no DECIMAL."""
    x = float(text)
    if x == _INFINITY or x == -_INFINITY:
        raise ValueError("a number in it is too big for a DECIMAL")
    return x


_KEPT_AS_IS = frozenset({str, float, bool, type(None)})


def _from_plain(v):
    t = type(v)
    if t is int:
        if MIN_NUMBER <= v <= MAX_NUMBER:
            return v
        try:
            return float(v)
        except OverflowError:
            raise ValueError("a number in it is too big for a DECIMAL") from None
    if t is dict:
        return {k: _from_plain(x) for k, x in v.items()}
    if t is list:
        # Long lists of plain values are common (a host's rows, ids): tell at C speed whether
        # any element needs converting. An array of 64-bit numbers takes only ints in range.
        try:
            array("q", v)
            return list(v)
        except (TypeError, OverflowError):
            pass
        if set(map(type, v)) <= _KEPT_AS_IS:
            return list(v)
        return [_from_plain(x) for x in v]
    return v


def from_plain(v):
    """Python data from a host (JSON-like) -> Deluge values."""
    return _from_plain(v)


# ---------------------------------------------------------------------------- equality and order

_NUMERIC = (int, float)


def equal(a, b) -> bool:
    """Deluge `==`: numbers by value, text case-sensitive, lists and maps by content, values
    of different kinds unequal."""
    ta, tb = type(a), type(b)
    if ta is tb and (ta is str or ta is int or ta is bool or ta is float):
        return a == b
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a == b
    if a is None or b is None:
        return a is b
    if (ta in _CONTAINER_TYPES or tb in _CONTAINER_TYPES) and (is_list(a) or is_map(a)):
        return _equal_containers(a, b, {})
    if ta is Collection and tb is Collection:
        return a.items is None and b.items is None
    if _is_date(a) and _is_date(b):
        return _as_datetime(a) == _as_datetime(b)
    if ta is tb:
        return a == b
    return False


def _equal_containers(a, b, seen: dict) -> bool:
    """Lists and maps by content. `seen` holds the pairs compared so far (or being compared):
    a part shared by many paths is compared once, and a value that contains itself compares
    equal where its walk comes round again (as two infinite unfoldings would)."""
    if a is b:
        return True
    key = (id(a), id(b))
    if key in seen:
        return seen[key]
    if is_list(a) and is_list(b):
        if len(a) != len(b):
            return False
        seen[key] = True
        same = all(_equal_in(x, y, seen) for x, y in zip(a, b))
    elif is_map(a) and is_map(b):
        ma = a.items if type(a) is Collection else a
        mb = b.items if type(b) is Collection else b
        if ma.keys() != mb.keys():
            return False
        seen[key] = True
        same = all(_equal_in(ma[k], mb[k], seen) for k in ma)
    else:  # a list and a map
        return False
    seen[key] = same
    return same


def _equal_in(x, y, seen: dict) -> bool:
    if type(x) in _CONTAINER_TYPES and type(y) in _CONTAINER_TYPES:
        return _equal_containers(x, y, seen)
    return equal(x, y)


def _is_date(v) -> bool:
    return type(v) in (datetime.date, datetime.datetime)


def _as_datetime(v) -> datetime.datetime:
    if type(v) is datetime.date:
        return datetime.datetime(v.year, v.month, v.day)
    return v


def compare(a, b) -> int:
    """Deluge order (`<`, sort): numbers by value, text lexicographically, dates by time.
    Values of different kinds, and kinds with no order, are an error."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        pass
    elif ta is str and tb is str:
        pass
    elif _is_date(a) and _is_date(b):
        a, b = _as_datetime(a), _as_datetime(b)
    elif ta is datetime.time and tb is datetime.time:
        pass
    else:
        if ta is tb and ta is not bool and a is not None:
            raise DelugeError(f"values of type {type_name(a)} cannot be ordered")
        raise DelugeError(f"cannot compare {type_name(a)} with {type_name(b)}")
    return (a > b) - (a < b)


# ---------------------------------------------------------------------------- typed lists

_ELEMENT_NAMES = {"string": "TEXT", "text": "TEXT", "int": "NUMBER", "integer": "NUMBER",
                  "bigint": "NUMBER", "long": "NUMBER", "number": "NUMBER", "decimal": "DECIMAL",
                  "float": "DECIMAL", "double": "DECIMAL", "bool": "BOOLEAN",
                  "boolean": "BOOLEAN", "date": "DATE-TIME", "datetime": "DATE-TIME",
                  "timestamp": "DATE-TIME", "time": "TIME", "file": "FILE", "record": "KEY-VALUE",
                  "keyvalue": "KEY-VALUE", "object": "VALUE"}


def coerce_element(element_type: str, v):
    """A value entering a typed list, converted as Zoho's typed-list rules say, or refused."""
    kind = _ELEMENT_NAMES.get(element_type, "VALUE")
    t = type(v)
    if kind == "TEXT":
        if t is str:
            return v
        if t in (int, float, bool) or _is_date(v):
            return to_text(v)
    elif kind == "NUMBER":
        if t is int:
            return v
        if t is str and v.strip().lstrip("+-").isdigit() and v.isascii() and len(v) < 30:
            return check_number(int(v.strip()))
        if t is float and v.is_integer():
            return check_number(int(v))
    elif kind == "DECIMAL":
        if t is float:
            return v
        if t is int:
            return float(v)
        if t is str:
            try:
                return check_decimal(float(v))
            except ValueError:
                pass
    elif kind == "BOOLEAN":
        if t is bool:
            return v
        if t is str and v.lower() in ("true", "false"):
            return v.lower() == "true"
    elif kind == "DATE-TIME":
        if _is_date(v):
            return v
        if t is int:
            return datetime.datetime.fromtimestamp(v / 1000)
        if t is str:
            from .dates import parse_default_date

            parsed = parse_default_date(v)
            if parsed is not None:
                return parsed
    elif kind == "KEY-VALUE":
        if is_map(v):
            return v
    else:
        return v
    raise DelugeError(f"a {kind} list cannot hold {type_name(v)} value {to_text(v)!r}"
                      if v is not None else f"a {kind} list cannot hold null")
