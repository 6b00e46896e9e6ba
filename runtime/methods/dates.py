"""DATE, DATE-TIME and TIME built-ins. A date stays a date through addDay and friends; adding
hours, minutes or seconds to a date gives a date-time. Weeks start on Sunday (weekday() is 1 on
Sunday .. 7 on Saturday), as in Zoho."""

from __future__ import annotations

import datetime

from ..builtins import builtin, date_arg, int_arg, list_arg, map_arg, text_arg
from ..dates import (DAY_NAMES, format_date, parse_date, parse_default_date, parse_zone,
                     week_of_year)
from ..errors import DelugeError
from ..limits import current_run
from ..values import date_text, datetime_text, decimal_text

_D = "date"
_DT = datetime.datetime


def run_zone():
    """The run's time zone (a tzinfo), or the machine's."""
    run = current_run.get(None)
    name = run.services.timezone if run is not None else None
    if name:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    return datetime.datetime.now().astimezone().tzinfo


def format_in_run_zone(value, pattern: str) -> str:
    return format_date(value, pattern, run_zone() if any(c in pattern for c in "zZX") else None)


def format_in_zone(value, pattern: str, zone: str | None) -> str:
    """`value` (read in the run's time zone) as the clock shows it in `zone`, in a pattern."""
    if zone is None:
        return format_in_run_zone(value, pattern)
    target = parse_zone(zone)
    if type(value) is datetime.time:
        return format_date(value, pattern, target)
    moved = _as_dt(value).replace(tzinfo=run_zone()).astimezone(target).replace(tzinfo=None)
    return format_date(moved, pattern, target)


def text_as_date(text: str):
    """The date or date-time a text spells in one of the usual forms, or None."""
    return parse_default_date(text, run_zone())


def _as_dt(d) -> datetime.datetime:
    return d if type(d) is _DT else _DT(d.year, d.month, d.day)


def _same_kind(original, result: datetime.datetime):
    return result.date() if type(original) is datetime.date else result


def _add_days(d, n: int):
    try:
        return d + datetime.timedelta(days=n)
    except OverflowError:
        raise DelugeError("the date is out of range") from None


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _add_months(d, n: int):
    month = d.month - 1 + n
    year = d.year + month // 12
    month = month % 12 + 1
    if not 1 <= year <= 9999:
        raise DelugeError("the date is out of range")
    day = min(d.day, days_in_month(year, month))
    return d.replace(year=year, month=month, day=day)


@builtin("addDay", on=_D, aliases=("addDays",), doc="n days later")
def _add_day(d, n):
    return _add_days(d, n if type(n) is int else int_arg(n, "addDay", 1))


@builtin("subDay", on=_D, aliases=("subDays",), doc="n days earlier")
def _sub_day(d, n):
    return _add_days(d, -int_arg(n, "subDay", 1))


@builtin("addWeek", on=_D, aliases=("addWeeks",), doc="n weeks later")
def _add_week(d, n):
    return _add_days(d, 7 * int_arg(n, "addWeek", 1))


@builtin("subWeek", on=_D, aliases=("subWeeks",), doc="n weeks earlier")
def _sub_week(d, n):
    return _add_days(d, -7 * int_arg(n, "subWeek", 1))


@builtin("addMonth", on=_D, aliases=("addMonths",),
         doc="n months later (the 31st becomes the month's last day when needed)")
def _add_month(d, n):
    return _add_months(d, int_arg(n, "addMonth", 1))


@builtin("subMonth", on=_D, aliases=("subMonths",), doc="n months earlier")
def _sub_month(d, n):
    return _add_months(d, -int_arg(n, "subMonth", 1))


@builtin("addYear", on=_D, aliases=("addYears",), doc="n years later")
def _add_year(d, n):
    return _add_months(d, 12 * int_arg(n, "addYear", 1))


@builtin("subYear", on=_D, aliases=("subYears",), doc="n years earlier")
def _sub_year(d, n):
    return _add_months(d, -12 * int_arg(n, "subYear", 1))


def _add_time(d, seconds: int):
    try:
        return _as_dt(d) + datetime.timedelta(seconds=seconds)
    except OverflowError:
        raise DelugeError("the date is out of range") from None


@builtin("addHour", on=_D, aliases=("addHours",), doc="n hours later (a date-time)")
def _add_hour(d, n):
    return _add_time(d, 3600 * int_arg(n, "addHour", 1))


@builtin("subHour", on=_D, aliases=("subHours",), doc="n hours earlier (a date-time)")
def _sub_hour(d, n):
    return _add_time(d, -3600 * int_arg(n, "subHour", 1))


@builtin("addMinutes", on=_D, aliases=("addMinute",), doc="n minutes later (a date-time)")
def _add_minutes(d, n):
    return _add_time(d, 60 * int_arg(n, "addMinutes", 1))


@builtin("subMinutes", on=_D, aliases=("subMinute",), doc="n minutes earlier (a date-time)")
def _sub_minutes(d, n):
    return _add_time(d, -60 * int_arg(n, "subMinutes", 1))


@builtin("addSeconds", on=_D, aliases=("addSecond",), doc="n seconds later (a date-time)")
def _add_seconds(d, n):
    return _add_time(d, int_arg(n, "addSeconds", 1))


@builtin("subSeconds", on=_D, aliases=("subSecond",), doc="n seconds earlier (a date-time)")
def _sub_seconds(d, n):
    return _add_time(d, -int_arg(n, "subSeconds", 1))


# Business days (Zoho's addBusinessDay, subBusinessDay and workday pages): weekends are a list
# of day names, Saturday and Sunday unless given; holidays a list of dates; a negative count
# gives the date back as it is.
_MOST_BUSINESS_DAYS = 3_000_000  # past year 9999 from any date: the date would be out of range


def _weekend_days(weekends, fn: str) -> frozenset:
    if weekends is None:
        return frozenset((5, 6))
    days = frozenset(_target_weekday(w, fn) for w in list_arg(weekends, fn, 2))
    if len(days) == 7:
        raise DelugeError(f"{fn}: every day of the week is a weekend, so no day is a business day")
    return days


def _holiday_dates(holidays, fn: str) -> frozenset:
    if holidays is None:
        return frozenset()
    return frozenset(_day_of(date_arg(h, fn, 3)) for h in list_arg(holidays, fn, 3))


def _business_days(d, n, weekends, holidays, fn: str, step: int):
    count = int_arg(n, fn, 1)
    off, holiday = _weekend_days(weekends, fn), _holiday_dates(holidays, fn)
    if count <= 0:
        return d
    if count > _MOST_BUSINESS_DAYS:
        raise DelugeError("the date is out of range")
    while count:
        d = _add_days(d, step)
        if d.weekday() not in off and (not holiday or _day_of(d) not in holiday):
            count -= 1
    return d


@builtin("addBusinessDay", on=_D, aliases=("addBusinessDays",),
         doc="n business days later (weekends: a list of day names, Saturday and Sunday by "
             "default; holidays: a list of dates); a negative n changes nothing")
def _add_business_day(d, n, weekends=None, holidays=None):
    return _business_days(d, n, weekends, holidays, "addBusinessDay", 1)


@builtin("subBusinessDay", on=_D, aliases=("subBusinessDays",),
         doc="n business days earlier (at most 365; weekends and holidays as addBusinessDay)")
def _sub_business_day(d, n, weekends=None, holidays=None):
    if int_arg(n, "subBusinessDay", 1) > 365:
        raise DelugeError(f"subBusinessDay: at most 365 business days, got {n}")
    return _business_days(d, n, weekends, holidays, "subBusinessDay", -1)


@builtin("workday", on=_D, doc="the date n business days later, without its time (weekends "
                               "and holidays as addBusinessDay)")
def _workday(d, n, weekends=None, holidays=None):
    return _day_of(_business_days(d, n, weekends, holidays, "workday", 1))


def _business_minutes(hours, fn: str) -> int:
    """Zoho's hours count: whole hours, and the digits after a decimal point are minutes
    (its page adds one business minute with 0.1)."""
    if type(hours) is float:
        text = decimal_text(abs(hours))
        if not text.replace(".", "", 1).isdigit():  # 1.0E-5 and the like
            return round(hours * 60)
        whole, _, digits = text.partition(".")
        minutes = int(whole) * 60 + int(digits or 0)
        return -minutes if hours < 0 else minutes
    return 60 * int_arg(hours, fn, 1)


def _business_window(business_hours, fn: str) -> tuple[int, int]:
    if business_hours is None:
        return 9, 17
    window = map_arg(business_hours, fn, 4)
    start = int_arg(window.get("start", 9), fn, 4)
    end = int_arg(window.get("end", 17), fn, 4)
    if not 0 <= start < end <= 24:
        raise DelugeError(f"{fn}: business hours must run from a start hour to a later end "
                          f"hour within 0..24, got {start} to {end}")
    return start, end


@builtin("addBusinessHour", on=_D, aliases=("addBusinessHours",),
         doc="hours (negative: earlier; digits after the point: minutes) counted only inside "
             "business hours ({\"start\": 9, \"end\": 17} by default) on business days "
             "(weekends and holidays as addBusinessDay)")
def _add_business_hour(d, hours, weekends=None, holidays=None, business_hours=None):
    fn = "addBusinessHour"
    remaining = _business_minutes(hours, fn)
    off, holiday = _weekend_days(weekends, fn), _holiday_dates(holidays, fn)
    start, end = _business_window(business_hours, fn)
    t = _as_dt(d)
    step = 1 if remaining >= 0 else -1
    remaining = datetime.timedelta(minutes=abs(remaining))
    while remaining:
        day = _DT(t.year, t.month, t.day)
        opens, closes = day + datetime.timedelta(hours=start), day + datetime.timedelta(hours=end)
        if t.weekday() in off or day.date() in holiday or \
                (t >= closes if step > 0 else t <= opens):
            t = _add_days(day, 1) + datetime.timedelta(hours=start) if step > 0 else \
                _add_days(day, -1) + datetime.timedelta(hours=end)
            continue
        t = max(t, opens) if step > 0 else min(t, closes)
        left = closes - t if step > 0 else t - opens
        if remaining <= left:
            return t + remaining * step
        remaining -= left
        t = closes if step > 0 else opens
    return t


@builtin("getDay", on=_D, aliases=("day",), doc="the day of the month, 1..31")
def _get_day(d):
    return d.day


@builtin("getMonth", on=_D, aliases=("month",), doc="the month, 1..12")
def _get_month(d):
    return d.month


@builtin("getYear", on=_D, aliases=("year",), doc="the year")
def _get_year(d):
    return d.year


@builtin("getHour", on=_D, aliases=("hour",), doc="the hour, 0..23")
def _get_hour(d):
    return d.hour if type(d) is _DT else 0


@builtin("getMinutes", on=_D, aliases=("minute", "getMinute"), doc="the minutes, 0..59")
def _get_minutes(d):
    return d.minute if type(d) is _DT else 0


@builtin("getSeconds", on=_D, aliases=("second", "getSecond"), doc="the seconds, 0..59")
def _get_seconds(d):
    return d.second if type(d) is _DT else 0


@builtin("getDayOfYear", on=_D, doc="the day of the year, 1..366")
def _day_of_year(d):
    return d.timetuple().tm_yday


@builtin("getWeekOfYear", on=_D,
         doc="the week of the year: weeks start on Sunday (or on the day named), and the week "
             "holding 1 January is week 1, also for the last days of December in it")
def _week_of_year(d, start_day=None):
    first = 6 if start_day is None else _target_weekday(start_day, "getWeekOfYear")
    return week_of_year(_day_of(d), first)


@builtin("weekday", on=_D, aliases=("getDayOfWeek",), doc="1 on Sunday .. 7 on Saturday")
def _weekday(d):
    return d.isoweekday() % 7 + 1


def _midnight(d):
    return _DT(d.year, d.month, d.day) if type(d) is _DT else d


@builtin("toStartOfMonth", on=_D, doc="the first day of the month (a date-time at 00:00:00)")
def _start_of_month(d):
    return _midnight(d.replace(day=1))


@builtin("toStartOfWeek", on=_D, doc="the Sunday starting the week (a date-time at 00:00:00)")
def _start_of_week(d):
    return _midnight(_add_days(d, -(d.isoweekday() % 7)))


@builtin("edate", on=_D, doc="the date n months later, without its time")
def _edate(d, n):
    return _add_months(_day_of(d), int_arg(n, "edate", 1))


@builtin("eomonth", on=_D,
         doc="the last day of the month n months later (0: this month), without the time")
def _eomonth(d, n=0):
    moved = _add_months(_day_of(d).replace(day=1), int_arg(n, "eomonth", 1))
    return moved.replace(day=days_in_month(moved.year, moved.month))


def _target_weekday(value, fn: str) -> int | None:
    """A weekday named ("Monday", "mon") or numbered (1 Sunday .. 7): as date.weekday()."""
    if value is None:
        return None
    if type(value) is int:
        if not 1 <= value <= 7:
            raise DelugeError(f"{fn}: {value} is not a weekday number (1 Sunday .. 7 Saturday)")
        return (value - 2) % 7
    name = text_arg(value, fn, 1).strip().lower()
    for i, day in enumerate(DAY_NAMES):
        if day.lower() == name or day[:3].lower() == name:
            return i
    raise DelugeError(f"{fn}: {value!r} is not a day of the week")


@builtin("nextWeekDay", on=_D,
         doc="the next working day (Monday to Friday); with a weekday, the next such day")
def _next_weekday(d, weekday=None):
    target = _target_weekday(weekday, "nextWeekDay")
    d = _add_days(d, 1)
    while (d.weekday() >= 5) if target is None else (d.weekday() != target):
        d = _add_days(d, 1)
    return d


@builtin("previousWeekDay", on=_D,
         doc="the previous working day (Monday to Friday); with a weekday, the last such day")
def _previous_weekday(d, weekday=None):
    target = _target_weekday(weekday, "previousWeekDay")
    d = _add_days(d, -1)
    while (d.weekday() >= 5) if target is None else (d.weekday() != target):
        d = _add_days(d, -1)
    return d


def _other(v, fn: str):
    return date_arg(v, fn, 1)


@builtin("daysBetween", on=_D, doc="whole days from this date to another (negative if earlier)")
def _days_between(d, other):
    if type(other) is not datetime.date:
        other = _day_of(_other(other, "daysBetween"))
    return (other - (d.date() if type(d) is _DT else d)).days


def _day_of(d) -> datetime.date:
    return d.date() if type(d) is _DT else d


@builtin("hoursBetween", on=_D, doc="whole hours from this date-time to another")
def _hours_between(d, other):
    delta = _as_dt(_other(other, "hoursBetween")) - _as_dt(d)
    return int(delta.total_seconds() // 3600) if delta.total_seconds() >= 0 else \
        -int(-delta.total_seconds() // 3600)


def _days_apart(d, other, fn: str) -> int:
    return (_day_of(_other(other, fn)) - _day_of(d)).days


def _whole(days: int, per: int) -> int:
    return days // per if days >= 0 else -(-days // per)


@builtin("monthsBetween", on=_D,
         doc="whole months to another date, a month being 30 days (time of day ignored)")
def _months_between(d, other):
    return _whole(_days_apart(d, other, "monthsBetween"), 30)


@builtin("yearsBetween", on=_D,
         doc="whole years to another date, a year being 365 days (time of day ignored)")
def _years_between(d, other):
    return _whole(_days_apart(d, other, "yearsBetween"), 365)


def _calendar_months(d, other) -> int:
    d, other = _day_of(d), _day_of(other)
    months = (other.year - d.year) * 12 + other.month - d.month
    if months > 0 and other.day < d.day:
        months -= 1
    elif months < 0 and other.day > d.day:
        months += 1
    return months


@builtin("monthsDiff", on=_D, aliases=("totalMonths", "totalMonth"),
         doc="whole calendar months to another date (1 Feb to 1 Mar is 1)")
def _months_diff(d, other):
    return _calendar_months(d, _other(other, "monthsDiff"))


@builtin("yearsDiff", on=_D, aliases=("totalYears", "totalYear"),
         doc="whole calendar years to another date (leap years counted)")
def _years_diff(d, other):
    return int(_calendar_months(d, _other(other, "yearsDiff")) / 12)


@builtin("days360", on=_D, doc="days to another date counting 30-day months (US method)")
def _days360(d, other):
    other = _other(other, "days360")
    d1, d2 = min(d.day, 30), other.day
    if d2 == 31 and d1 == 30:
        d2 = 30
    return (other.year - d.year) * 360 + (other.month - d.month) * 30 + (d2 - d1)


@builtin("unixEpoch", on=_D, aliases=("toUnixEpoch",),
         doc="milliseconds since 1 January 1970 UTC (the date read in the run's time zone)")
def _unix_epoch(d):
    aware = _as_dt(d).replace(tzinfo=run_zone())
    return int(aware.timestamp() * 1000)


@builtin("toDate", on=_D, doc="the date part")
def _to_date(d):
    return _day_of(d)


@builtin("toDateTime", on=_D, doc="as a date-time (a date at midnight)")
def _to_datetime(d):
    return _as_dt(d)


@builtin("toTime", on=_D, doc="the time of day")
def _to_time(d):
    return _as_dt(d).time()


@builtin("toDateTimeString", on=_D, doc="as text, dd-MMM-yyyy HH:mm:ss")
def _to_datetime_string(d):
    return datetime_text(_as_dt(d))


@builtin("toDateString", on=_D, doc="as text, dd-MMM-yyyy")
def _to_date_string(d):
    return date_text(_day_of(d))


# -- from text and numbers


def _text_date(s: str, pattern, fn: str):
    if pattern is not None:
        return parse_date(s, text_arg(pattern, fn, 1), run_zone())
    parsed = parse_default_date(s, run_zone())
    if parsed is None:
        raise DelugeError(f"{fn}: {s!r} is not a date (give its pattern, e.g. "
                          f"{fn}(\"dd/MM/yyyy\"))")
    return parsed


@builtin("toDate", on="text", doc="the date the text spells (optionally in a pattern)")
def _text_to_date(s, pattern=None):
    return _day_of(_text_date(s, pattern, "toDate"))


@builtin("toDateTime", on="text",
         doc="the date-time the text spells (optionally in a pattern)")
def _text_to_datetime(s, pattern=None):
    return _as_dt(_text_date(s, pattern, "toDateTime"))


@builtin("toTime", on="text", doc="the time (or date-time) the text spells")
def _text_to_time(s, pattern=None):
    if pattern is None:
        for form in ("HH:mm:ss", "HH:mm", "hh:mm a", "hh:mm:ss a"):
            try:
                return parse_date(s, form).time()
            except DelugeError:
                continue
    return _as_dt(_text_date(s, pattern, "toTime"))


@builtin("toDate", on="number", aliases=("toDateTime",),
         doc="the date-time for milliseconds since 1 January 1970 UTC")
def epoch_to_date(n):
    try:
        aware = datetime.datetime.fromtimestamp(n / 1000, datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise DelugeError(f"toDate: {n} milliseconds is out of range") from None
    return aware.astimezone(run_zone()).replace(tzinfo=None)


@builtin("getHour", on="time", aliases=("hour",), doc="the hour, 0..23")
def _time_hour(t):
    return t.hour


@builtin("getMinutes", on="time", aliases=("minute",), doc="the minutes")
def _time_minutes(t):
    return t.minute


@builtin("getSeconds", on="time", aliases=("second",), doc="the seconds")
def _time_seconds(t):
    return t.second


@builtin("now", doc="the current date-time")
def _now():
    run = current_run.get(None)
    return run.now() if run is not None else _DT.now().replace(microsecond=0)


@builtin("today", doc="the current date")
def _today():
    return _now().date()
