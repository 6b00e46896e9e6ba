"""`sluice repl < entries.dg`: no prompt, and an exit code that tells whether an entry failed."""

from __future__ import annotations


def test_piped_entries_exit_0_when_all_ran(sluice):
    result = sluice("repl", input='names = {"ann", "bo"}\nfor each n in names\n{\n'
                                  '    info "Hello " + n.proper();\n}\nnames.size() * 10\n')
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["Hello Ann", "Hello Bo", "20"]


def test_piped_entries_exit_1_when_one_failed_and_the_others_still_run(sluice):
    result = sluice("repl", input="x = 1 / 0\ny = 2\ninfo y + 1\n")
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["Error at line 1: Division by zero", "3"]
    syntax = sluice("repl", input="y = foo(;\ninfo 2;\n")
    assert syntax.returncode == 1 and syntax.stdout.splitlines()[-1] == "2"
