"""KEY-VALUE (map) built-ins. Keys are text (others are converted); a missing key gives null;
`put` of an existing key keeps its position (LANGUAGE.md decision 13)."""

from __future__ import annotations

from ..builtins import builtin, map_arg
from ..errors import DelugeError
from ..limits import check_collection
from ..values import equal, to_text

_M = "map"


def key_of(k) -> str:
    if type(k) is str:
        return k
    if k is None:
        raise DelugeError("a map key cannot be null")
    return to_text(k)


@builtin("put", on=_M, doc="sets the value of a key")
def _put(m, key, value):
    if type(key) is not str:
        key = key_of(key)
    if len(m) >= 100_000 and key not in m:
        check_collection(len(m) + 1)
    m[key] = value


@builtin("putAll", on=_M, doc="sets every key of another map")
def _put_all(m, other):
    other = map_arg(other, "putAll", 1)
    check_collection(len(m) + len(other), len(other))
    m.update(other)


@builtin("get", on=_M, doc="the value of a key; null when the key is absent")
def _get(m, key):
    return m.get(key if type(key) is str else key_of(key))


@builtin("keys", on=_M, aliases=("keySet",), doc="the keys, as a list")
def _keys(m):
    return list(m)


@builtin("values", on=_M, doc="the values, as a list")
def _values(m):
    return list(m.values())


@builtin("containKey", on=_M, aliases=("containsKey",), doc="true when the key is present")
def _contains_key(m, key):
    return key_of(key) in m


@builtin("containValue", on=_M, aliases=("containsValue",),
         doc="true when some key has this value")
def _contains_value(m, value):
    return any(equal(value, v) for v in m.values())


@builtin("remove", on=_M, aliases=("delete", "deleteKey"),
         doc="removes a key, and returns its value (null when absent)")
def _remove(m, key):
    return m.pop(key_of(key), None)


@builtin("size", on=_M, aliases=("length",), doc="the number of keys")
def _size(m):
    return len(m)


@builtin("clear", on=_M, doc="removes every key")
def _clear(m):
    m.clear()


@builtin("toMap", on=_M, doc="the map itself")
def _to_map(m):
    return m


@builtin("contains", on=_M, doc="true when the key is present (as containKey)")
def _contains(m, key):
    return key_of(key) in m


@builtin("notContains", on=_M, doc="true when the key is absent")
def _not_contains(m, key):
    return key_of(key) not in m
