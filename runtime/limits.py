"""The budget of one run (LANGUAGE.md decision 17). Zero lifts a limit.

Most limits are counted where the thing happens (statements in the generated code, calls,
sizes in the built-ins that grow a value). Two need more than a count:

- Time. The generated code looks at the clock every CHECK_EVERY statements, but one statement
  can call a built-in that works for seconds. So every built-in whose work grows with its input
  looks at the clock after a large input (`check_time`), regular expressions run with a timeout
  taken from the time left (`regex_timeout`), and a built-in that loops in Python looks every so
  often.
- Memory. Walking a script's values to weigh them would cost more than the script; instead the
  run looks at what the process holds (its resident size) against what it held when the run
  began. It looks at every time checkpoint, and when built-ins have made more than LOOK_EVERY
  bytes of new values since the last look (`charge`): a loop of large allocations is stopped
  within a few steps, and small ones are seen at the next checkpoint. Every built-in that grows a
  value also checks its size against text_size / collection_size before it allocates, so no one
  step can take much. A host that runs a script in its own process (`sluice run`) can also put an
  OS limit on the process (`os_memory_cap`) as a backstop: an allocation past it fails, and the
  run reports the same memory error.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import time

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
    "memory": 256 * MB,  # bytes of memory the run may take beyond what its process held
}
UNITS = {"time": "seconds", "http_timeout": "seconds", "response_size": "bytes",
         "info_size": "bytes", "collection_size": "elements", "text_size": "characters",
         "source": "bytes", "memory": "bytes"}
_BYTE_SUFFIXES = {"k": 1024, "kb": 1024, "m": MB, "mb": MB, "g": 1024 * MB, "gb": 1024 * MB}
BIG = 10_000  # receivers and results of built-ins past this size are followed by a look at the clock
LOOK_EVERY = 32 * MB  # bytes of new values between looks at the process's memory


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
                value = _number(name, text)
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


def _number(name: str, text: str) -> float:
    """A number; for a limit in bytes also with a unit: 512MB, 1G, 64k."""
    text = text.strip().lower()
    if UNITS.get(name) == "bytes":
        for suffix, factor in _BYTE_SUFFIXES.items():
            if text.endswith(suffix):
                return float(text[:-len(suffix)]) * factor
    return float(text)


def check_collection(n: int, added: int = 0) -> None:
    """Refuse a list or map that would grow to `n` elements past the run's limit; `added` of
    them are new (counted towards the next look at the memory)."""
    run = current_run.get(None)
    if run is not None:
        if n > run.collection_limit:
            raise DelugeError(f"a list or map cannot hold more than "
                              f"{int(run.collection_limit):,} elements (limit collection_size)")
        if added:
            run.charge(8 * added)


def check_text(n: int) -> None:
    """Refuse a text that would be `n` characters long, past the run's limit."""
    run = current_run.get(None)
    if run is not None:
        if n > run.text_limit:
            raise DelugeError(f"a text cannot be longer than {int(run.text_limit):,} "
                              "characters (limit text_size)")
        run.charge(n)


def text_limit() -> float:
    """The run's text_size (the default outside a run)."""
    run = current_run.get(None)
    return run.text_limit if run is not None else DEFAULTS["text_size"]


def charge(nbytes: int) -> None:
    """A built-in made new values of about `nbytes`: look at the memory when enough were made."""
    run = current_run.get(None)
    if run is not None:
        run.charge(nbytes)


def check_time() -> None:
    """Stop the run if its time is up (for built-ins after a large piece of work)."""
    run = current_run.get(None)
    if run is not None and time.monotonic() > run.deadline:
        raise time_up(run.limits.time)


def time_up(seconds: float) -> LimitExceeded:
    shown = f"{int(seconds):,}" if seconds == int(seconds) else f"{seconds:g}"
    return LimitExceeded("time", f"Execution took longer than the time limit of {shown} "
                                 f"second{'' if seconds == 1 else 's'}")


def memory_exceeded(limit: int) -> LimitExceeded:
    if not limit:
        return LimitExceeded("memory", "The run ran out of memory")
    return LimitExceeded("memory", f"The run needed more than {_size_text(limit)} of memory "
                                   "(limit memory)")


def _size_text(n: int) -> str:
    return f"{n / MB:g} MB" if n >= MB else f"{n:,} bytes"


def regex_timeout() -> float | None:
    """Seconds a regular expression may work: the run's time left (None: no limit).

    The `regex` package measures its timeout in CPU time of the process, which runs slower than
    the wall clock on a busy machine; the time left is scaled by the share of the CPU the run
    has had so far (at its start, by what the load average says), so a match stops near the
    run's wall-clock deadline. One stopped early is started again by the caller with the time
    then left (see methods/text.py)."""
    run = current_run.get(None)
    if run is None or run.deadline == float("inf"):
        return None
    now = time.monotonic()
    left = run.deadline - now
    if left <= 0.01:
        raise time_up(run.limits.time)
    if now - run.cpu_share_at > 0.5:  # looked at twice a second at most: each look costs
        wall = now - run.started
        share = ((time.process_time() - run.cpu_started) / wall if wall > 0.1 else
                 _cpu_share_guess(now))
        run.cpu_share, run.cpu_share_at = min(max(share, 0.1), 1.0), now
    return max(left * run.cpu_share, 0.01)


_load_guess = (0.0, 1.0)  # (when, share): the load average is read every few seconds at most


def _cpu_share_guess(now: float) -> float:
    """The share of one CPU a busy process gets now, from the load average."""
    global _load_guess
    if now - _load_guess[0] > 5:
        try:
            share = (os.cpu_count() or 1) / max(os.getloadavg()[0], 1.0)
        except (OSError, AttributeError):
            share = 1.0
        _load_guess = (now, share)
    return _load_guess[1]


# ---------------------------------------------------------------------------- process memory

_statm: int | None = None
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def process_memory() -> int:
    """Bytes the process holds now (its resident size); 0 when the system does not say."""
    global _statm
    try:
        if _statm is None:
            _statm = os.open("/proc/self/statm", os.O_RDONLY)
        return int(os.pread(_statm, 64, 0).split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return _peak_memory()


def _peak_memory() -> int:
    try:
        import resource
    except ImportError:  # not on this system
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@contextlib.contextmanager
def os_memory_cap(limits: "Limits"):
    """For a host running one script in its own process: an OS limit on the process's data
    (RLIMIT_DATA) a margin past the run's memory limit, lifted again when the block ends. An
    allocation past it fails with MemoryError, which a run reports as its memory limit; the
    run's own looks normally stop it before."""
    limit = limits.memory
    try:
        import resource

        old = resource.getrlimit(resource.RLIMIT_DATA)
        with open("/proc/self/statm", "rb") as f:
            data_now = int(f.read().split()[5]) * _PAGE
    except (ImportError, OSError, ValueError, IndexError, AttributeError):
        old = None
    if not limit or old is None:
        yield
        return
    cap = data_now + limit + limit // 2 + 64 * MB  # room to report the error
    if old[1] != resource.RLIM_INFINITY:
        cap = min(cap, old[1])
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (cap, old[1]))
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, old)
