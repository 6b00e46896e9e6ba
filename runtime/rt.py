"""Helpers the generated code calls: Deluge's operators, conditions, iteration and fields.

Each keeps the common case first and cheap (two ints, two texts) and turns everything else into
a Deluge error, never a Python one. LANGUAGE.md decisions 7-13 are implemented here.
"""

from __future__ import annotations

import datetime

from .errors import DelugeError, MissingArgument
from .limits import check_text
from .values import (MAX_NUMBER, MIN_NUMBER, Collection, ErrorValue, TypedList, check_decimal,
                     compare, concat_text, equal, is_list, is_map, number_overflow, to_text,
                     type_name)

_DATES = (datetime.date, datetime.datetime)


def _arith_error(op: str, a, b) -> DelugeError:
    if a is None or b is None:
        return DelugeError(f"null cannot be used with '{op}'"
                           + (" (ifnull(x, 0) gives a default)" if op in "+-*/%" else ""))
    return DelugeError(f"cannot use '{op}' between {type_name(a)} and {type_name(b)}")


def add(a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        r = a + b
        if MIN_NUMBER <= r <= MAX_NUMBER:
            return r
        raise number_overflow()
    if ta is str or tb is str:
        r = (a if ta is str else concat_text(a)) + (b if tb is str else concat_text(b))
        if len(r) > 100_000:  # cheap test first; the run's own limit only for long texts
            check_text(len(r))
        return r
    if (ta is float or ta is int) and (tb is float or tb is int):
        return check_decimal(a + b)
    raise _arith_error("+", a, b)


def sub(a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        r = a - b
        if MIN_NUMBER <= r <= MAX_NUMBER:
            return r
        raise number_overflow()
    if (ta is float or ta is int) and (tb is float or tb is int):
        return check_decimal(a - b)
    raise _arith_error("-", a, b)


def mul(a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        r = a * b
        if MIN_NUMBER <= r <= MAX_NUMBER:
            return r
        raise number_overflow()
    if (ta is float or ta is int) and (tb is float or tb is int):
        return check_decimal(a * b)
    raise _arith_error("*", a, b)


def div(a, b):
    """NUMBER / NUMBER truncates toward zero; with a DECIMAL on either side, a DECIMAL."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if b == 0:
            raise DelugeError("Division by zero")
        q = abs(a) // abs(b)
        r = q if (a < 0) == (b < 0) else -q
        if MIN_NUMBER <= r <= MAX_NUMBER:
            return r
        raise number_overflow()
    if (ta is float or ta is int) and (tb is float or tb is int):
        if b == 0:
            raise DelugeError("Division by zero")
        return check_decimal(a / b)
    raise _arith_error("/", a, b)


def mod(a, b):
    """The remainder takes the sign of the dividend (as in Java): -7 % 3 is -1."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if b == 0:
            raise DelugeError("Division by zero")
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    if (ta is float or ta is int) and (tb is float or tb is int):
        if b == 0:
            raise DelugeError("Division by zero")
        import math

        return math.fmod(a, b)
    raise _arith_error("%", a, b)


def neg(a):
    t = type(a)
    if t is int:
        if a == MIN_NUMBER:
            raise number_overflow()
        return -a
    if t is float:
        return -a
    if a is None:
        raise DelugeError("null cannot be negated")
    raise DelugeError(f"cannot negate {type_name(a)}")


def not_(a):
    if a is True:
        return False
    if a is False:
        return True
    raise DelugeError(f"'!' needs a BOOLEAN, found {_shown(a)}")


def cond(a, what: str = "Condition"):
    """A value used as a condition: only BOOLEAN will do (decision 10)."""
    if a is True or a is False:
        return a
    raise DelugeError(f"{what} must be a BOOLEAN, found {_shown(a)}")


def _shown(v) -> str:
    return "null" if v is None else type_name(v)


def eq(a, b):
    if type(a) is type(b) and (type(a) is int or type(a) is str):
        return a == b
    return equal(a, b)


def ne(a, b):
    if type(a) is type(b) and (type(a) is int or type(a) is str):
        return a != b
    return not equal(a, b)


def lt(a, b):
    if type(a) is type(b) and (type(a) is int or type(a) is str):
        return a < b
    return compare(a, b) < 0


def le(a, b):
    if type(a) is type(b) and (type(a) is int or type(a) is str):
        return a <= b
    return compare(a, b) <= 0


def gt(a, b):
    if type(a) is type(b) and (type(a) is int or type(a) is str):
        return a > b
    return compare(a, b) > 0


def ge(a, b):
    if type(a) is type(b) and (type(a) is int or type(a) is str):
        return a >= b
    return compare(a, b) >= 0


def in_(a, b):
    """`x in list` (Creator criteria): membership by Deluge equality; a map's keys; text."""
    if is_list(b):
        return any(equal(a, x) for x in b)
    if is_map(b):
        return to_text(a) in (b.items if type(b) is Collection else b)
    if type(b) is str:
        return to_text(a) in b
    raise DelugeError(f"'in' needs a LIST on its right, found {_shown(b)}")


# ---------------------------------------------------------------------------- statements


def iterate(v):
    """What `for each x in v` walks: a snapshot, so a loop that adds to its list still ends."""
    t = type(v)
    if t is list or t is TypedList:
        return v[:]
    if t is dict:
        return list(v)
    if t is Collection:
        return list(v.items) if v.items is not None else []
    if v is None:
        raise DelugeError("for each needs a LIST, found null")
    raise DelugeError(f"for each needs a LIST, found {type_name(v)}"
                      + (" (toList(\",\") splits text)" if t is str else ""))


def map_literal(pairs):
    """`{k: v, ...}`: keys become text."""
    out = {}
    for k, v in pairs:
        out[k if type(k) is str else to_text(k)] = v
    return out


def get_field(obj, name: str):
    """`obj.name`: a map's key (the catch variable's message and lineNo)."""
    t = type(obj)
    if t is dict:
        if name in obj:
            return obj[name]
        lower = name.lower()
        for key in obj:
            if key.lower() == lower:
                return obj[key]
        return None
    if t is ErrorValue:
        low = name.lower()
        if low == "message":
            return obj.message
        if low in ("lineno", "line"):
            return obj.line
        if low == "value":
            return obj.thrown
        raise DelugeError(f"an error has no field '{name}' (it has message and lineNo)")
    if t is Collection and obj.is_map:
        return obj.items.get(name)
    if obj is None:
        raise DelugeError(f"Cannot read field '{name}' of null")
    raise DelugeError(f"{type_name(obj)} has no field '{name}'")


def set_field(obj, name: str, value) -> None:
    t = type(obj)
    if t is dict:
        obj[name] = value
        return
    if t is Collection and obj.items is None or t is Collection and obj.is_map:
        if obj.items is None:
            obj.items = {}
        obj.items[name] = value
        return
    if obj is None:
        raise DelugeError(f"Cannot set field '{name}' of null")
    raise DelugeError(f"{type_name(obj)} has no field '{name}' to set")


def caught(exc: BaseException, line: int) -> ErrorValue:
    """The value `e` of `catch (e)` for an error raised at `line`."""
    if isinstance(exc, DelugeError):
        return ErrorValue(exc.message, exc.line or line, exc.thrown)
    return ErrorValue(python_error_message(exc), line)


def thrown(value) -> DelugeError:
    """`throw value;`: the error's message is the value as text."""
    if type(value) is ErrorValue:
        return DelugeError(value.message, thrown=value.thrown)
    return DelugeError(concat_text(value) or "null", thrown=value)


def python_error_message(exc: BaseException) -> str:
    """A Deluge message for what Python raised inside generated code."""
    if isinstance(exc, NameError):
        name = getattr(exc, "name", None)
        if not name:
            import re

            m = re.search(r"'([^']+)'", str(exc))
            name = m.group(1) if m else "?"
        if name.startswith("v_"):
            return f"Variable '{name[2:]}' is not defined"
        if name.startswith("f_"):
            return f"Function '{name[2:]}' is not defined"
        return f"'{name}' is not defined"
    if isinstance(exc, RecursionError):
        return "Too many nested calls"
    if isinstance(exc, MemoryError):
        return "Out of memory"
    if isinstance(exc, ZeroDivisionError):
        return "Division by zero"
    if isinstance(exc, TypeError):
        message = _native_type_error(str(exc))
        if message:
            return message
    return f"Internal error ({type(exc).__name__}: {exc})"


_PY_TYPES = {"NoneType": "NULL", "int": "NUMBER", "str": "TEXT", "float": "DECIMAL",
             "bool": "BOOLEAN", "list": "LIST", "dict": "KEY-VALUE"}


def _native_type_error(text: str) -> str | None:
    """Python's words for a null met by compiled arithmetic or comparison -> Deluge's."""
    import re

    m = re.match(r"unsupported operand type\(s\) for ([^:]+): '(\w+)' and '(\w+)'", text)
    if m:
        op, a, b = m.groups()
        if "NoneType" in (a, b):
            return f"null cannot be used with '{op.strip()}'"
        return f"cannot use '{op.strip()}' between {_PY_TYPES.get(a, a)} and {_PY_TYPES.get(b, b)}"
    m = re.match(r"'([<>=!]+)' not supported between instances of '(\w+)' and '(\w+)'", text)
    if m:
        _, a, b = m.groups()
        return f"cannot compare {_PY_TYPES.get(a, a)} with {_PY_TYPES.get(b, b)}"
    m = re.match(r"bad operand type for unary -: '(\w+)'", text)
    if m:
        return "null cannot be negated" if m.group(1) == "NoneType" else None
    return None


def check_return(value, kind: str, function: str):
    """A function's declared return type against what it returns (null is always allowed)."""
    if value is None:
        return None
    ok = _TYPE_CHECKS.get(kind)
    if ok is None or ok(value):
        if kind in ("decimal", "float", "double") and type(value) is int:
            return float(value)
        return value
    raise DelugeError(f"function '{function}' must return {kind.upper()}, "
                      f"returned {type_name(value)}")


def entry_arg(args: dict, param: str, function: str):
    """The argument of a parameter of the function a run starts with: it must be given (null
    is a value; no argument at all is an error naming the parameter)."""
    if param not in args:
        raise MissingArgument(param, function)
    return args[param]


def check_param(value, kind: str, function: str, param: str, where: str = ""):
    """`where`: the file and line of a function of another file of the app."""
    if value is None:
        return None
    if kind == "form":
        return form_records(value, function, param)
    ok = _TYPE_CHECKS.get(kind)
    if ok is None or ok(value):
        if kind in ("decimal", "float", "double") and type(value) is int:
            return float(value)
        return value
    defined = f" (defined at {where})" if where else ""
    raise DelugeError(f"function '{function}'{defined} expects {kind.upper()} for '{param}', "
                      f"found {type_name(value)}")


def form_records(value, function: str, param: str) -> list:
    """A Creator form object (`void f(Employee emp)`): the form's records, a list of maps. One
    record (the current one, as Creator may pass it) becomes a list of one."""
    if is_map(value):
        return [value]
    if is_list(value) and all(is_map(v) for v in value):
        return value
    raise DelugeError(f"function '{function}' expects records of a form (maps) for '{param}', "
                      f"found {type_name(value)}")


def _numberish(v):
    return type(v) is int


def _map_or_empty(v) -> bool:
    """A map, or `{}` not yet a map or a list (`f(url, {})` for a map parameter)."""
    return is_map(v) or (type(v) is Collection and v.items is None)


_TYPE_CHECKS = {
    "string": lambda v: type(v) is str, "text": lambda v: type(v) is str,
    "int": _numberish, "integer": _numberish, "bigint": _numberish, "long": _numberish,
    "number": _numberish,
    "decimal": lambda v: type(v) in (float, int), "float": lambda v: type(v) in (float, int),
    "double": lambda v: type(v) in (float, int),
    "bool": lambda v: type(v) is bool, "boolean": lambda v: type(v) is bool,
    "date": lambda v: type(v) in _DATES, "datetime": lambda v: type(v) in _DATES,
    "timestamp": lambda v: type(v) in _DATES, "time": lambda v: type(v) is datetime.time,
    "map": _map_or_empty, "keyvalue": _map_or_empty, "record": is_map,
    "list": is_list,
    "collection": lambda v: type(v) in (Collection, dict, list, TypedList),
}
