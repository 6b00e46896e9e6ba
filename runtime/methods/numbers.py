"""NUMBER and DECIMAL built-ins. Rounding is half away from zero (LANGUAGE.md decision 7)."""

from __future__ import annotations

import math

from ..builtins import builtin, int_arg, num_arg
from ..errors import DelugeError
from ..values import check_decimal, check_number, number_overflow

_NUM = "numeric"


@builtin("abs", on=_NUM, doc="the value without its sign")
def _abs(x):
    return check_number(abs(x)) if type(x) is int else abs(x)


@builtin("ceil", on=_NUM, doc="the smallest whole number not below the value (a NUMBER)")
def _ceil(x):
    return check_number(math.ceil(x))


@builtin("floor", on=_NUM, doc="the largest whole number not above the value (a NUMBER)")
def _floor(x):
    return check_number(math.floor(x))


# A DECIMAL holds 17 significant digits and a NUMBER 19: rounding to more places than this
# changes nothing, and to fewer than minus this leaves nothing (Decimal refuses either).
_PLACES = 400


def _round_half_up(x, places: int):
    from decimal import ROUND_HALF_UP, Context, Decimal

    value = Decimal(repr(x) if type(x) is float else x)
    if places > _PLACES:
        return value
    if places < -_PLACES:
        return Decimal(0)
    quantum = Decimal(1).scaleb(-places)
    return value.quantize(quantum, rounding=ROUND_HALF_UP, context=Context(prec=2 * _PLACES))


@builtin("round", on=_NUM,
         doc="rounded half away from zero: round() and round(0) give a NUMBER, round(n) a "
             "DECIMAL with n decimals")
def _round(x, places=0):
    places = int_arg(places, "round", 1)
    if places <= 0:
        if type(x) is int and places == 0:
            return x
        return check_number(int(_round_half_up(x, places)))
    return float(_round_half_up(x, places))


@builtin("toDecimal", on=_NUM, doc="the value as a DECIMAL")
def _to_decimal(x):
    return float(x)


@builtin("toLong", on=_NUM, aliases=("toNumber", "toInt", "toBigInt"),
         doc="the value as a NUMBER (a fraction is cut off, towards zero)")
def _to_long(x):
    if type(x) is float and not math.isfinite(x):
        raise DelugeError("toLong: the value is not a finite number")
    return check_number(int(x))


@builtin("power", on=_NUM, aliases=("pow",), doc="the value raised to a power")
def _power(x, exponent):
    exponent = num_arg(exponent, "power", 1)
    try:
        if type(x) is int and type(exponent) is int and exponent >= 0:
            if abs(x) > 1 and exponent > 64:
                raise number_overflow()
            return check_number(x ** exponent)
        return check_decimal(float(x) ** exponent)
    except (OverflowError, ZeroDivisionError):
        raise DelugeError("power: the result is not a finite number") from None


@builtin("sqrt", on=_NUM, doc="the square root (a DECIMAL)")
def _sqrt(x):
    if x < 0:
        raise DelugeError(f"sqrt: {x} is negative")
    return math.sqrt(x)


@builtin("exp", on=_NUM, doc="e raised to the value")
def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:
        raise DelugeError("exp: the result is too big") from None


@builtin("log", on=_NUM, doc="the natural logarithm")
def _log(x):
    if x <= 0:
        raise DelugeError(f"log: {x} is not above zero")
    return math.log(x)


@builtin("log10", on=_NUM, doc="the base-10 logarithm")
def _log10(x):
    if x <= 0:
        raise DelugeError(f"log10: {x} is not above zero")
    return math.log10(x)


@builtin("sin", on=_NUM, doc="the sine (radians)")
def _sin(x):
    return math.sin(x)


@builtin("cos", on=_NUM, doc="the cosine (radians)")
def _cos(x):
    return math.cos(x)


@builtin("tan", on=_NUM, doc="the tangent (radians)")
def _tan(x):
    return math.tan(x)


@builtin("max", on=_NUM, doc="the larger of two numbers")
def _max(x, other):
    other = num_arg(other, "max", 1)
    return x if x >= other else other


@builtin("min", on=_NUM, doc="the smaller of two numbers")
def _min(x, other):
    other = num_arg(other, "min", 1)
    return x if x <= other else other


@builtin("isEven", on="number", doc="true for an even number")
def _is_even(x):
    return x % 2 == 0


@builtin("isOdd", on="number", doc="true for an odd number")
def _is_odd(x):
    return x % 2 != 0


@builtin("toHex", on="number", doc="the number in hexadecimal")
def _to_hex(x):
    return format(x, "x") if x >= 0 else "-" + format(-x, "x")


@builtin("randomNumber", doc="a random whole number between low and high, both included")
def _random_number(low=0, high=2**31 - 1):
    low, high = int_arg(low, "randomNumber", 1), int_arg(high, "randomNumber", 2)
    if high < low:
        raise DelugeError(f"randomNumber: {high} is below {low}")
    import random

    return random.randint(low, high)


def format_number(x, pattern: str) -> str:
    """A number through a Java DecimalFormat-like pattern: '#,##0.00', '0.0', '000'."""
    integer, _, fraction = pattern.partition(".")
    places = sum(1 for c in fraction if c in "0#")
    minimum = sum(1 for c in fraction if c == "0")
    value = _round_half_up(x, places)
    text = f"{value:,.{places}f}" if "," in integer else f"{value:.{places}f}"
    if places > minimum and "." in text:
        text = text.rstrip("0")
        keep = len(text.split(".")[1])
        if keep < minimum:
            text += "0" * (minimum - keep)
        text = text.rstrip(".")
    width = sum(1 for c in integer if c == "0")
    head, dot, tail = text.partition(".")
    sign = "-" if head.startswith("-") else ""
    head = head.lstrip("-")
    if len(head.replace(",", "")) < width:
        head = head.replace(",", "").zfill(width)
    return sign + head + dot + tail


_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**18, "quintillion"), (10**15, "quadrillion"), (10**12, "trillion"),
           (10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))


def _words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    for scale, name in _SCALES:
        if n >= scale:
            head, rest = divmod(n, scale)
            return f"{_words(head)} {name}" + (f" {_words(rest)}" if rest else "")
    raise AssertionError(n)


@builtin("toWords", on="number", doc="the number in English words: 123 -> one hundred twenty three")
def _to_words(x):
    return ("minus " + _words(-x)) if x < 0 else _words(x)
