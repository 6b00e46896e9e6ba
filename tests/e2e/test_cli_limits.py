"""`sluice run` under hostile scripts: the time and memory limits hold in the command's own
process, and what it prints stays Deluge's (and strict JSON with --json)."""

from __future__ import annotations

import json
import time
from pathlib import Path


def script(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.dg"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_catastrophic_regular_expression_stops_at_the_time_limit(sluice, tmp_path):
    path = script(tmp_path, f'info "{"a" * 40}!".matches("(a|aa)+$");\n')
    started = time.monotonic()
    result = sluice("run", path, "--limit", "time=2")
    took = time.monotonic() - started
    assert result.returncode == 1
    assert "Error at line 1: Execution took longer than the time limit of 2 seconds" in \
        result.stderr
    assert took < 2 + 1.5 + 1  # the limit, the margin, and the start of a process


def test_one_allocation_past_the_memory_limit_is_a_deluge_error(sluice, tmp_path):
    # no text limit: only the memory limit (and the OS limit behind it) stand in the way
    path = script(tmp_path, 'x = "ab".repeat(1000000000);\ninfo x.length();\n')
    result = sluice("run", path, "--limit", "text_size=0", "--limit", "memory=64MB")
    assert result.returncode == 1
    assert "Error at line 1: The run needed more than 64 MB of memory (limit memory)" in \
        result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr


def test_the_os_limit_turns_a_failed_allocation_into_the_memory_error(sluice, tmp_path):
    # straight-line code (no loop, no call: no checkpoint) making texts just under the size
    # that built-ins measure: only the OS limit that `sluice run` sets can stop it in time
    lines = ['s = "x".repeat(90000);', "l = List();"]
    lines += [f'l.add(s + "{i}");' for i in range(8000)]
    path = script(tmp_path, "\n".join(lines) + "\n")
    result = sluice("run", path, "--limit", "memory=32MB", "--json")
    assert result.returncode == 1, result.stdout
    out = json.loads(result.stdout)
    assert out["error"]["limit"] == "memory", out
    assert out["error"]["message"] == "The run needed more than 32 MB of memory (limit memory)"
    # (its line may be the enclosing function's: at the OS limit Python cannot always record
    # where an allocation failed)


def test_a_loop_of_small_texts_stops_at_the_memory_limit(sluice, tmp_path):
    path = script(tmp_path, 'l = List();\ns = "x".repeat(50000);\n'
                            'for each i in "".leftpad(200000).toList("") '
                            '{ l.add(s + i); }\n')
    result = sluice("run", path, "--limit", "memory=32MB", "--limit", "statements=0",
                    "--json")
    assert result.returncode == 1
    out = json.loads(result.stdout)
    assert out["error"]["limit"] == "memory", out
    assert out["error"]["line"] == 3


def test_json_output_is_strict_json_whatever_the_script_returns(sluice, tmp_path):
    for source in ('m = "{\\"a\\": 1e999}".toMap();\nreturn m;\n',
                   'm = Map();\nm.put("me", m);\nreturn m;\n',
                   'return "[1e999]".toList();\n'):
        result = sluice("run", script(tmp_path, source), "--json")
        out = json.loads(result.stdout, parse_constant=lambda name: 1 / 0)  # no Infinity
        assert "internal error" not in result.stdout + result.stderr
        assert out["error"] is None or "contains itself" in out["error"]["message"], out


def test_memory_is_a_limit_the_command_line_takes(sluice, tmp_path):
    path = script(tmp_path, 'return "ok";\n')
    assert sluice("run", path, "--limit", "memory=300MB").stdout == "ok\n"
    bad = sluice("run", path, "--limit", "memory=lots")
    assert bad.returncode != 0 and "memory=lots" in bad.stderr
