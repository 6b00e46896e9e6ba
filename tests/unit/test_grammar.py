"""The grammar itself: LALR with nothing left to chance, tables cached, no Lark at run time."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lark import logger as lark_logger

import dsl
from dsl import parser as P

ROOT = Path(__file__).resolve().parents[2]


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_grammar_is_lalr_without_shift_reduce_conflicts():
    records = _Records()
    level = lark_logger.level
    lark_logger.addHandler(records)
    lark_logger.setLevel(logging.DEBUG)
    try:
        P.lark_parser(debug=True)  # Lark raises on reduce/reduce collisions not settled by priority
    finally:
        lark_logger.removeHandler(records)
        lark_logger.setLevel(level)
    conflicts = [m for m in records.messages if "conflict" in m.lower() or "collision" in m.lower()]
    assert conflicts == []


def test_the_one_reduce_reduce_choice_is_the_task_statement():
    grammar = P.grammar_text()
    stripped = grammar.replace("task_stmt.2:", "task_stmt:")
    with pytest.raises(Exception, match="Reduce/Reduce"):
        P.lark_parser(stripped)


def test_tables_are_cached_by_grammar_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("SLUICE_CACHE_DIR", str(tmp_path))
    first = P.load_tables()
    files = list(tmp_path.glob("deluge-tables-*.pickle"))
    assert len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    assert P.load_tables() == first
    assert files[0].stat().st_mtime_ns == mtime  # read, not rebuilt


def test_a_corrupt_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("SLUICE_CACHE_DIR", str(tmp_path))
    P.load_tables()
    (path,) = tmp_path.glob("deluge-tables-*.pickle")
    path.write_bytes(b"not a pickle")
    tables = P.load_tables()
    assert tables["format"] == P.TABLE_FORMAT
    assert path.read_bytes() != b"not a pickle"


def test_an_unwritable_cache_only_costs_speed(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("SLUICE_CACHE_DIR", str(blocker / "sub"))  # cannot be created
    assert P.load_tables()["format"] == P.TABLE_FORMAT


def test_parsing_does_not_import_lark(tmp_path):
    env = dict(os.environ, SLUICE_CACHE_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    warm = "import dsl; dsl.parse('x = 1;')"
    subprocess.run([sys.executable, "-c", warm], check=True, env=env)
    check = "import sys, dsl; dsl.parse('info \"a\" + 1;'); print('lark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", check], check=True, env=env, capture_output=True,
                         text=True).stdout.strip()
    assert out == "False"


def test_keywords_are_lower_case_and_soft_keywords_stay_names():
    script = dsl.parse("info = 1; info info; index = 2; for each index i in l { }")
    assert [type(s).__name__ for s in script.items] == ["Assign", "Info", "Assign", "ForIndex"]
    with pytest.raises(dsl.DelugeSyntaxError):
        dsl.parse("IF (x) { }")
