"""The table of built-in functions and methods: one entry per built-in.

    @builtin("getSuffix", on="text", doc="text after the first match of `search`; null if none")
    def _(s, search): ...

registers `text.getSuffix(search)` and its global form `getSuffix(text, search)`. Names match in
any letter case. The arity comes from the function itself. Generated code calls a method through
a table for that name and number of arguments, keyed by the receiver's Python type
(`dispatch(name, n)`), so a call costs one dict lookup; a receiver with no such method, or a
wrong number of arguments, gets a Deluge error naming both.

The tables fill as `runtime.methods` is imported, which `import runtime` leaves to whoever
reads them (the compiler; code from the cache that calls a built-in), so a cached script that
calls none starts without them.

Argument conversion goes through the few `*_arg` helpers below, so every built-in refuses a bad
argument with the same kind of message.

A method on a text, list or map is registered wrapped in `_measured` (unless its work does not
grow with its receiver: size, get, put): a large receiver or result is followed by a look at
the clock, and a large result is measured against the size limits, which also counts it towards
the next look at the memory. One statement can call such a method on a 10 MB text many times;
the statement count alone would not stop it in time (runtime/limits.py).
"""

from __future__ import annotations

import datetime

from .errors import DelugeError
from .limits import BIG, check_collection, check_text, check_time
from .values import Collection, DelugeFile, ErrorValue, TypedList, to_text, type_name

KINDS: dict[str, tuple[type, ...]] = {
    "text": (str,),
    "number": (int,),
    "decimal": (float,),
    "numeric": (int, float),
    "bool": (bool,),
    "list": (list, TypedList),
    "map": (dict,),
    "collection": (Collection,),
    "date": (datetime.date, datetime.datetime),
    "time": (datetime.time,),
    "file": (DelugeFile,),
    "error": (ErrorValue,),
    "null": (type(None),),
}
KINDS["any"] = tuple({t for kinds in KINDS.values() for t in kinds})


class Builtin:
    """One built-in: its documented name, receiver kinds ("text", "list map", ...; "" for a
    plain function), implementation, arity (not counting the receiver; max -1 = any) and doc."""

    __slots__ = ("name", "on", "fn", "min_args", "max_args", "doc")

    def __init__(self, name: str, on: str, fn, min_args: int, max_args: int, doc: str):
        self.name, self.on, self.fn = name, on, fn
        self.min_args, self.max_args, self.doc = min_args, max_args, doc

    @property
    def signature(self) -> str:
        code = getattr(self.fn, "__wrapped__", self.fn).__code__
        names = list(code.co_varnames[:code.co_argcount])
        if code.co_flags & 0x04:  # *args
            names.append(f"{code.co_varnames[code.co_argcount]}...")
        if self.on:
            names = names[1:]
            return f"{self.on.split()[0]}.{self.name}({', '.join(names)})"
        return f"{self.name}({', '.join(names)})"


METHODS: dict[str, list[Builtin]] = {}  # lower-case name -> entries (one per receiver kind set)
FUNCTIONS: dict[str, Builtin] = {}  # lower-case name -> plain functions (randomNumber, ...)


# Methods whose work does not grow with the receiver: called without a wrapper.
_CONSTANT_WORK = frozenset({"get", "size", "length", "len", "count", "isempty", "isnull", "put",
                            "add", "set", "containkey", "containskey", "getjson", "equals"})
_SIZED = frozenset({str, list, TypedList, dict, Collection})
_SIZED_KINDS = frozenset({"text", "list", "map", "collection", "any"})


def _measured(fn):
    """`fn`, followed by the size and clock checks a large receiver or result needs."""

    def method(receiver, *args):
        result = fn(receiver, *args)
        t = type(result)
        if (t is str or t is list or t is dict or t is Collection) and len(result) > BIG:
            if t is str:
                check_text(len(result))
            elif result is not receiver:
                check_collection(len(result), len(result))
            check_time()
        elif type(receiver) in _SIZED and len(receiver) > BIG:
            check_time()
        return result

    method.__wrapped__ = fn
    return method


def _arity(fn, receiver: bool) -> tuple[int, int]:
    code = fn.__code__
    count = code.co_argcount - (1 if receiver else 0)
    defaults = len(fn.__defaults__ or ())
    most = -1 if code.co_flags & 0x04 else count
    return count - defaults, most


def builtin(name: str, on: str = "", doc: str = "", aliases: tuple[str, ...] = ()):
    """Register a method (`on` = receiver kinds) or a plain function (`on` = "")."""

    def register(fn):
        low, high = _arity(fn, bool(on))
        measured = (_measured(fn) if _SIZED_KINDS.intersection(on.split())
                    and name.lower() not in _CONSTANT_WORK else fn)
        for spelling in (name,) + aliases:
            entry = Builtin(spelling, on, measured, low, high, doc)
            if on:
                METHODS.setdefault(spelling.lower(), []).append(entry)
            else:
                FUNCTIONS[spelling.lower()] = entry
        return fn

    return register


def accepts(entry: Builtin, n: int) -> bool:
    return entry.min_args <= n and (entry.max_args < 0 or n <= entry.max_args)


# ---------------------------------------------------------------------------- dispatch

_tables: dict[tuple[str, int], tuple[dict, object]] = {}


def dispatch(name: str, n: int):
    """(table, fallback) for calling method `name` with `n` arguments: `table` maps receiver
    types to implementations; `fallback(receiver, *args)` raises the right Deluge error."""
    key = (name, n)
    found = _tables.get(key)
    if found is not None:
        return found
    table: dict[type, object] = {}
    entries = METHODS.get(name, [])
    # entries for particular kinds win over those for any value
    for entry in sorted(entries, key=lambda e: e.on == "any"):
        if accepts(entry, n):
            for kind in entry.on.split():
                for t in KINDS[kind]:
                    table.setdefault(t, entry.fn)
    shown = entries[0].name if entries else name
    _add_conversions(table, entries, n, shown)

    def fallback(receiver, *args):
        for entry in entries:
            if type(receiver) in {t for k in entry.on.split() for t in KINDS[k]}:
                expected = (f"{entry.min_args}" if entry.min_args == entry.max_args else
                            f"{entry.min_args} to {entry.max_args}" if entry.max_args >= 0 else
                            f"at least {entry.min_args}")
                raise DelugeError(f"{shown} takes {expected} argument"
                                  f"{'' if expected == '1' else 's'}, got {len(args)}")
        if receiver is None:
            raise DelugeError(f"Cannot call '{shown}' on null")
        hint = ""
        if type(receiver) in _TEXT_FORM_TYPES and any("text" in e.on.split() for e in entries):
            hint = f" (it works on text: write .toString().{shown}(...))"
        raise DelugeError(f"'{shown}' is not a function of {type_name(receiver)}{hint}")

    found = _tables[key] = (table, fallback)
    return found


# Zoho's date functions take a text that spells a date as well as a date ("2024-01-15".addDay(1),
# its pages say so outside Creator); the receiver's own functions come first. Its text functions
# are documented for TEXT only, so a number or a date must be turned into text first.
_TEXT_FORM_TYPES = (int, float, datetime.date, datetime.datetime)


def _add_conversions(table: dict, entries: list, n: int, shown: str) -> None:
    for entry in entries:
        if accepts(entry, n) and "date" in entry.on.split() and str not in table:
            table[str] = _on_date_text(entry.fn, shown)


def _on_date_text(fn, shown: str):
    def call(receiver, *args):
        from .dates import parse_default_date

        when = parse_default_date(receiver)
        if when is None:
            raise DelugeError(f"'{shown}' is not a function of TEXT (and {receiver!r} is not "
                              "a date)")
        return fn(when, *args)

    return call


def is_method(name: str) -> bool:
    return name in METHODS


def arities(name: str) -> set[int] | None:
    """Numbers of arguments some receiver accepts for method `name` (None: any)."""
    out: set[int] = set()
    for entry in METHODS.get(name, []):
        if entry.max_args < 0:
            return None
        out.update(range(entry.min_args, entry.max_args + 1))
    return out


def all_builtins() -> list[Builtin]:
    """Every built-in once per spelling, for `sluice builtins` and completion."""
    seen = []
    for entries in METHODS.values():
        seen.extend(entries)
    seen.extend(FUNCTIONS.values())
    return sorted(seen, key=lambda b: (b.name.lower(), b.on))


# ---------------------------------------------------------------------------- argument checking


def _bad(fn: str, index: int, want: str, got) -> DelugeError:
    shown = "null" if got is None else f"{type_name(got)} {to_text(got)!r}"
    return DelugeError(f"{fn}: argument {index} must be {want}, found {shown}")


def text_arg(v, fn: str, index: int) -> str:
    t = type(v)
    if t is str:
        return v
    if t is int or t is float or t is bool:
        return to_text(v)
    raise _bad(fn, index, "TEXT", v)


def int_arg(v, fn: str, index: int) -> int:
    t = type(v)
    if t is int:
        return v
    if t is float and v.is_integer():
        return int(v)
    if t is str:
        s = v.strip()
        if s.lstrip("+-").isdigit() and len(s) < 30 and s.isascii():
            return int(s)
    raise _bad(fn, index, "a NUMBER", v)


def num_arg(v, fn: str, index: int) -> int | float:
    t = type(v)
    if t is int or t is float:
        return v
    if t is str:
        try:
            return int(v) if v.strip().lstrip("+-").isdigit() and len(v) < 30 else float(v)
        except ValueError:
            pass
    raise _bad(fn, index, "a NUMBER or DECIMAL", v)


def bool_arg(v, fn: str, index: int) -> bool:
    if type(v) is bool:
        return v
    if type(v) is str and v.lower() in ("true", "false"):
        return v.lower() == "true"
    raise _bad(fn, index, "a BOOLEAN", v)


def list_arg(v, fn: str, index: int) -> list:
    t = type(v)
    if t is list or t is TypedList:
        return v
    if t is Collection and not v.is_map:
        return v.items or []
    raise _bad(fn, index, "a LIST", v)


def map_arg(v, fn: str, index: int) -> dict:
    if type(v) is dict:
        return v
    if type(v) is Collection and (v.items is None or v.is_map):
        return v.items or {}
    raise _bad(fn, index, "a KEY-VALUE map", v)


def date_arg(v, fn: str, index: int):
    if type(v) in (datetime.date, datetime.datetime):
        return v
    if type(v) is str:
        from .dates import parse_default_date

        parsed = parse_default_date(v)
        if parsed is not None:
            return parsed
    raise _bad(fn, index, "a DATE or DATE-TIME", v)
