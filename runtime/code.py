"""Compiled scripts as the runtime keeps and reloads them, and the helpers their code calls.

A `Compiled` is a code object plus a small spec of the helpers it names beyond the fixed set
(dispatch tables of the methods it calls, built-in functions, date constants). Both marshal, so
a script that ran before is reloaded from the code cache without the parser, its tables, or
Python's `ast` module: that is most of `sluice run`'s start-up.
"""

from __future__ import annotations

import datetime
import marshal
import os
import sys

from . import builtins as B
from . import rt
from .errors import DelugeError
from .limits import check_collection, check_text
from .values import Collection, TypedList, check_decimal, concat_text, number_overflow

FILENAME_PREFIX = "<deluge "
CODE_FORMAT = 4  # bump when generated code or the spec changes shape
CATCHABLE = (DelugeError, ArithmeticError, LookupError, TypeError, ValueError, NameError,
             RecursionError, AttributeError)


try:  # the interpreter's own SHA-256: hashlib would load OpenSSL, a tenth of start-up
    from _sha256 import sha256 as _sha256  # Python 3.11
except ImportError:
    try:
        from _sha2 import sha256 as _sha256  # Python 3.12 and later
    except ImportError:
        from hashlib import sha256 as _sha256

_stamp: str | None = None
# What a script gives when it ends without `return value` (Result.returned is then False).
NO_RETURN = type("NoReturn", (), {"__repr__": lambda self: "NO_RETURN"})()


def _compiler_stamp() -> str:
    """Changes whenever the code generator, its type inference, its helpers or the parser
    change (their files' size and time), so cached code never outlives the compiler that made
    it."""
    global _stamp
    if _stamp is None:
        here = os.path.dirname(os.path.abspath(__file__))
        parts = []
        for name in ("compile.py", "types.py", "names.py", "code.py", "rt.py", "builtins.py",
                     "../dsl/ast.py", "../dsl/parser.py", "../dsl/grammar/deluge.lark",
                     "../grammar/deluge.lark"):  # the grammar: installed, or in the source tree
            try:
                info = os.stat(os.path.join(here, name))
                parts.append(f"{info.st_size}:{info.st_mtime_ns}")
            except OSError:
                parts.append("?")
        _stamp = ",".join(parts)
    return _stamp


def source_key(source: str, filename: str) -> str:
    return _sha256(f"{filename}\0{source}".encode()).hexdigest()


class _Tagged:
    """A task value with a type tag (`file: pdf`), handed to the task as it is."""

    __slots__ = ("tag", "value")

    def __init__(self, tag: str, value):
        self.tag, self.value = tag, value


def _new_list(source=None):
    """`List()` and `List(x)`: a new list (a copy of x's elements)."""
    if source is None:
        return []
    return rt.iterate(source)


def _new_collection(is_map: bool, *items):
    if is_map:
        return Collection(rt.map_literal(items))
    return Collection(list(items) if items else None)


def _tb_line(exc: BaseException) -> int:
    """The script line where `exc` was raised: the innermost frame of generated code."""
    return tb_where(exc)[1]


def tb_where(exc: BaseException) -> tuple[str, int]:
    """The file (as the script names it) and line where `exc` was raised: the innermost frame
    of generated code (a function of another file of the app carries that file's name)."""
    where = ("", 0)
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.startswith(FILENAME_PREFIX):
            where = (name, tb.tb_lineno)
        tb = tb.tb_next
    return script_filename(where[0]), where[1]


def script_filename(code_filename: str) -> str:
    """`<deluge lib/util.dg 0123abcd4567>` -> `lib/util.dg`."""
    return code_filename[len(FILENAME_PREFIX):].rpartition(" ")[0] if code_filename else ""


_BINARY = {"_add": rt.add, "_sub": rt.sub, "_mul": rt.mul, "_div": rt.div, "_mod": rt.mod,
           "_eq": rt.eq, "_ne": rt.ne, "_lt": rt.lt, "_le": rt.le, "_gt": rt.gt, "_ge": rt.ge,
           "_in": rt.in_}


MAX_INDEX = 2**31 - 1  # the compiler relies on it: index arithmetic it can bound is unchecked


def _indexes(value):
    """What `for each index i in value` walks: 0 .. size-1, the size taken once."""
    t = type(value)
    size = len(value) if t is list or t is TypedList or t is Collection or t is dict else \
        len(rt.iterate(value))  # the same error for what is not a list
    if size > MAX_INDEX + 1:
        raise DelugeError(f"for each index walks at most {MAX_INDEX + 1} items; this list "
                          f"has {size}")
    return range(size)


def _overflow():
    raise number_overflow()


def _check_text_value(text: str) -> str:
    check_text(len(text))
    return text


def base_helpers() -> dict:
    """The names every generated code may use (and no Python built-ins at all)."""
    helpers = {"__builtins__": {}}
    helpers.update(_BINARY)
    helpers.update(
        _neg=rt.neg, _not=rt.not_, _cond=rt.cond, _iterate=rt.iterate,
        _map_literal=rt.map_literal, _get_field=rt.get_field, _set_field=rt.set_field,
        _caught=rt.caught, _thrown=rt.thrown, _check_return=rt.check_return,
        _check_param=rt.check_param, _entry_arg=rt.entry_arg, _NO_RETURN=NO_RETURN,
        _Collection=Collection,
        _TypedList=TypedList,
        _CATCHABLE=CATCHABLE, _range=range, _len=len, _type=type, _tb_line=_tb_line,
        _new_list=_new_list, _new_collection=_new_collection, _Tagged=_Tagged,
        _indexes=_indexes, _overflow=_overflow, _check_text_value=_check_text_value,
        _concat_text=concat_text, _check_text_length=check_text, _str=str, _locals=locals, _dict=dict,
        _numbers=(int, float), _dict_get=dict.get, _dict_contains=dict.__contains__, _dict_setitem=dict.__setitem__,
        _list_append=list.append, _check_collection=check_collection,
        _check_decimal=check_decimal, _str_contains=str.__contains__, _str_find=str.find,
        _str_rfind=str.rfind, _str_startswith=str.startswith, _str_endswith=str.endswith,
        _str_upper=str.upper, _str_lower=str.lower)
    return helpers


_RECEIVERS = {"int": int, "str": str, "list": list, "dict": dict}


def helpers_from_spec(spec) -> dict:
    """The helpers beyond the fixed set that a compiled script names."""
    out = {}
    if any(item[0] in ("method", "method_for", "function") for item in spec):
        from . import methods  # noqa: F401  (fills the tables of built-ins)
    for item in spec:
        kind = item[0]
        if kind == "method":
            _, name, n = item
            out[f"_mt_{name}_{n}"], out[f"_mf_{name}_{n}"] = B.dispatch(name, n)
        elif kind == "method_for":
            _, helper, name, n, type_name = item
            out[helper] = B.dispatch(name, n)[0][_RECEIVERS[type_name]]
        elif kind == "function":
            _, helper, key = item
            out[helper] = B.FUNCTIONS[key].fn
        elif kind == "date":
            _, name, iso = item
            out[name] = (datetime.datetime.fromisoformat(iso) if "T" in iso else
                         datetime.date.fromisoformat(iso))
    return out


class Compiled:
    """A compiled script: its code, the helpers it needs, and its source lines for errors."""

    def __init__(self, code, spec: tuple, source: str, filename: str, files=None):
        self.code = code
        self.spec = spec
        self.source_lines = source.split("\n")
        self.filename = filename
        # the text of the app's other files whose functions the code holds (for errors)
        self.files: dict[str, str] = files or {}

    def lines_of(self, filename: str) -> list[str]:
        """The source lines of `filename`: the script's, or another file's of its app."""
        if filename in self.files:
            return self.files[filename].split("\n")
        return self.source_lines

    def make(self):
        """A fresh `__run__` function whose globals hold helpers only."""
        scope = base_helpers()
        scope.update(helpers_from_spec(self.spec))
        exec(self.code, scope)
        return scope["__run__"]

    # -- the on-disk cache

    @staticmethod
    def cache_path(folder: str, source: str, filename: str, app: str = "") -> str:
        """`app`: the fingerprint of the script's app (its other files), if it has one."""
        key = _sha256(f"{CODE_FORMAT}\0{_compiler_stamp()}\0{sys.version}\0"
                      f"{source_key(source, filename)}\0{app}".encode()).hexdigest()[:32]
        return os.path.join(folder, "code", f"{key}.bin")

    @classmethod
    def load(cls, folder: str, source: str, filename: str, app: str = "") -> "Compiled | None":
        """The cached code of this source (in its app, `app` being the app's fingerprint), when
        the file passes dsl.cachefiles' checks (ours, private, its HMAC right): unmarshalling
        runs nothing, but the code is run next."""
        from dsl import cachefiles

        data = cachefiles.read(folder, cls.cache_path(folder, source, filename, app))
        if data is None:
            return None
        try:
            code, spec, files = marshal.loads(data)
            compiled = cls(code, spec, source, filename, files)
            helpers_from_spec(spec)  # a built-in since renamed makes this a miss
        except (EOFError, ValueError, TypeError, KeyError):
            return None
        return compiled

    def store(self, folder: str, source: str, app: str = "") -> None:
        """Keep the code for the next process; a cache that cannot be written only costs
        time."""
        from dsl import cachefiles

        try:
            data = marshal.dumps((self.code, self.spec, self.files))
        except ValueError:  # code that marshal cannot write: it is compiled again next time
            return
        cachefiles.write(folder, self.cache_path(folder, source, self.filename, app), data)
