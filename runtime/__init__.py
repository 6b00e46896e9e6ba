"""Deluge execution: AST (from dsl) -> Python code -> Result.

    import runtime
    result = runtime.run('info "Hello " + name; return name.length();', {"name": "Ann"})
    result.value        # 3
    result.info         # ['Hello Ann']
    result.error        # None, or an error with .line, .message and .render()
    runtime.problems(text)  # what keeps a script from running, every error (as `sluice check`)

Seams: runtime imports dsl (its AST and parse) and nothing else of ours. It reaches HTTP,
connections, mail and other hosts only through `Services` (tasks registered by name); the
sluice package plugs in the real ones, tests plug in fakes that record calls.
"""

from .check import problems
from .errors import DelugeError, LimitExceeded, MissingArgument, Problem, StaticErrors
from .limits import Limits
from .run import Result, RunContext, Runtime, run
from .services import Services

__all__ = ["DelugeError", "LimitExceeded", "Limits", "MissingArgument", "Problem", "Result",
           "RunContext", "Runtime", "Services", "StaticErrors", "problems", "run"]
