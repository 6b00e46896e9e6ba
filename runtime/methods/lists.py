"""LIST built-ins (LANGUAGE.md §5, List). Indexes are 0-based; `get` outside the list is an
error (decision 13); equality is Deluge's (1 == 1.0, "a" != "A")."""

from __future__ import annotations

import datetime
from functools import cmp_to_key

from ..builtins import builtin, bool_arg, int_arg, list_arg
from ..errors import DelugeError
from ..limits import check_collection, check_time
from ..values import TypedList, check_decimal, compare, equal, type_name

_L = "list"


def _index(lst, i, fn: str) -> int:
    i = int_arg(i, fn, 1)
    if not 0 <= i < len(lst):
        raise DelugeError(f"Index {i} is out of range for a list of size {len(lst)}")
    return i


def _coerce(lst, value):
    if type(lst) is TypedList:
        from ..values import coerce_element

        return coerce_element(lst.element_type, value)
    return value


@builtin("add", on=_L, doc="adds a value at the end")
def _add(lst, value):
    if len(lst) >= 100_000:
        check_collection(len(lst) + 1)
    lst.append(value if type(lst) is list else _coerce(lst, value))


@builtin("addAll", on=_L, doc="adds every value of another list at the end")
def _add_all(lst, other):
    other = list_arg(other, "addAll", 1)
    check_collection(len(lst) + len(other), len(other))
    if type(lst) is list:
        lst.extend(other)  # list.extend copies a list added to itself before it grows
    else:
        lst.extend([_coerce(lst, v) for v in other])


@builtin("insert", on=_L, doc="insert(value) adds at the end; insert(index, value) at a position")
def _insert(lst, first, second=None, *more):
    if second is None and not more:
        return _add(lst, first)
    i = int_arg(first, "insert", 1)
    if not 0 <= i <= len(lst):
        raise DelugeError(f"Index {i} is out of range for a list of size {len(lst)}")
    check_collection(len(lst) + 1 + len(more))
    for offset, value in enumerate((second,) + more):
        lst.insert(i + offset, _coerce(lst, value))


@builtin("get", on=_L, doc="the value at an index (0 is the first)")
def _get(lst, i):
    return lst[_index(lst, i, "get")]


@builtin("set", on=_L, doc="replaces the value at an index")
def _set(lst, i, value):
    lst[_index(lst, i, "set")] = _coerce(lst, value)


@builtin("size", on=_L, aliases=("length", "count"), doc="the number of values")
def _size(lst):
    return len(lst)


@builtin("clear", on=_L, doc="removes every value")
def _clear(lst):
    lst.clear()


@builtin("contains", on=_L, doc="true when the list holds the value")
def _contains(lst, value):
    return any(equal(value, x) for x in lst)


@builtin("notContains", on=_L, doc="true when the list does not hold the value")
def _not_contains(lst, value):
    return not _contains(lst, value)


@builtin("indexOf", on=_L, doc="the first index of the value, -1 when absent")
def _index_of(lst, value):
    for i, x in enumerate(lst):
        if equal(value, x):
            return i
    return -1


@builtin("lastIndexOf", on=_L, doc="the last index of the value, -1 when absent")
def _last_index_of(lst, value):
    for i in range(len(lst) - 1, -1, -1):
        if equal(value, lst[i]):
            return i
    return -1


@builtin("remove", on=_L, doc="removes the value at an index, and returns it")
def _remove(lst, i):
    return lst.pop(_index(lst, i, "remove"))


@builtin("removeElement", on=_L, doc="removes the first occurrence of a value")
def _remove_element(lst, value):
    i = _index_of(lst, value)
    if i >= 0:
        del lst[i]
    return i >= 0


# Values that Deluge's equality treats as Python's does, once tagged by kind (True is not 1, but
# 1 is 1.0): these are found in a set instead of by comparing with every other value.
_KIND_OF = {str: "t", int: "n", float: "n", bool: "b", type(None): "0",
            datetime.datetime: "d", datetime.time: "h"}


def _equality_key(x):
    """A hashable key equal for values Deluge calls equal; None for lists, maps and others."""
    t = type(x)
    if t is datetime.date:
        return ("d", datetime.datetime(x.year, x.month, x.day))
    kind = _KIND_OF.get(t)
    return None if kind is None else (kind, x)


class _Members:
    """The values of a list, to ask whether a value is among them by Deluge equality: by key
    for plain values, by comparing for the rest (lists and maps)."""

    def __init__(self, values=()):
        self.keys, self.others = set(), []
        for x in values:
            self.add(x)

    def add(self, x) -> None:
        key = _equality_key(x)
        if key is None:
            self.others.append(x)
        else:
            self.keys.add(key)

    def __contains__(self, x) -> bool:
        key = _equality_key(x)
        if key is not None:
            return key in self.keys
        return _any_equal(x, self.others)


def _any_equal(x, values) -> bool:
    for i, y in enumerate(values):
        if equal(x, y):
            return True
        if i % 10_000 == 9_999:  # lists of maps compare one by one: look at the clock
            check_time()
    return False


@builtin("removeAll", on=_L, doc="removes every occurrence of each value of another list")
def _remove_all(lst, other):
    other = _Members(list_arg(other, "removeAll", 1))
    lst[:] = [x for x in lst if x not in other]


@builtin("distinct", on=_L, doc="a new list without repeats, in first-seen order")
def _distinct(lst):
    out, seen = [], _Members()
    for x in lst:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


@builtin("intersect", on=_L, doc="a new list of the values also in another list")
def _intersect(lst, other):
    other = _Members(list_arg(other, "intersect", 1))
    return _distinct([x for x in lst if x in other])


_NUMBER_TYPES = frozenset({int, float})
_DATE_TYPES = frozenset({datetime.date, datetime.datetime})


def _sorted(values, ascending: bool, key=None):
    """Sorted in Deluge's order, nulls first; `key` picks what to compare of each value.
    Numbers, texts and times of one kind sort at C speed; anything else through Deluge's
    comparison, which looks at the clock now and then."""
    if key is not None:
        order = cmp_to_key(_clocked_compare())
        nulls, rest = [], list(values)
        sort_key = lambda v: order(key(v))  # noqa: E731
    else:
        nulls = [x for x in values if x is None]
        rest = [x for x in values if x is not None] if nulls else list(values)
        types = set(map(type, rest))
        if types <= _NUMBER_TYPES or types == {str} or types == {datetime.time}:
            sort_key = None
        elif types <= _DATE_TYPES:
            sort_key = _date_key
        else:
            sort_key = cmp_to_key(_clocked_compare())
    try:
        rest.sort(key=sort_key)
    except DelugeError as e:
        raise DelugeError(f"sort: {e.message}") from None
    out = nulls + rest
    return out if ascending else out[::-1]


def _date_key(d):
    return d if type(d) is datetime.datetime else datetime.datetime(d.year, d.month, d.day)


def _clocked_compare():
    """Deluge's comparison (nulls first), looking at the clock every 50,000 calls."""
    calls = 0

    def compare_values(a, b) -> int:
        nonlocal calls
        calls += 1
        if calls % 50_000 == 0:
            check_time()
        if a is None or b is None:
            return (a is not None) - (b is not None)
        return compare(a, b)

    return compare_values


@builtin("sort", on=_L, doc="a new list, sorted (sort(false): descending)")
def _sort(lst, ascending=True):
    return _sorted(lst, bool_arg(ascending, "sort", 1))


@builtin("reverse", on=_L, doc="a new list in reverse order")
def _reverse(lst):
    return lst[::-1]


@builtin("subList", on=_L, doc="the values from start (included) to end (excluded)")
def _sub_list(lst, start, end=None):
    start = int_arg(start, "subList", 1)
    end = len(lst) if end is None else int_arg(end, "subList", 2)
    if not 0 <= start <= len(lst) or not start <= end <= len(lst):
        raise DelugeError(f"subList({start}, {end}) is out of range for a list of size "
                          f"{len(lst)}")
    return lst[start:end]


@builtin("toList", on=_L, doc="a copy of the list")
def _to_list(lst):
    return list(lst)


def _number_in(x):
    """x as a NUMBER or DECIMAL when it is one or is text that spells one; else None."""
    t = type(x)
    if t is int or t is float:
        return x
    if t is str:
        text = x.strip()
        if text.lstrip("+-").isdigit():
            return int(text)
        try:
            value = float(text)
        except ValueError:
            return None
        if value == value and value not in (float("inf"), float("-inf")):
            return value
    return None


def _numbers(lst, fn: str) -> list:
    """The values of a list of numbers; text holding a number counts as that number (Zoho's
    statistics pages: "numerical values can be specified in double quotes")."""
    out = []
    for x in lst:
        n = _number_in(x)
        if n is None:
            shown = "null" if x is None else type_name(x)
            raise DelugeError(f"{fn} needs a list of numbers; it holds {shown}"
                              + (f" {x!r}" if type(x) is str else ""))
        out.append(n)
    return out


def _numeric_or_none(lst):
    """The list's values as numbers when every one is (or spells) a number; else None."""
    out = []
    for x in lst:
        n = _number_in(x)
        if n is None:
            return None
        out.append(n)
    return out


@builtin("sum", on=_L, doc="the sum of a list of numbers (texts holding numbers count)")
def _sum(lst):
    from ..rt import add

    total = 0
    for x in _numbers(lst, "sum"):
        total = add(total, x)
    return total


@builtin("average", on=_L,
         doc="the mean of a list of numbers, a DECIMAL (texts holding numbers count)")
def _average(lst):
    values = _numbers(lst, "average")
    if not values:
        raise DelugeError("average of an empty list")
    return check_decimal(sum(values) / len(values))


def _extreme(lst, fn: str, pick):
    if not lst:
        raise DelugeError(f"{fn} of an empty list")
    numbers = _numeric_or_none(lst)
    if numbers is not None:
        return pick(numbers)
    ordered = _sorted(lst, True)
    return ordered[-1] if pick is max else ordered[0]


@builtin("largest", on=_L, aliases=("max",),
         doc="the largest value (texts holding numbers count as numbers)")
def _largest(lst):
    return _extreme(lst, "largest", max)


@builtin("smallest", on=_L, aliases=("min",),
         doc="the smallest value (texts holding numbers count as numbers)")
def _smallest(lst):
    return _extreme(lst, "smallest", min)


@builtin("median", on=_L,
         doc="the middle value of a list of numbers, a DECIMAL; of an even count, the mean of "
             "the middle two (texts holding numbers count)")
def _median(lst):
    values = sorted(_numbers(lst, "median"))
    if not values:
        raise DelugeError("median of an empty list")
    mid = len(values) // 2
    if len(values) % 2:
        return float(values[mid])
    return check_decimal((values[mid - 1] + values[mid]) / 2)


def _nth(lst, n, name: str, ascending: bool):
    n = int_arg(n, name, 1)
    numbers = _numeric_or_none(lst)
    values = _sorted(lst, ascending) if numbers is None else \
        sorted(numbers, reverse=not ascending)
    if not 1 <= n <= len(values):
        raise DelugeError(f"{name}({n}) is out of range for a list of size {len(values)}")
    return values[n - 1]


@builtin("nthLargest", on=_L, doc="the nth largest value (1: the largest)")
def _nth_largest(lst, n):
    return _nth(lst, n, "nthLargest", False)


@builtin("nthSmallest", on=_L, doc="the nth smallest value (1: the smallest)")
def _nth_smallest(lst, n):
    return _nth(lst, n, "nthSmallest", True)
