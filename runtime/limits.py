"""The budget of one run (LANGUAGE.md decision 17). Zero lifts a limit."""

from __future__ import annotations

import contextvars
import math

from .errors import DelugeError, LimitExceeded

# The run in progress in this thread (or task), for built-ins that check sizes.
current_run: contextvars.ContextVar = contextvars.ContextVar("sluice_run")

MB = 1024 * 1024
DEFAULTS = {
    "statements": 200_000,  # statements executed (Zoho CRM's figure; Creator's is 5,000)
    "depth": 75,  # nested function calls
    "time": 60.0,  # wall-clock seconds
    "invokeurl": 100,  # invokeurl (and getUrl/postUrl) calls
    "response_size": 5 * MB,  # bytes of one HTTP response
    "http_timeout": 40.0,  # seconds one HTTP call may wait for its answer
    "info_size": 1 * MB,  # bytes of info output in all
    "collection_size": 1_000_000,  # elements in one list or map
    "text_size": 10_000_000,  # characters in one text
    "source": 1 * MB,  # bytes of the script's source (UTF-8), refused before it is parsed
}
UNITS = {"time": "seconds", "http_timeout": "seconds", "response_size": "bytes",
         "info_size": "bytes", "collection_size": "elements", "text_size": "characters",
         "source": "bytes"}


class Limits:
    """Per-run limits; any of DEFAULTS by name. `Limits(statements=0)` lifts that limit."""

    __slots__ = tuple(DEFAULTS)

    def __init__(self, **values):
        unknown = set(values) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown limit(s): {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(DEFAULTS)}")
        for name, default in DEFAULTS.items():
            value = values.get(name, default)
            if value is None or value < 0:
                raise ValueError(f"limit {name} must be 0 (no limit) or more")
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError("Limits are fixed; use .replace(...)")

    def replace(self, **changes) -> "Limits":
        values = {name: getattr(self, name) for name in DEFAULTS}
        values.update(changes)
        return Limits(**values)

    def effective(self, name: str):
        """The limit, with 0 (no limit) as infinity."""
        value = getattr(self, name)
        return value if value else float("inf")

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in DEFAULTS}

    @classmethod
    def parse(cls, items: list[str], base: "Limits | None" = None) -> "Limits":
        """`["statements=0", "time=5"]` (as the command line gives them)."""
        changes = {}
        for item in items:
            name, sep, text = item.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in DEFAULTS:
                raise ValueError(f"--limit {item}: expected NAME=VALUE with NAME one of "
                                 f"{', '.join(DEFAULTS)}")
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise ValueError(f"--limit {item}: {text!r} is not a number")
            if name not in ("time", "http_timeout"):  # counts: 5000 or 5000.0, not 5000.5
                if not value.is_integer():
                    raise ValueError(f"--limit {item}: {name} is a whole number")
                value = int(value)
            changes[name] = value
        return (base or cls()).replace(**changes)

    def __repr__(self) -> str:
        return "Limits(" + ", ".join(f"{k}={v}" for k, v in self.as_dict().items()) + ")"


def source_size(source: str, limit) -> int | None:
    """The size in bytes of `source` when it is past `limit` (0: none), else None. Texts far
    from the limit either way are told by their length alone, without encoding them."""
    if not limit or len(source) * 4 <= limit:
        return None
    size = len(source) if len(source) > limit else len(source.encode("utf-8", "surrogatepass"))
    return size if size > limit else None


def check_source(source: str, limits: "Limits") -> None:
    """Refuse a script longer than the `source` limit, before anything reads it."""
    size = source_size(source, limits.source)
    if size is not None:
        raise LimitExceeded("source", f"The script is {size:,} bytes long; a script may be at "
                                      f"most {int(limits.source):,} bytes (limit source)")


def check_collection(n: int) -> None:
    """Refuse a list or map that would grow to `n` elements past the run's limit."""
    run = current_run.get(None)
    if run is not None and n > run.collection_limit:
        raise DelugeError(f"a list or map cannot hold more than {int(run.collection_limit):,} "
                          "elements (limit collection_size)")


def check_text(n: int) -> None:
    """Refuse a text that would be `n` characters long, past the run's limit."""
    run = current_run.get(None)
    if run is not None and n > run.text_limit:
        raise DelugeError(f"a text cannot be longer than {int(run.text_limit):,} characters "
                          "(limit text_size)")
