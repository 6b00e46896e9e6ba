"""`sluice check` and `sluice fmt`, driven as a user drives them."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_check_the_example_scripts(sluice):
    result = sluice("check", ROOT / "scripts")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().startswith("all ") and result.stdout.strip().endswith(" ok")


def test_check_reports_each_broken_file_and_a_summary(sluice, tmp_path):
    write(tmp_path, "good.dg", "x = 1;\n")
    write(tmp_path, "sub/bad.dg", "x = 1;\ny = ;\n")
    write(tmp_path, "sub/worse.dg", "if (x) {\n  info x;\n")
    write(tmp_path, "notes.txt", "not a script")
    result = sluice("check", tmp_path)
    assert result.returncode == 1
    out = result.stdout
    assert f"{tmp_path / 'sub/bad.dg'}:2:5: expected a value after '='" in out
    assert f"{tmp_path / 'sub/worse.dg'}:1:8: '{{' opened on line 1 is never closed" in out
    assert "    y = ;\n        ^" in out
    assert out.strip().splitlines()[-1] == "2 files with errors, 1 ok (checked 3 files)"
    assert "Traceback" not in out + result.stderr


def test_check_json(sluice, tmp_path):
    bad = write(tmp_path, "bad.dg", "info \"never closed;\n")
    result = sluice("check", "--json", bad)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["checked"] == 1 and report["failed"] == 1
    (entry,) = report["files"]
    assert entry["ok"] is False
    assert entry["error"] == {"file": str(bad), "line": 1, "column": 6, "code": "syntax",
                              "message": "text started on line 1 is never closed"}
    assert entry["errors"] == [{"line": 1, "column": 6, "code": "syntax",
                                "message": "text started on line 1 is never closed"}]


def test_check_reports_what_run_refuses_every_error_of_it(sluice, tmp_path):
    path = write(tmp_path, "s.dg", "x = foo(1);\nbreak;\nint f(int a) { return b; }\n"
                                   "y = f(1, 2);\n")
    result = sluice("check", path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [l for l in lines if l.startswith(str(path))] == [
        f"{path}:1:5: Unknown function 'foo' (did you mean 'floor'?)",
        f"{path}:2:1: 'break' outside a loop",
        f"{path}:3:23: Variable 'b' is not defined in function 'f'",
        f"{path}:4:5: function 'f' takes 1 argument, got 2"]
    assert "    x = foo(1);\n        ^" in result.stdout
    run = sluice("run", path)
    assert run.returncode == 1
    assert [l for l in run.stderr.splitlines() if l.startswith(str(path))] == \
        [l for l in lines if l.startswith(str(path))]
    report = json.loads(sluice("check", "--json", path).stdout)
    assert [(e["line"], e["column"], e["code"]) for e in report["files"][0]["errors"]] == [
        (1, 5, "unknown-function"), (2, 1, "break-outside-loop"), (3, 23, "undefined-variable"),
        (4, 5, "arity")]
    assert report["failed"] == 1


def test_check_goes_past_the_first_syntax_error(sluice, tmp_path):
    path = write(tmp_path, "b.dg", "x = 5\ny = x +;\nz = bar(x);\n")
    result = sluice("check", "--json", path)
    assert result.returncode == 1
    errors = json.loads(result.stdout)["files"][0]["errors"]
    assert [(e["line"], e["code"], e["message"]) for e in errors] == [
        (1, "syntax", "missing ';' at the end of the statement"),
        (2, "syntax", "expected a value after '+'")]
    fixed = write(tmp_path, "c.dg", "x = 5\ny = bar(x);\n")
    errors = json.loads(sluice("check", "--json", fixed).stdout)["files"][0]["errors"]
    assert [(e["line"], e["code"]) for e in errors] == [(1, "syntax"), (2, "unknown-function")]


def test_check_usage_errors_exit_2(sluice, tmp_path):
    missing = sluice("check", tmp_path / "nope.dg")
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    assert sluice("check").returncode == 2
    assert sluice().returncode == 2
    assert sluice("frobnicate").returncode == 2


def test_check_unreadable_file(sluice, tmp_path):
    path = tmp_path / "latin1.dg"
    path.write_bytes("x = \"caf\xe9\";".encode("latin-1"))
    result = sluice("check", path)
    assert result.returncode == 1 and "cannot read: not UTF-8" in result.stdout


def test_fmt_rewrites_in_place_and_check_mode(sluice, tmp_path):
    path = write(tmp_path, "f.dg", "x=1;   // keep me\nif(x>0){info x;}\n")
    check = sluice("fmt", "--check", path)
    assert check.returncode == 1 and f"would reformat {path}" in check.stdout
    assert path.read_text() == "x=1;   // keep me\nif(x>0){info x;}\n"
    result = sluice("fmt", path)
    assert result.returncode == 0 and f"reformatted {path}" in result.stdout
    assert path.read_text() == "x = 1; // keep me\nif (x > 0)\n{\n    info x;\n}\n"
    assert sluice("fmt", "--check", path).returncode == 0


def test_fmt_leaves_broken_files_alone(sluice, tmp_path):
    path = write(tmp_path, "broken.dg", "x = (1 + ;\n")
    result = sluice("fmt", path)
    assert result.returncode == 1
    assert "expected a value after '+'" in result.stderr
    assert path.read_text() == "x = (1 + ;\n"


def test_fmt_stdin_to_stdout(sluice):
    result = sluice("fmt", "-", input="info   'a'+1;")
    assert result.returncode == 0 and result.stdout == "info 'a' + 1;\n"


def test_the_example_scripts_are_formatted(sluice):
    result = sluice("fmt", "--check", ROOT / "scripts")
    assert result.returncode == 0, result.stdout


def test_version_and_help(sluice):
    assert sluice("version").stdout.startswith("sluice ")
    assert sluice("--version").stdout.startswith("sluice ")
    helped = sluice("--help")
    assert helped.returncode == 0 and "check" in helped.stdout and "fmt" in helped.stdout
    assert "--check" in sluice("fmt", "--help").stdout


def test_check_strict_warns_about_single_equals_comparisons(sluice, tmp_path):
    path = write(tmp_path, "eq.dg", 'a = 200;\nif (a == 200 || a = 201) { info a; }\n'
                                    'else if (a = 3) { info 3; }\nx = if(a = 1, 1, 2);\n')
    plain = sluice("check", path)
    assert plain.returncode == 0 and "warning" not in plain.stdout
    strict = sluice("check", "--strict", path)
    assert strict.returncode == 1
    lines = strict.stdout.splitlines()
    assert lines[:3] == [f"{path}:2:17: warning: '=' compares here; write '==' (sluice fmt does)",
                         f"{path}:3:10: warning: '=' compares here; write '==' (sluice fmt does)",
                         f"{path}:4:8: warning: '=' compares here; write '==' (sluice fmt does)"]
    report = json.loads(sluice("check", "--strict", "--json", path).stdout)
    assert [(w["line"], w["column"], w["code"]) for w in report["files"][0]["warnings"]] == \
        [(2, 17, "single-equals"), (3, 10, "single-equals"), (4, 8, "single-equals")]
    assert sluice("fmt", path).returncode == 0
    assert "a == 201" in path.read_text() and " = 3" not in path.read_text()
    assert sluice("check", "--strict", path).returncode == 0


def test_run_json_shows_the_form_state(sluice, tmp_path):
    path = write(tmp_path, "form.dg",
                 'clear input.Course;\ninput.Course:ui.add({"Maths", "Art"});\n'
                 'Course:ui.append("Maths");\nrow.Contact:ui.add(7);\n')
    result = sluice("run", "--json", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["form"] == {"Course": ["Maths", "Art"], "row.Contact": [7]}
    plain = json.loads(sluice("run", "--json", write(tmp_path, "none.dg", "x = 1;\n")).stdout)
    assert plain["form"] == {}
