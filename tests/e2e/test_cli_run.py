"""`sluice run` and `sluice builtins`, driven as a user drives them."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def script(tmp_path: Path, text: str, name: str = "s.dg") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_run_prints_info_lines_then_the_return_value(sluice, tmp_path):
    path = script(tmp_path, 'info "one";\ninfo {"a": 1};\nreturn {1, 2};\n')
    result = sluice("run", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == 'one\n{"a":1}\n1,2\n'
    assert result.stderr == ""


def test_run_arguments(sluice, tmp_path):
    path = script(tmp_path, 'return name + " " + (n + 1) + " " + tags.size() + " " + input.id;\n')
    result = sluice("run", path, "--arg", "name=Ann", "--arg", "n=41", "--arg", 'tags=["a","b"]',
                    "--arg", "id=00123")
    assert result.stdout == "Ann 42 2 00123\n", result.stderr
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"name": "Bo", "n": 1, "tags": [], "id": 7}))
    assert sluice("run", path, "--args-json", args).stdout == "Bo 2 0 7\n"
    piped = sluice("run", path, "--args-json", "-", "--arg", "n=9",
                   input=json.dumps({"name": "Cy", "n": 1, "tags": [1], "id": 8}))
    assert piped.stdout == "Cy 10 1 8\n"


def test_run_a_function_file_with_its_parameters(sluice):
    result = sluice("run", ROOT / "scripts/shipping_quote.dg", "--arg", "kilos=7",
                    "--arg", "country=de")
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{"country":"de","kilos":7.0,"price":12.65}\n'


def test_a_parameter_without_an_argument_is_named_with_the_way_to_give_it(sluice):
    result = sluice("run", ROOT / "scripts/lead_followup.dg", "--crm", "local")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].endswith(
        "lead_followup.dg: Error at line 2: parameter 'leadId' has no value: "
        "pass --arg leadId=...")
    assert "found NULL" not in result.stderr and result.stdout == ""


def test_a_returned_null_prints_null_and_no_return_prints_nothing(sluice, tmp_path):
    assert sluice("run", script(tmp_path, "return null;\n")).stdout == "null\n"
    assert sluice("run", script(tmp_path, 'm = {"a": 1};\nreturn m.get("b");\n')).stdout == \
        "null\n"
    assert sluice("run", script(tmp_path, "string f() { return null; }\n")).stdout == "null\n"
    assert sluice("run", script(tmp_path, "info 1;\n")).stdout == "1\n"
    assert sluice("run", script(tmp_path, "void f() { info 2; }\n")).stdout == "2\n"
    assert sluice("run", script(tmp_path, "if (true) { return; }\ninfo 3;\n")).stdout == ""


def test_run_json(sluice, tmp_path):
    path = script(tmp_path, 'info "hi";\nreturn {"d": \'01-Jan-2024\', "n": 1.5};\n')
    report = json.loads(sluice("run", path, "--json").stdout)
    assert report["return"] == {"d": "01-Jan-2024", "n": 1.5}
    assert report["info"] == ["hi"] and report["error"] is None
    assert report["stats"]["statements"] == 2 and report["stats"]["duration_ms"] >= 0


def test_runtime_error_exit_1_with_line_and_statement(sluice, tmp_path):
    path = script(tmp_path, 'info "before";\nl = {1, 2, 3};\nx = l.get(5);\ninfo "after";\n')
    result = sluice("run", path)
    assert result.returncode == 1
    assert result.stdout == "before\n"  # info lines are printed as they come
    assert result.stderr == (f"{path}: Error at line 3: Index 5 is out of range for a list "
                             "of size 3\n    x = l.get(5);\n")
    report = json.loads(sluice("run", path, "--json").stdout)
    assert report["error"] == {"line": 3, "message": "Index 5 is out of range for a list of "
                                                     "size 3"}
    assert report["info"] == ["before"]


def test_syntax_and_static_errors_exit_1(sluice, tmp_path):
    bad = script(tmp_path, "x = (1 + ;\n", "bad.dg")
    result = sluice("run", bad)
    assert result.returncode == 1
    assert f"{bad}:1:10: expected a value after '+'" in result.stderr
    unknown = script(tmp_path, "x = frobnicate(1);\n", "unknown.dg")
    result = sluice("run", unknown)
    assert result.returncode == 1 and "Unknown function 'frobnicate'" in result.stderr
    assert "Traceback" not in result.stderr


def test_limits_from_the_command_line(sluice, tmp_path):
    path = script(tmp_path, 'n = 0;\nfor each i in "".leftpad(100).toList("") { n = n + 1; }\n'
                            'return n;\n')
    assert sluice("run", path).stdout == "100\n"
    limited = sluice("run", path, "--limit", "statements=20")
    assert limited.returncode == 1
    assert "Execution limit exceeded: more than 20 statements" in limited.stderr
    assert sluice("run", path, "--limit", "statements=0").stdout == "100\n"
    wrong = sluice("run", path, "--limit", "speed=3")
    assert wrong.returncode == 2 and "expected NAME=VALUE" in wrong.stderr


def test_timezone(sluice, tmp_path):
    path = script(tmp_path, "return '01-Jan-2024 12:00:00'.toString(\"HH:mm XXX\");\n")
    assert sluice("run", path, "--timezone", "Asia/Kolkata").stdout == "12:00 +05:30\n"
    wrong = sluice("run", path, "--timezone", "Mars/Olympus")
    assert wrong.returncode == 2 and "not a time zone" in wrong.stderr


def test_usage_errors(sluice, tmp_path):
    assert sluice("run", tmp_path / "missing.dg").returncode == 2
    path = script(tmp_path, "return 1;\n")
    assert sluice("run", path, "--arg", "novalue").returncode == 2
    assert sluice("run", path, "--args-json", tmp_path / "nope.json").returncode == 2


def test_builtins_listing(sluice):
    listing = sluice("builtins")
    assert listing.returncode == 0
    assert "text.getSuffix(search)" in listing.stdout
    assert "zoho.encryption.hmacsha256(key, message, output)" in listing.stdout
    report = json.loads(sluice("builtins", "trim", "--json").stdout)
    assert {entry["name"] for entry in report} >= {"trim", "ltrim", "rtrim"}
    assert sluice("builtins", "nosuchbuiltin").returncode == 1


def test_check_and_run_refuse_a_script_over_the_source_limit_alike(sluice, tmp_path):
    big = script(tmp_path, 'x = "' + "a" * (1024 * 1024) + '";\nreturn x.length();\n')
    message = ("The script is 1,048,603 bytes long; a script may be at most 1,048,576 bytes "
               "(limit source)")
    run = sluice("run", big)
    check = sluice("check", big)
    assert run.returncode == check.returncode == 1
    assert run.stderr.strip() == f"{big}: {message}" and run.stdout == ""
    assert check.stdout.splitlines()[0] == f"{big}: {message}"
    assert json.loads(sluice("run", "--json", big).stdout)["error"]["message"] == message
    assert json.loads(sluice("check", "--json", big).stdout)["files"][0]["error"]["message"] == \
        message
    lifted = sluice("run", big, "--limit", "source=2000000")
    assert lifted.returncode == 0 and lifted.stdout.strip() == str(1024 * 1024)
    assert sluice("check", big, "--limit", "source=0").returncode == 0
    small = script(tmp_path, "return 1;\n", "small.dg")
    assert "at most 5 bytes" in sluice("run", small, "--limit", "source=5").stderr
    assert "at most 5 bytes" in sluice("check", small, "--limit", "source=5").stdout
    for text in (run.stderr, check.stdout):
        assert "Traceback" not in text and "Error:" not in text


def test_check_and_run_agree_on_nesting_too_deep(sluice, tmp_path):
    deep = script(tmp_path, "c = 0;\n" + "if (c == 0) {\n" * 300 + "c = 1;\n" + "}\n" * 300)
    run = sluice("run", deep)
    check = sluice("check", deep)
    assert run.returncode == check.returncode == 1
    first = check.stdout.splitlines()[0]
    assert first.startswith(f"{deep}:102:4: nested more than 100 levels deep")
    assert run.stderr.splitlines()[0] == first
    assert "Recursion" not in run.stderr + check.stdout
    fmt = sluice("fmt", deep)
    assert fmt.returncode == 1 and fmt.stderr.splitlines()[0] == first


def test_run_show_code_prints_the_generated_python_and_runs_nothing(sluice, tmp_path):
    path = script(tmp_path, 'info "ran";\nx = "a" + 1;\nreturn x;\n')
    result = sluice("run", "--show-code", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("def __run__(R, A):\n")
    assert "ran" in result.stdout and "R.info(" in result.stdout
    bad = script(tmp_path, "x = ;\n", "bad.dg")
    failed = sluice("run", bad, "--show-code")
    assert failed.returncode == 1 and f"{bad}:1:5" in failed.stderr


QUICK_COMMAND_LINES = [
    ["run", "a.dg"], ["run", "./x//a.dg", "--json"], ["run", "--json", "a.dg"],
    ["run", "a.dg", "--arg", "n=1", "--arg=m=2", "--limit", "time=1", "--limit=depth=3"],
    ["run", "a.dg", "--timezone", "Asia/Kolkata", "--crm", "local", "--crm-data", "d.json"],
    ["run", "a.dg", "--crm=zoho", "--crm-connection", "z", "--crm-export=e.json"],
    ["run", "a.dg", "--args-json", "-"], ["run", "a.dg", "--args-json", "f.json", "--show-code"],
    ["run", "a.dg", "--arg", ""], ["run", "a.dg", "--arg", "x=--y"],
]
ARGPARSE_COMMAND_LINES = [  # the quick reading steps aside: argparse decides
    ["run"], ["run", "a.dg", "b.dg"], ["run", "-h"], ["run", "a.dg", "--help"],
    ["run", "a.dg", "--tim", "UTC"], ["run", "a.dg", "--crm", "other"], ["run", "a.dg", "--arg"],
    ["run", "a.dg", "--arg", "-5"], ["run", "a.dg", "--json=1"], ["run", "--", "a.dg"],
    ["run", "-", "--json"], ["run", "a.dg", "--unknown"], ["run", ""],
]


def test_quick_run_arguments_agree_with_argparse():
    from sluice.cli import build_parser, quick_run_args

    for argv in QUICK_COMMAND_LINES:
        quick = quick_run_args(argv)
        assert quick is not None, argv
        assert vars(quick) == vars(build_parser("run").parse_args(argv)), argv
    for argv in ARGPARSE_COMMAND_LINES:
        assert quick_run_args(argv) is None, argv


def test_shown_path_spells_paths_as_pathlib_does():
    from sluice.cli.common import shown_path

    for name in ["a.dg", "./a.dg", "x//y/./a.dg", "/a/b", "//a/b", "///a", ".", "./", "a/",
                 "../a", "/", "//", "a/../b"]:
        assert shown_path(name) == str(Path(name)), name


def test_a_cached_run_imports_little(tmp_path):
    # start-up (issue 19): the second run of a script loads its code from the cache and needs
    # neither the parser nor the method tables, and `run FILE` is read without argparse
    import os
    import subprocess
    import sys

    path = script(tmp_path, 'info "hi";\n')
    env = dict(os.environ, SLUICE_CACHE_DIR=str(tmp_path / "cache"),
               SLUICE_HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    command = [sys.executable, "-X", "importtime", "-m", "sluice", "run", str(path)]
    for _ in range(2):
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        assert result.stdout == "hi\n", result.stderr
    loaded = {line.split("|")[-1].strip() for line in result.stderr.splitlines()
              if line.startswith("import time:")}
    # (pathlib, and re through it, are loaded: finding the script's app walks its folder)
    heavy = {"argparse", "typing", "json", "hashlib", "hmac", "dsl.ast",
             "dsl.errors", "dsl.parser", "lark",
             "runtime.compile", "runtime.methods", "runtime.tasks.crm", "connections"}
    assert loaded & heavy == set()
