"""Built-ins every value has: null checks, type tests, showing and comparing."""

from __future__ import annotations

import datetime
import re

from ..builtins import builtin, text_arg
from ..errors import DelugeError
from ..limits import check_text
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


@builtin("isBlank", on=_ANY, doc="true for null, a text of only spaces, an empty list or map")
def _is_blank(v):
    if type(v) is str:
        return v.strip() == ""
    return _is_empty(v)


@builtin("toString", on=_ANY, doc="the value as text; a date-time (or epoch milliseconds, or a "
                                  "text that reads as a date) with a pattern and an optional "
                                  "time zone: toString(\"yyyy-MM-dd HH:mm\", \"Asia/Kolkata\"); "
                                  "a number with a number pattern; a list joined with a separator")
def _to_string(v, pattern=None, time_zone=None):
    if pattern is None:
        return to_text(v)
    t = type(v)
    pattern = to_text(pattern)
    zone = None if time_zone is None else text_arg(time_zone, "toString", 2)
    if t in (datetime.date, datetime.datetime, datetime.time):
        from .dates import format_in_zone

        return format_in_zone(v, pattern, zone)
    if is_list(v):
        parts = [to_text(x) for x in v]
        check_text(sum(map(len, parts)) + len(pattern) * max(len(parts) - 1, 0))
        return pattern.join(parts)
    if t is int or t is float:
        if zone is None and not _is_date_pattern(pattern):
            from .numbers import format_number

            return format_number(v, pattern)
        from .dates import epoch_to_date, format_in_zone

        return format_in_zone(epoch_to_date(v), pattern, zone)
    if t is str:
        from .dates import format_in_zone, text_as_date

        when = text_as_date(v)
        if when is not None:
            return format_in_zone(when, pattern, zone)
        if zone is not None:
            raise DelugeError(f"toString: {v!r} is not a date-time, so it has no time zone")
    return to_text(v)


def _is_date_pattern(pattern: str) -> bool:
    """A SimpleDateFormat pattern rather than a number pattern ('#,##0.00')?"""
    unquoted = re.sub(r"'[^']*'", "", pattern)
    has_date_letter = re.search(r"[yMdHhmsEaS]", unquoted) is not None
    return has_date_letter and re.search(r"[#0]", unquoted) is None


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
