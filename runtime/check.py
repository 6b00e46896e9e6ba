"""What a script is refused for before it runs, all of it: `sluice check` and `sluice events
check` report these, `sluice run` stops at them.

`problems()` compiles the script exactly as a run does (`Runtime.compile`: the parser, then the
compiler, whose static analysis collects every unknown function, wrong argument count, `break`
outside a loop, undefined variable...), so a check and a run cannot disagree. A run stops at the
first syntax error; a check goes on past it with dsl.recover, and when the only repairs were
missing ';' it compiles the repaired text as well, whose static errors are then as real as the
syntax errors.
"""

from __future__ import annotations

from .errors import LimitExceeded, Problem, StaticErrors


def problems(source: str, filename: str = "<script>", limits=None, app=None) -> list[Problem]:
    """Every error that keeps `source` from running, in order of position (empty: it runs).
    `limits` (runtime.Limits): the `source` limit is the one a run would have. `app`
    (runtime.app.App): the other files whose functions its calls reach; a call no file
    defines, an ambiguous one and a wrong argument count are then errors of the app."""
    from dsl import DelugeSyntaxError
    from dsl.recover import syntax_errors

    from .run import Runtime

    try:
        Runtime(cache_size=1, limits=limits).compile(source, filename, app=app)
    except StaticErrors as e:
        return list(e.errors)
    except LimitExceeded as e:
        return [Problem(0, 0, e.message, "limit")]
    except MemoryError:
        return [Problem(0, 0, "Out of memory while compiling the script; make it shorter",
                        "limit")]
    except DelugeSyntaxError as first:
        errors, repaired = syntax_errors(source, filename)
        found = [Problem(e.line, e.column, e.message, "syntax") for e in errors or [first]]
        if repaired:
            try:
                Runtime(cache_size=1, limits=limits).compile(repaired, filename, app=app)
            except StaticErrors as e:
                found += e.errors
            except DelugeSyntaxError:
                pass
        return sorted(found)
    return []
