"""COLLECTION built-ins. `{}` and `Collection()` start undecided and become list-like with
their first value (`add`, `insert(v)`) or map-like with their first key (`put`,
`insert("k": v)`); then they take the list or the map built-ins (LANGUAGE.md decision 4)."""

from __future__ import annotations

from operator import itemgetter

from ..builtins import METHODS, builtin, bool_arg, list_arg, map_arg
from ..errors import DelugeError
from ..values import Collection, equal
from . import lists, maps

_C = "collection"


def _as_list(c: Collection, fn: str) -> list:
    if c.items is None:
        c.items = []
    if type(c.items) is not list:
        raise DelugeError(f"{fn} works on a list-like collection; this one holds keys "
                          "(use put / insert(\"key\": value))")
    return c.items


def _as_map(c: Collection, fn: str) -> dict:
    if c.items is None:
        c.items = {}
    if type(c.items) is not dict:
        raise DelugeError(f"{fn} works on a key-value collection; this one holds a list of "
                          "values (use add / insert(value))")
    return c.items


@builtin("add", on=_C, doc="adds a value (the collection becomes list-like)")
def _add(c, value):
    lists._add(_as_list(c, "add"), value)


@builtin("put", on=_C, doc="sets a key (the collection becomes key-value)")
def _put(c, key, value):
    maps._put(_as_map(c, "put"), key, value)


@builtin("insert", on=_C,
         doc="insert(v1, v2, ...) adds values; insert(\"k\": v, ...) sets keys")
def _insert(c, *values):
    if len(values) == 1 and type(values[0]) is dict and type(c.items) is not list:
        target = _as_map(c, "insert")
        for k, v in values[0].items():
            maps._put(target, k, v)
        return
    target = _as_list(c, "insert")
    for v in values:
        lists._add(target, v)


@builtin("insertAll", on=_C, doc="adds every value of a list, or every key of a map")
def _insert_all(c, other):
    if type(other) is dict or (type(other) is Collection and other.is_map):
        maps._put_all(_as_map(c, "insertAll"), other)
    else:
        lists._add_all(_as_list(c, "insertAll"), list_arg(other, "insertAll", 1))


@builtin("get", on=_C, doc="the value at an index (list-like) or of a key (key-value)")
def _get(c, key):
    if type(c.items) is dict:
        return maps._get(c.items, key)
    if c.items is None:
        return None
    return lists._get(c.items, key)


@builtin("update", on=_C,
         doc="replaces the value at an index (list-like), or sets a key (a new key is added)")
def _update(c, key, value=None):
    if type(key) is dict and value is None:
        for k, v in key.items():
            _update(c, k, v)
        return
    if type(c.items) is dict:
        maps._put(c.items, key, value)
    else:
        lists._set(_as_list(c, "update"), key, value)


@builtin("keys", on=_C, doc="the keys (key-value) or the elements (list-like), as a list")
def _keys(c):
    return list(c.items or ())


@builtin("values", on=_C, doc="the values, as a list")
def _values(c):
    if type(c.items) is dict:
        return list(c.items.values())
    return list(c.items or ())


@builtin("size", on=_C, aliases=("length", "count"), doc="the number of values")
def _size(c):
    return len(c)


@builtin("clear", on=_C, doc="removes everything (the collection is undecided again)")
def _clear(c):
    c.items = None


@builtin("containsKey", on=_C, aliases=("containKey",),
         doc="true when the key (key-value) or index (list-like) is present")
def _contains_key(c, key):
    if type(c.items) is dict:
        return maps.key_of(key) in c.items
    return type(key) is int and 0 <= key < len(c)


@builtin("containsValue", on=_C, aliases=("containValue", "contains"),
         doc="true when the collection holds the value")
def _contains_value(c, value):
    return any(equal(value, v) for v in _values(c))


@builtin("notContains", on=_C, doc="true when the collection does not hold the value")
def _not_contains(c, value):
    return not _contains_value(c, value)


_value_of = itemgetter(1)
_NO_VALUE = object()  # getLastKey() without a value


def _key_holding(items: dict, value, last: bool = False):
    """The first (or last) key whose value equals `value`; None when no value does."""
    pairs = reversed(items.items()) if last else items.items()
    return next((k for k, v in pairs if equal(value, v)), None)


@builtin("delete", on=_C,
         doc="removes an element (list-like), or the key holding a value (key-value); "
             "nothing when absent")
def _delete(c, value):
    if type(c.items) is dict:
        key = _key_holding(c.items, value)
        if key is not None:
            del c.items[key]
    elif c.items:
        lists._remove_element(c.items, value)


@builtin("deleteAll", on=_C,
         doc="removes each element of a list (list-like), or the keys holding its values")
def _delete_all(c, values):
    values = list_arg(values, "deleteAll", 1)
    if type(c.items) is dict:
        c.items = {k: v for k, v in c.items.items() if not any(equal(v, x) for x in values)}
    elif c.items:
        lists._remove_all(c.items, values)


@builtin("deleteKey", on=_C,
         doc="removes a key and its value (nothing when absent), or the element at an index "
             "(list-like; an error outside the list)")
def _delete_key(c, key):
    if type(c.items) is dict or c.items is None:
        _as_map(c, "deleteKey").pop(maps.key_of(key), None)
    else:
        del c.items[lists._index(c.items, key, "deleteKey")]


@builtin("deleteKeys", on=_C, doc="removes each key of a list (or each index, list-like)")
def _delete_keys(c, keys):
    keys = list_arg(keys, "deleteKeys", 1)
    if type(c.items) is dict or c.items is None:
        target = _as_map(c, "deleteKeys")
        for k in keys:
            target.pop(maps.key_of(k), None)
        return
    gone = {lists._index(c.items, i, "deleteKeys") for i in keys}
    c.items[:] = [v for i, v in enumerate(c.items) if i not in gone]


@builtin("getKey", on=_C,
         doc="the first key holding the value (null when none), or the index of an element "
             "(list-like; -1 when absent)")
def _get_key(c, value):
    if type(c.items) is dict:
        return _key_holding(c.items, value)
    return lists._index_of(c.items or [], value)


@builtin("getLastKey", on=_C,
         doc="the last key holding the value (null when none), or the last index of an "
             "element (list-like; -1 when absent); getLastKey(): the last key or index")
def _get_last_key(c, value=_NO_VALUE):
    if value is _NO_VALUE:
        if not c.items:
            return None
        return next(reversed(c.items)) if type(c.items) is dict else len(c.items) - 1
    if type(c.items) is dict:
        return _key_holding(c.items, value, last=True)
    return lists._last_index_of(c.items or [], value)


@builtin("distinct", on=_C, doc="the values without repeats, in first-seen order, as a list")
def _distinct(c):
    return lists._distinct(_values(c))


@builtin("duplicate", on=_C,
         doc="the elements as a new list; duplicate(start, end): from start (included) to end "
             "(excluded)")
def _duplicate(c, start=None, end=None):
    items = _values(c)
    if start is not None:
        items = lists._sub_list(items, start, end)
    return items


@builtin("intersect", on=_C, doc="the values also in another collection or list, as a list")
def _intersect(c, other):
    other_values = _values(other) if type(other) is Collection else list_arg(other, "intersect",
                                                                             1)
    return lists._intersect(_values(c), other_values)


@builtin("sort", on=_C,
         doc="sorts the elements, or the key-value pairs by value, in place (sort(false): "
             "descending); gives the collection")
def _sort(c, ascending=True):
    ascending = bool_arg(ascending, "sort", 1)
    if type(c.items) is dict:
        c.items = dict(lists._sorted(c.items.items(), ascending, key=_value_of))
    elif c.items:
        c.items[:] = lists._sorted(c.items, ascending)
    return c


@builtin("sortKey", on=_C,
         doc="sorts the key-value pairs by key, in place (sortKey(false): descending); gives "
             "the collection")
def _sort_key(c, ascending=True):
    ascending = bool_arg(ascending, "sortKey", 1)
    target = _as_map(c, "sortKey")
    keys = sorted(target, reverse=not ascending)
    c.items = {k: target[k] for k in keys}
    return c


@builtin("toList", on=_C, doc="the values, as a list")
def _to_list(c):
    return _values(c)


@builtin("toMap", on=_C, doc="a key-value collection as a map")
def _to_map(c):
    return dict(map_arg(c, "toMap", 0))


def _delegate(name: str):
    """Every other list or map built-in works on a collection of that kind."""
    list_entry = next((e for e in METHODS.get(name, []) if "list" in e.on.split()), None)
    map_entry = next((e for e in METHODS.get(name, []) if "map" in e.on.split()), None)

    def call(c, *args):
        if type(c.items) is dict and map_entry is not None:
            return map_entry.fn(c.items, *args)
        if type(c.items) is not dict and list_entry is not None:
            return list_entry.fn(c.items if c.items is not None else [], *args)
        raise DelugeError(f"{name} does not work on this collection")

    return call


for _name in ("remove", "indexOf", "lastIndexOf", "removeElement", "removeAll", "reverse",
              "subList", "sum", "average", "largest", "smallest", "median", "nthLargest",
              "nthSmallest", "addAll", "putAll"):
    builtin(_name, on=_C, doc=f"{_name} of the list or map inside")(_delegate(_name.lower()))
del _name

