"""Dates as Deluge writes them: Java SimpleDateFormat patterns, and the default text forms.

    format_date(datetime(2024, 1, 5, 14, 3), "yyyy-MM-dd'T'HH:mm:ss")  -> "2024-01-05T14:03:00"
    parse_date("05/01/2024", "dd/MM/yyyy")                           -> date(2024, 1, 5)

Values are naive, in the run's time zone (LANGUAGE.md decision 14). Zone letters (z, Z, X) show
that zone's offset; a parsed offset is converted into it.
"""

from __future__ import annotations

import datetime
import re
from functools import lru_cache

from .errors import DelugeError

MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]
DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_LETTERS = set("GyYMLwWDdFEuaHkKhmsSzZX")


@lru_cache(maxsize=256)
def _tokens(pattern: str) -> tuple:
    """A pattern as (letter, count) fields and literal texts."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "'":
            if i + 1 < n and pattern[i + 1] == "'":
                out.append(("'", 0))
                i += 2
                continue
            j = pattern.find("'", i + 1)
            while j != -1 and j + 1 < n and pattern[j + 1] == "'":  # '' inside quotes
                j = pattern.find("'", j + 2)
            if j == -1:
                raise DelugeError(f"date pattern {pattern!r} has an unclosed quote")
            out.append((pattern[i + 1:j].replace("''", "'"), 0))
            i = j + 1
        elif ch in _LETTERS:
            j = i
            while j < n and pattern[j] == ch:
                j += 1
            out.append((ch, j - i))
            i = j
        elif ch.isalpha():
            raise DelugeError(f"date pattern {pattern!r}: '{ch}' is not a pattern letter "
                              "(quote literal text with '...')")
        else:
            out.append((ch, 0))
            i += 1
    return tuple(out)


def _offset_text(offset: datetime.timedelta | None, style: str, count: int) -> str:
    if offset is None:
        return ""
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    if style == "X" and minutes == 0:
        return "Z"
    if style == "X" and count == 1:
        return f"{sign}{hours:02d}" + (f"{mins:02d}" if mins else "")
    if style == "X" and count >= 3:
        return f"{sign}{hours:02d}:{mins:02d}"
    return f"{sign}{hours:02d}{mins:02d}"


def format_date(value, pattern: str, tz=None) -> str:
    """`value` (date, datetime or time) in a SimpleDateFormat pattern."""
    if isinstance(value, datetime.datetime):
        dt = value
    elif isinstance(value, datetime.date):
        dt = datetime.datetime(value.year, value.month, value.day)
    elif isinstance(value, datetime.time):
        dt = datetime.datetime.combine(datetime.date(1970, 1, 1), value)
    else:
        raise DelugeError("only dates and times have date patterns")
    offset = None
    if tz is not None:
        offset = tz.utcoffset(dt)
    out = []
    for field, count in _tokens(pattern):
        if count == 0:
            out.append(field)
            continue
        out.append(_format_field(dt, field, count, offset, tz))
    return "".join(out)


def _num(value: int, count: int) -> str:
    return str(value).zfill(count)


def _format_field(dt, field, count, offset, tz) -> str:
    if field in "yY":
        year = dt.year if field == "y" else week_year(dt.date())
        return _num(year % 100, 2) if count == 2 else _num(year, count)
    if field in "ML":
        if count >= 4:
            return MONTH_NAMES[dt.month - 1]
        if count == 3:
            return MONTH_NAMES[dt.month - 1][:3]
        return _num(dt.month, count)
    if field == "d":
        return _num(dt.day, count)
    if field == "H":
        return _num(dt.hour, count)
    if field == "k":
        return _num(dt.hour or 24, count)
    if field == "K":
        return _num(dt.hour % 12, count)
    if field == "h":
        return _num(dt.hour % 12 or 12, count)
    if field == "m":
        return _num(dt.minute, count)
    if field == "s":
        return _num(dt.second, count)
    if field == "S":
        return _num(dt.microsecond // 1000, count)
    if field == "E":
        name = DAY_NAMES[dt.weekday()]
        return name if count >= 4 else name[:3]
    if field == "u":
        return _num(dt.isoweekday(), count)
    if field == "a":
        return "AM" if dt.hour < 12 else "PM"
    if field == "D":
        return _num(dt.timetuple().tm_yday, count)
    if field == "w":
        return _num(week_of_year(dt.date()), count)
    if field == "W":
        return _num((dt.day + datetime.date(dt.year, dt.month, 1).isoweekday() % 7 - 1) // 7 + 1,
                    count)
    if field == "F":
        return _num((dt.day - 1) // 7 + 1, count)
    if field == "G":
        return "AD"
    if field == "z":
        return (tz.tzname(dt) if tz is not None else None) or _offset_text(offset, "Z", 1)
    if field in "ZX":
        return _offset_text(offset, field, count)
    raise DelugeError(f"date pattern letter '{field}' is not supported")


def week_of_year(d: datetime.date, first_day: int = 6) -> int:
    """Java's default (US) week of year: weeks start on `first_day` (a date.weekday(), Sunday
    by default) and week 1 is the week holding 1 January, so the last days of December that
    share a week with the next 1 January are in week 1."""
    start = d - datetime.timedelta(days=(d.weekday() - first_day) % 7)
    if (start + datetime.timedelta(days=6)).year > d.year:
        return 1
    jan1 = datetime.date(d.year, 1, 1)
    week1 = jan1 - datetime.timedelta(days=(jan1.weekday() - first_day) % 7)
    return (start - week1).days // 7 + 1


def week_year(d: datetime.date) -> int:
    """The year a week-of-year number belongs to (pattern letter Y)."""
    return d.year + 1 if d.month == 12 and week_of_year(d) == 1 else d.year


# Java's three-letter zone ids that are not IANA names of their own.
_SHORT_ZONES = {"PST": "America/Los_Angeles", "CST": "America/Chicago",
                "IST": "Asia/Kolkata", "JST": "Asia/Tokyo", "AST": "America/Anchorage",
                "ECT": "Europe/Paris", "BST": "Asia/Dhaka", "AET": "Australia/Sydney",
                "ACT": "Australia/Darwin", "NST": "Pacific/Auckland", "CTT": "Asia/Shanghai",
                "PRT": "America/Puerto_Rico", "SST": "Pacific/Guadalcanal"}
_OFFSET_ZONE = re.compile(r"(?:GMT|UTC|UT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)


@lru_cache(maxsize=64)
def parse_zone(name: str) -> datetime.tzinfo:
    """A time zone as Java names it: an IANA name ("Asia/Kolkata"), "GMT"/"UTC", an offset
    ("GMT-05:00", "GMT+5:30", "+0530") or one of Java's short ids ("PST", "IST")."""
    text = name.strip()
    if text.upper() in ("GMT", "UTC", "UT", "Z"):
        return datetime.timezone(datetime.timedelta(0), "UTC" if text.upper() == "UTC" else "GMT")
    m = _OFFSET_ZONE.fullmatch(text)
    if m is not None:
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 23 or minutes > 59:
            raise DelugeError(f"{name!r} is not a time zone offset")
        sign = m.group(1)
        delta = datetime.timedelta(hours=hours, minutes=minutes)
        return datetime.timezone(-delta if sign == "-" else delta,
                                 f"GMT{sign}{hours:02d}:{minutes:02d}")
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    text = _SHORT_ZONES.get(text.upper(), text)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    for known in available_timezones():
        if known.lower() == text.lower():
            return ZoneInfo(known)
    raise DelugeError(f"{name!r} is not a time zone (write a name such as \"Asia/Kolkata\" "
                      "or an offset such as \"GMT-05:00\")")


@lru_cache(maxsize=256)
def _parser(pattern: str):
    tokens = _tokens(pattern)
    parts, fields = [], []
    for i, (field, count) in enumerate(tokens):
        if count == 0:
            parts.append(re.escape(field))
            continue
        numeric_next = i + 1 < len(tokens) and tokens[i + 1][1] > 0 and \
            tokens[i + 1][0] not in "EaMLzZX"
        if field in "yY":
            parts.append(r"(\d{2})" if count == 2 else (r"(\d{4})" if numeric_next else
                                                         r"(\d{1,4})"))
        elif field in "ML" and count >= 3:
            parts.append(r"([A-Za-z]+)")
        elif field == "E":
            parts.append(r"([A-Za-z]+)")
        elif field == "a":
            parts.append(r"([AaPp][Mm])")
        elif field in "zZX":
            parts.append(r"(Z|[+-]\d{2}:?\d{2}|[+-]\d{2}|[A-Za-z]{1,6})")
        elif field == "S":
            parts.append(r"(\d{1,9})")
        else:
            parts.append(rf"(\d{{{count}}})" if numeric_next and count > 1 else r"(\d{1,2})"
                         if field not in "D" else r"(\d{1,3})")
        fields.append((field, count))
    return re.compile(r"\s*" + "".join(parts) + r"\s*\Z", re.IGNORECASE), fields


def parse_date(text: str, pattern: str, tz=None):
    """Text in a SimpleDateFormat pattern -> a DATE (no time fields) or a DATE-TIME."""
    regex, fields = _parser(pattern)
    m = regex.match(text)
    if m is None:
        raise DelugeError(f"{text!r} does not match the date pattern {pattern!r}")
    year, month, day, hour, minute, second, micro = 1970, 1, 1, 0, 0, 0, 0
    pm, offset, has_time = None, None, False
    for (field, count), raw in zip(fields, m.groups()):
        if field in "yY":
            year = int(raw) + (2000 if count == 2 and int(raw) < 70 else 1900 if count == 2
                               else 0)
        elif field in "ML":
            month = int(raw) if raw.isdigit() else _month_number(raw)
        elif field == "d":
            day = int(raw)
        elif field in "Hk":
            hour, has_time = int(raw) % 24, True
        elif field in "hK":
            hour, has_time = int(raw) % 12, True
        elif field == "m":
            minute, has_time = int(raw), True
        elif field == "s":
            second, has_time = int(raw), True
        elif field == "S":
            micro, has_time = int(raw.ljust(3, "0")[:6].ljust(6, "0")) if len(raw) > 3 else \
                int(raw) * 1000, True
        elif field == "a":
            pm = raw.lower() == "pm"
        elif field in "zZX":
            offset = _parse_offset(raw)
    if pm is not None:
        hour = hour % 12 + (12 if pm else 0)
    try:
        if not has_time and offset is None:
            return datetime.date(year, month, day)
        result = datetime.datetime(year, month, day, hour, minute, second, micro)
    except ValueError as e:
        raise DelugeError(f"{text!r} is not a real date ({e})") from None
    if offset is not None:
        utc = result - offset
        if tz is not None:
            result = (utc.replace(tzinfo=datetime.timezone.utc).astimezone(tz)
                      .replace(tzinfo=None))
        else:
            result = (utc.replace(tzinfo=datetime.timezone.utc).astimezone()
                      .replace(tzinfo=None))
    return result


def _month_number(name: str) -> int:
    low = name.lower()
    for i, full in enumerate(MONTH_NAMES, 1):
        if full.lower() == low or full[:3].lower() == low:
            return i
    raise DelugeError(f"{name!r} is not a month name")


def _parse_offset(raw: str) -> datetime.timedelta | None:
    if raw.upper() in ("Z", "UTC", "GMT"):
        return datetime.timedelta(0)
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})?", raw)
    if m is None:
        return None
    delta = datetime.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
    return -delta if m.group(1) == "-" else delta


# Text forms understood without a pattern (toDate(), toDateTime(), typed date lists).
_DEFAULT_PATTERNS = (
    "dd-MMM-yyyy HH:mm:ss", "dd-MMM-yyyy HH:mm", "dd-MMM-yyyy",
    "yyyy-MM-dd'T'HH:mm:ssXXX", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "yyyy-MM-dd'T'HH:mm:ss.SSS",
    "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd",
    "dd/MM/yyyy HH:mm:ss", "dd/MM/yyyy", "MM-dd-yyyy", "dd-MM-yyyy", "MMM dd, yyyy",
    "dd MMM yyyy", "dd MMMM yyyy", "yyyy/MM/dd",
)


def parse_default_date(text: str, tz=None):
    """A date in one of the usual forms, or None."""
    text = text.strip()
    if not text or not text[0].isdigit() and not text[0].isalpha():
        return None
    for pattern in _DEFAULT_PATTERNS:
        try:
            return parse_date(text, pattern, tz)
        except DelugeError:
            continue
    return None
