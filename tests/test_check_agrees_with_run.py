"""`sluice check` and `sluice run` refuse the same scripts: over every golden case, a chunk that
a run refuses before running is one runtime.problems (what check reports) finds, with the run's
errors among its problems, and a chunk check passes runs (or fails only while running)."""

from __future__ import annotations

import pytest

import dsl
import runtime
from golden_files import golden_chunks

CHUNKS = golden_chunks("syntax") + golden_chunks("run") + golden_chunks("tasks")
# enough to tell a refusal from a start; the run's own outcome is test_golden's business
LIMITS = runtime.Limits(statements=20_000, time=2)


@pytest.mark.parametrize("chunk", CHUNKS, ids=[c.id for c in CHUNKS])
def test_check_finds_what_run_refuses(chunk):
    problems = runtime.problems(chunk.source, chunk.path.name)
    result = runtime.Runtime(limits=LIMITS).run(chunk.source, {}, filename=chunk.path.name)
    error = result.error
    if isinstance(error, runtime.StaticErrors):
        assert problems == error.errors
    elif isinstance(error, dsl.DelugeSyntaxError):
        syntax = [p for p in problems if p.code == "syntax"]
        assert syntax, "check passes a script that run refuses"
        assert (syntax[0].line, syntax[0].column, syntax[0].message) == \
            (error.line, error.column, error.message)
    else:
        assert problems == [], f"check refuses a script that runs: {problems}"


def test_every_problem_has_a_code_and_a_place():
    seen = set()
    for chunk in CHUNKS:
        for p in runtime.problems(chunk.source, chunk.path.name):
            assert p.line > 0 and p.column > 0 and p.message and p.code
            seen.add(p.code)
    assert {"syntax", "unknown-function", "arity", "undefined-variable",
            "break-outside-loop"} <= seen
