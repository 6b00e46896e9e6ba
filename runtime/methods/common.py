"""Built-ins every value has: null checks, type tests, showing and comparing."""

from __future__ import annotations

import datetime

from ..builtins import builtin
from ..values import Collection, equal, is_list, is_map, to_text

_ANY = "any"


@builtin("isNull", on=_ANY, doc="true when the value is null")
def _is_null(v):
    return v is None


@builtin("isEmpty", on=_ANY, doc="true for null, empty text, an empty list or map")
def _is_empty(v):
    if v is None:
        return True
    t = type(v)
    if t is str:
        return v == ""
    if is_list(v) or is_map(v) or t is Collection:
        return len(v) == 0
    return False


@builtin("toString", on=_ANY, doc="the value as text (a date or number with a pattern: "
                                  "toString(\"yyyy-MM-dd\"); a list joined with a separator)")
def _to_string(v, pattern=None):
    if pattern is None:
        return to_text(v)
    if type(v) in (datetime.date, datetime.datetime, datetime.time):
        from .dates import format_in_run_zone

        return format_in_run_zone(v, to_text(pattern))
    if is_list(v):
        return to_text(pattern).join(to_text(x) for x in v)
    if type(v) in (int, float):
        from .numbers import format_number

        return format_number(v, to_text(pattern))
    return to_text(v)


@builtin("toText", on=_ANY, doc="the value as text")
def _to_text(v):
    return to_text(v)


@builtin("equals", on=_ANY, doc="the same as ==")
def _equals(v, other):
    return equal(v, other)


@builtin("isText", on=_ANY, doc="true for a TEXT value")
def _is_text(v):
    return type(v) is str


@builtin("isNumber", on=_ANY, doc="true for a NUMBER, or text that is a whole number")
def _is_number(v):
    if type(v) is int:
        return True
    if type(v) is str:
        s = v.strip()
        return s.lstrip("+-").isdigit()
    return False


@builtin("isDecimal", on=_ANY, doc="true for a DECIMAL, or text that is a decimal number")
def _is_decimal(v):
    if type(v) is float:
        return True
    if type(v) is str:
        try:
            float(v)
        except ValueError:
            return False
        return "." in v and v.strip().replace(".", "", 1).lstrip("+-").isdigit()
    return False


@builtin("isDate", on=_ANY, doc="true for a date, or text that reads as one")
def _is_date(v):
    if type(v) in (datetime.date, datetime.datetime):
        return True
    if type(v) is str:
        from ..dates import parse_default_date

        return parse_default_date(v) is not None
    return False


@builtin("isList", on=_ANY, doc="true for a list")
def _is_list(v):
    return is_list(v)


@builtin("isMap", on=_ANY, doc="true for a key-value map")
def _is_map(v):
    return is_map(v)


@builtin("isBoolean", on=_ANY, doc="true for true or false")
def _is_boolean(v):
    return type(v) is bool
