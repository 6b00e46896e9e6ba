"""Apps from the command line: `sluice run`, `check`, `app list`, `repl` and `test` with
functions spread over several files."""

from __future__ import annotations

import json
from pathlib import Path

APP = {
    "main.dg": 'info thisapp.Logs.addDeveloperLog("start");\n'
               'return standalone.countDown(5);\n',
    "lib/count.dg": "int standalone.countDown(int n)\n{\n    if (n <= 0)\n    {\n"
                    "        return 0;\n    }\n    return 1 + thisapp.bounce(n - 1);\n}\n",
    "lib/bounce.dg": "int bounce(int n)\n{\n    return standalone.countDown(n);\n}\n",
    "Logs/addDeveloperLog.dg": "string addDeveloperLog(string message)\n{\n"
                               "    return \"log: \" + message;\n}\n",
    "lib/math.dg": "int ratio(int a, int b)\n{\n    x = a;\n    return x / b;\n}\n",
}


def make(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_run_uses_the_app_of_the_script(sluice, tmp_path):
    make(tmp_path / "app", APP)
    result = sluice("run", "app/main.dg")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "log: start\n5\n"
    again = sluice("run", "app/main.dg")  # from the code cache
    assert again.stdout == "log: start\n5\n", again.stderr


def test_run_names_the_file_and_line_of_an_error_in_another_file(sluice, tmp_path):
    make(tmp_path / "app", dict(APP, **{"bad.dg": 'info "a";\nreturn standalone.ratio(1, 0);\n'}))
    result = sluice("run", "app/bad.dg")
    assert result.returncode == 1
    assert result.stderr == "app/lib/math.dg: Error at line 4: Division by zero\n" \
                            "    return x / b;\n"
    as_json = json.loads(sluice("run", "app/bad.dg", "--json").stdout)
    assert as_json["error"] == {"line": 4, "message": "Division by zero",
                                "file": "app/lib/math.dg"}


def test_run_depth_limit_counts_calls_across_files(sluice, tmp_path):
    make(tmp_path / "app", APP)
    result = sluice("run", "app/main.dg", "--limit", "depth=4")
    assert result.returncode == 1
    assert "Too many nested function calls (more than 4)" in result.stderr
    assert result.stderr.startswith(("app/lib/count.dg: Error at line 7",
                                     "app/lib/bounce.dg: Error at line 3"))


def test_run_with_app_option_and_sluice_toml(sluice, tmp_path):
    make(tmp_path, {"functions/util.dg": "int seven()\n{\n    return 7;\n}\n",
                    "scripts/s.dg": "return standalone.seven();\n"})
    unknown = sluice("run", "scripts/s.dg")
    assert unknown.returncode == 1 and "Unknown function 'standalone.seven'" in unknown.stderr
    assert sluice("run", "scripts/s.dg", "--app", "functions").stdout == "7\n"
    (tmp_path / "sluice.toml").write_text('app = "functions"\n')
    assert sluice("run", "scripts/s.dg").stdout == "7\n"
    (tmp_path / "sluice.toml").write_text('app = "gone"\n')
    broken = sluice("run", "scripts/s.dg")
    assert broken.returncode == 2 and "app folder" in broken.stderr and "gone" in broken.stderr


def test_check_reports_unknown_calls_duplicates_and_argument_counts(sluice, tmp_path):
    make(tmp_path / "app", dict(APP, **{
        "calls.dg": 'x = standalone.countDown(1, 2);\ny = thisapp.nowhere();\n',
        "again/count.dg": "int standalone.countDown(int n)\n{\n    return n;\n}\n",
    }))
    result = sluice("check", "app")
    assert result.returncode == 1
    out = result.stdout
    assert "app/again/count.dg:1:1: function 'standalone.countDown' is defined more than once: " \
           "app/again/count.dg:1, app/lib/count.dg:1" in out
    assert "app/calls.dg:1:5: 'standalone.countDown' is defined more than once" in out
    assert "app/calls.dg:2:5: Unknown function 'thisapp.nowhere'" in out
    as_json = json.loads(sluice("check", "app", "--json").stdout)
    codes = {(f["file"], e["code"]) for f in as_json["files"] for e in f.get("errors", [])}
    assert ("app/calls.dg", "unknown-function") in codes
    assert ("app/again/count.dg", "duplicate-function") in codes
    (tmp_path / "app/again/count.dg").unlink()
    arity = sluice("check", "app")
    assert "app/calls.dg:1:5: function 'countDown' takes 1 argument, got 2 (defined at " \
           "app/lib/count.dg:1)" in arity.stdout
    (tmp_path / "app/calls.dg").unlink()
    assert sluice("check", "app").returncode == 0


def test_app_list_shows_functions_files_signatures_and_calls(sluice, tmp_path):
    make(tmp_path / "app", APP)
    result = sluice("app", "list", "app")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "string thisapp.Logs.addDeveloperLog(string message)  " \
           "app/Logs/addDeveloperLog.dg:1" in lines
    i = lines.index("int standalone.countDown(int n)  app/lib/count.dg:1")
    assert lines[i + 1] == "    calls: thisapp.bounce"
    listed = json.loads(sluice("app", "list", "app", "--json").stdout)
    bounce = next(f for f in listed["functions"] if f["name"] == "bounce")
    assert bounce["file"] == "app/lib/bounce.dg" and bounce["line"] == 1
    assert bounce["calls"] == [{"call": "standalone.countDown", "file": ["app/lib/count.dg:1"]}]


def test_repl_calls_the_functions_of_an_app(sluice, tmp_path):
    make(tmp_path / "app", APP)
    result = sluice("repl", input=':app app\nstandalone.countDown(3)\n'
                                  'thisapp.ratio(1, 0)\n')
    assert "int standalone.countDown(int n)  app/lib/count.dg:1" in result.stdout
    assert "\n3\n" in result.stdout
    assert "app/lib/math.dg: Error at line 4: Division by zero" in result.stdout + result.stderr
    option = sluice("repl", "--app", "app", input="standalone.countDown(2)\n")
    assert "2" in option.stdout.split(), option.stderr


def test_sluice_test_runs_the_script_inside_its_app(sluice, tmp_path):
    make(tmp_path / "app", APP)
    (tmp_path / "app/main.test.toml").write_text(
        'script = "main.dg"\n\n[[case]]\nname = "counts down across files"\n'
        '[case.expect]\nreturn = 5\ninfo = ["log: start"]\n')
    result = sluice("test", "app")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "counts down across files" in result.stdout


def test_event_bindings_check_and_run_their_scripts_inside_their_app(sluice, tmp_path):
    make(tmp_path / "app", dict(APP, **{
        "events.toml": '[[binding]]\nevent = "go"\nscript = "main.dg"\n'
                       '[[binding]]\nevent = "fail"\nscript = "bad.dg"\n',
        "bad.dg": 'info "a";\nreturn standalone.ratio(1, 0);\n'}))
    bindings = tmp_path / "app/events.toml"
    assert sluice("events", "check", "--bindings", bindings).returncode == 0
    ran = sluice("trigger", "go", "--bindings", bindings)
    assert ran.returncode == 0 and "returned: 5" in ran.stdout, ran.stdout + ran.stderr
    failed = sluice("trigger", "fail", "--bindings", bindings)
    assert failed.returncode == 1
    assert "lib/math.dg: Error at line 4: Division by zero" in failed.stdout + failed.stderr
    (tmp_path / "app/bad.dg").write_text("return standalone.ratio(1);\n")
    refused = sluice("events", "check", "--bindings", bindings)
    assert refused.returncode == 1
    assert "function 'ratio' takes 2 arguments, got 1 (defined at " in refused.stdout + \
        refused.stderr


def test_check_with_app_option_and_list_of_an_unknown_call(sluice, tmp_path):
    make(tmp_path, {"functions/util.dg": "int seven()\n{\n    return standalone.eight();\n}\n",
                    "scripts/s.dg": "return standalone.seven();\n"})
    alone = sluice("check", "scripts")
    assert alone.returncode == 1 and "Unknown function 'standalone.seven'" in alone.stdout
    with_app = sluice("check", "scripts", "--app", "functions")
    assert with_app.returncode == 1
    assert "functions/util.dg:3:12: Unknown function 'standalone.eight'" in with_app.stdout
    listed = sluice("app", "list", "functions")
    assert "    calls: standalone.eight (defined nowhere)" in listed.stdout
    missing = sluice("app", "list", "--app", "nowhere")
    assert missing.returncode == 2 and "nowhere: no such folder" in missing.stderr
