"""`sluice repl` in a real pseudo-terminal: multi-line entries, completion, Ctrl-C, errors."""

from __future__ import annotations

import os

import pytest

from conftest import _command

pexpect = pytest.importorskip("pexpect")
PROMPT = "dg>"


@pytest.fixture
def repl(tmp_path):
    env = dict(os.environ, SLUICE_HOME=str(tmp_path / "home"), TERM="xterm", NO_COLOR="1",
               PROMPT_TOOLKIT_NO_CPR="1",
               SLUICE_CACHE_DIR=os.environ.get("SLUICE_CACHE_DIR", str(tmp_path)))
    command = _command() + ["repl"]
    child = pexpect.spawn(command[0], command[1:], env=env, encoding="utf-8", timeout=20,
                          dimensions=(40, 120))
    child.expect("Ctrl-D to leave")
    child.expect(PROMPT)
    yield child
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_multi_line_entries_run_when_complete(repl):
    repl.sendline("total = 0")
    repl.expect(PROMPT)
    repl.sendline("for each n in {1, 2, 3}")
    repl.sendline("{")
    repl.sendline("    total = total + n;")
    repl.sendline("}")
    repl.expect(PROMPT)
    repl.sendline("total * 10")
    repl.expect("60")
    repl.expect(PROMPT)


def test_tab_completes_methods_by_type(repl):
    repl.sendline('greeting = "hello"')
    repl.expect(PROMPT)
    repl.send("greeting.toUpperC")
    repl.send("\t")
    repl.send(")\r")
    repl.expect('"HELLO"')
    repl.expect(PROMPT)


def test_ctrl_c_stops_a_running_entry_and_keeps_the_session(repl):
    repl.sendline(":limits statements=0 time=0")
    repl.expect(PROMPT)
    repl.sendline('l = "".leftPad(3000).toList("")')
    repl.expect(PROMPT)
    repl.sendline("n = 0")
    repl.expect(PROMPT)
    repl.sendline("for each a in l { for each b in l { n = n + 1; } }")
    import time

    time.sleep(1.0)
    repl.sendintr()
    repl.expect("interrupted")
    repl.expect(PROMPT)
    repl.sendline("l.size()")
    repl.expect("3000")
    repl.expect(PROMPT)


def test_errors_keep_the_session(repl):
    repl.sendline("x = 1 / 0;")
    repl.expect("Error at line 1: Division by zero")
    repl.expect(PROMPT)
    repl.sendline("x = (2 + ;")
    repl.expect("expected a value after")
    repl.expect(PROMPT)
    repl.sendline(":vars")
    repl.expect("no variables or functions yet")
    repl.expect(PROMPT)


def test_the_readme_s_first_line_without_its_semicolon(repl):
    repl.sendline('names = {"ann", "bo"}')
    repl.expect(PROMPT)
    repl.sendline("names.size() * 10")
    repl.expect("20")
    repl.expect(PROMPT)
    repl.sendline("x = {}")
    repl.expect(PROMPT)
    repl.sendline("x.isEmpty()")
    repl.expect("true")
    repl.expect(PROMPT)
