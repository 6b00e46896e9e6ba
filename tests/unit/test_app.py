"""Apps: the functions of several .dg files calling each other (runtime.app, sluice.app)."""

from __future__ import annotations

from pathlib import Path

import pytest

import runtime
from sluice.app import AppError, app_of


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def run(root: Path, main: str, source: str, args=None, folders=None, engine=None, **kw):
    path = root / main
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    app = app_of(str(path), folders)
    return (engine or runtime.Runtime()).run(source, args, filename=str(path), app=app, **kw)


LIB = {
    "util.dg": """int standalone.double(int n)
{
    return n * 2;
}

string greet(string who, int times)
{
    out = "";
    for each index i in who.toList("") {
        if (i < times) {
            out = out + "hi ";
        }
    }
    return out + who;
}
""",
    "Logs/addDeveloperLog.dg": """string addDeveloperLog(string message)
{
    return "log: " + message + " " + standalone.double(2);
}
""",
    "http/make_api_request.dg": """map makeApiRequest(string url, string method, map headers, string body)
{
    return {"url": url, "method": method};
}
""",
}


@pytest.mark.parametrize("call, value", [
    ("standalone.double(21)", 42),
    ("thisapp.double(21)", 42),
    ("double(21)", 42),
    ("STANDALONE.DOUBLE(21)", 42),
    ("thisApp.Double(21)", 42),
    ('thisapp.Logs.addDeveloperLog("x")', "log: x 4"),
    ('thisapp.logs.ADDDEVELOPERLOG("x")', "log: x 4"),
    ('thisapp.addDeveloperLog("x")', "log: x 4"),
    ('standalone.greet("ab", 1)', "hi ab"),
    # a file holding one function answers to its own name as well
    ('standalone.make_api_request("u", "GET", {}, "").get("method")', "GET"),
    ('standalone.makeApiRequest("u", "POST", {}, "").get("method")', "POST"),
])
def test_calls_reach_the_functions_of_other_files(tmp_path, call, value):
    write(tmp_path, LIB)
    result = run(tmp_path, "main.dg", f"return {call};\n")
    assert result.error is None, result.error.render()
    assert result.value == value


def test_a_function_file_runs_its_first_function_inside_the_app(tmp_path):
    write(tmp_path, LIB)
    source = "int standalone.quadruple(int n)\n{\n    return standalone.double(double(n));\n}\n"
    result = run(tmp_path, "quad.dg", source, {"n": 3})
    assert result.value == 12, result.error and result.error.render()


def test_recursion_across_files_and_the_depth_limit_counts_it(tmp_path):
    write(tmp_path, {
        "even.dg": "bool isEvenN(int n)\n{\n    if (n == 0) { return true; }\n"
                   "    return standalone.isOddN(n - 1);\n}\n",
        "odd.dg": "bool isOddN(int n)\n{\n    if (n == 0) { return false; }\n"
                  "    return thisapp.isEvenN(n - 1);\n}\n",
    })
    ok = run(tmp_path, "main.dg", "return standalone.isEvenN(10);\n")
    assert ok.value is True, ok.error and ok.error.render()
    deep = run(tmp_path, "main.dg", "return standalone.isEvenN(200);\n")
    assert isinstance(deep.error, runtime.LimitExceeded) and deep.error.limit == "depth"
    assert deep.error.file.endswith(("even.dg", "odd.dg"))
    assert deep.error.line == 4
    assert "standalone.isOddN" in deep.error.statement or "thisapp.isEvenN" in \
        deep.error.statement


def test_a_call_back_into_the_script_itself(tmp_path):
    write(tmp_path, {"other.dg": "int bounce(int n)\n{\n    return thisapp.countDown(n);\n}\n"})
    source = ("int countDown(int n)\n{\n    if (n <= 0) { return 0; }\n"
              "    return 1 + standalone.bounce(n - 1);\n}\n")
    result = run(tmp_path, "main.dg", source, {"n": 20})
    assert result.value == 20, result.error and result.error.render()
    deep = run(tmp_path, "main.dg", source, {"n": 500})
    assert deep.error is not None and deep.error.limit == "depth"


def test_a_runtime_error_names_the_file_and_line_where_it_happened(tmp_path):
    write(tmp_path, {"lib/math.dg": "int ratio(int a, int b)\n{\n    x = a;\n"
                                    "    return x / b;\n}\n"})
    result = run(tmp_path, "main.dg", 'info "start";\nreturn standalone.ratio(1, 0);\n')
    assert result.error.message == "Division by zero"
    assert result.error.file == str(tmp_path / "lib/math.dg")
    assert result.error.line == 4
    assert result.error.statement == "return x / b;"
    assert result.error.to_dict()["file"] == str(tmp_path / "lib/math.dg")
    caught = run(tmp_path, "main.dg", "try {\n    standalone.ratio(1, 0);\n}\n"
                                      "catch (e) {\n    return e.lineNo;\n}\n")
    assert caught.value == 4
    own = run(tmp_path, "main.dg", "x = 0;\nreturn 1 / x;\n")
    assert own.error.file == "" and own.error.line == 2


def test_wrong_argument_counts_name_both_places(tmp_path):
    write(tmp_path, LIB)
    with pytest.raises(runtime.StaticErrors) as e:
        path = tmp_path / "main.dg"
        path.write_text('info "a";\nx = standalone.double(1, 2);\n')
        runtime.Runtime().compile(path.read_text(), str(path), app=app_of(str(path)))
    problem = e.value.errors[0]
    assert (problem.line, problem.code) == (2, "arity")
    assert f"takes 1 argument, got 2 (defined at {tmp_path / 'util.dg'}:1)" in problem.message


def test_argument_types_are_checked_against_the_definition(tmp_path):
    write(tmp_path, LIB)
    result = run(tmp_path, "main.dg", 'info "a";\nreturn standalone.double("x");\n')
    assert result.error.line == 2 and result.error.file == ""
    assert result.error.message == (f"function 'double' (defined at {tmp_path / 'util.dg'}:1) "
                                    "expects INT for 'n', found TEXT")


def test_unknown_duplicate_and_ambiguous_calls(tmp_path):
    write(tmp_path, dict(LIB, **{
        "again.dg": "int standalone.double(int n)\n{\n    return n + n;\n}\n",
        "A/add.dg": "int add(int a)\n{\n    return a;\n}\n",
        "B/add.dg": "int add(int a)\n{\n    return a + 1;\n}\n",
    }))
    found = runtime.problems("x = standalone.nothing(1);\ny = standalone.double(1);\n"
                             "z = thisapp.add(1);\nw = thisapp.B.add(1);\n",
                             str(tmp_path / "main.dg"), app=app_of(str(tmp_path / "main.dg")))
    codes = [(p.line, p.code) for p in found]
    assert codes == [(1, "unknown-function"), (2, "duplicate-function"),
                     (3, "ambiguous-function")]
    assert "Unknown function 'standalone.nothing'" in found[0].message
    assert str(tmp_path / "again.dg") + ":1" in found[1].message
    assert str(tmp_path / "util.dg") + ":1" in found[1].message
    assert "A/add.dg" in found[2].message and "B/add.dg" in found[2].message
    app = app_of(str(tmp_path / "main.dg"))
    assert [[f.file.filename for f in g] for g in app.duplicates()] == \
        [[str(tmp_path / "again.dg"), str(tmp_path / "util.dg")]]


def test_errors_in_a_function_of_another_file_are_reported_where_the_script_reaches_it(tmp_path):
    write(tmp_path, {"bad.dg": "int broken(int n)\n{\n    return n + missing;\n}\n"})
    found = runtime.problems('info "a";\nreturn standalone.broken(1);\n',
                             str(tmp_path / "main.dg"), app=app_of(str(tmp_path / "main.dg")))
    assert [(p.line, p.code) for p in found] == [(2, "undefined-variable")]
    assert found[0].message.startswith(f"{tmp_path / 'bad.dg'}:3:")


def test_a_file_that_does_not_parse_is_named_when_a_call_is_unknown(tmp_path):
    write(tmp_path, {"broken.dg": "int f(int n) {\n    return n +;\n}\n"})
    found = runtime.problems("return standalone.f(1);\n", str(tmp_path / "main.dg"),
                             app=app_of(str(tmp_path / "main.dg")))
    assert found[0].code == "unknown-function"
    assert "broken.dg has a syntax error" in found[0].message


def test_builtins_keep_their_meaning_and_the_scripts_own_functions_come_first(tmp_path):
    write(tmp_path, {"lib.dg": "string trim(string s)\n{\n    return \"lib\";\n}\n"
                               "int helper()\n{\n    return 1;\n}\n"})
    result = run(tmp_path, "main.dg", 'int helper()\n{\n    return 2;\n}\n'
                                      'return trim("  a ") + helper() + standalone.helper();\n')
    assert result.value == "a22", result.error and result.error.render()


def test_each_function_keeps_its_files_name_in_the_compiled_code(tmp_path):
    write(tmp_path, LIB)
    path = tmp_path / "main.dg"
    source = 'return thisapp.Logs.addDeveloperLog("x");\n'
    compiled = runtime.Runtime().compile(source, str(path), app=app_of(str(path)))
    names = {}

    def walk(code):
        names[code.co_name] = code.co_filename
        for c in code.co_consts:
            if hasattr(c, "co_code"):
                walk(c)

    walk(compiled.code)
    log = next(v for k, v in names.items() if k.endswith("_addDeveloperLog"))
    double = next(v for k, v in names.items() if k.endswith("_double"))
    assert "addDeveloperLog.dg" in log and "util.dg" in double
    assert str(path) in names["__body"]
    assert set(compiled.files) == {str(tmp_path / "Logs/addDeveloperLog.dg"),
                                   str(tmp_path / "util.dg")}


def test_the_code_cache_holds_the_app_and_a_changed_file_recompiles(tmp_path):
    root = write(tmp_path / "app", {"lib.dg": "int f()\n{\n    return 1;\n}\n"})
    cache = tmp_path / "cache"
    source = "return standalone.f();\n"
    assert run(root, "main.dg", source, engine=runtime.Runtime(code_cache=str(cache))).value == 1
    assert len(list((cache / "code").iterdir())) == 1
    again = run(root, "main.dg", source, engine=runtime.Runtime(code_cache=str(cache)))
    assert again.value == 1 and len(list((cache / "code").iterdir())) == 1
    (root / "lib.dg").write_text("int f()\n{\n    return 2;\n}\n")
    assert run(root, "main.dg", source, engine=runtime.Runtime(code_cache=str(cache))).value == 2


def test_the_rest_of_the_project_answers_what_the_folder_does_not(tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path, {"shared/helpers.dg": "string shout(string s)\n{\n    return s.toUpperCase();\n}\n"
                                          "string whisper(string s)\n{\n    return \"far\";\n}\n",
                     "crm/near.dg": "string whisper(string s)\n{\n    return \"near\";\n}\n"})
    far = run(tmp_path, "scripts/main.dg", 'return standalone.shout("a");\n')
    assert far.value == "A", far.error and far.error.render()
    near = run(tmp_path, "crm/main.dg", 'return standalone.whisper("a");\n')
    assert near.value == "near", near.error and near.error.render()
    # from a third folder, two definitions outside it are ambiguous
    both = run(tmp_path, "scripts/main.dg", 'return standalone.whisper("a");\n')
    assert both.error.errors[0].code == "ambiguous-function"
    # a cached script that used a function outside its folder sees that file change
    cache = tmp_path / "cache"
    engine = runtime.Runtime(code_cache=str(cache))
    assert run(tmp_path, "scripts/main.dg", 'return standalone.shout("a");\n',
               engine=engine).value == "A"
    (tmp_path / "shared/helpers.dg").write_text("string shout(string s)\n{\n    return s + \"!\";\n}\n")
    assert run(tmp_path, "scripts/main.dg", 'return standalone.shout("a");\n',
               engine=runtime.Runtime(code_cache=str(cache))).value == "a!"


def test_sluice_toml_and_app_folders(tmp_path):
    write(tmp_path, {"sluice.toml": 'app = ["functions"]\n',
                     "functions/Util/lib.dg": "int seven()\n{\n    return 7;\n}\n"})
    result = run(tmp_path, "scripts/main.dg", "return thisapp.Util.seven();\n")
    assert result.value == 7, result.error and result.error.render()
    explicit = run(tmp_path / "elsewhere", "main.dg", "return standalone.seven();\n",
                   folders=[str(tmp_path / "functions")])
    assert explicit.value == 7
    (tmp_path / "sluice.toml").write_text('app = ["nowhere"]\n')
    with pytest.raises(AppError, match="nowhere"):
        app_of(str(tmp_path / "scripts/main.dg"))
    with pytest.raises(AppError, match="no such folder"):
        app_of(None, [str(tmp_path / "missing")])


def test_app_listing_shows_signatures_and_calls(tmp_path):
    write(tmp_path, LIB)
    app = app_of(None, [str(tmp_path)])
    listed = {f.call_name: f for f in app.functions()}
    assert set(listed) == {"standalone.double", "standalone.greet",
                           "thisapp.Logs.addDeveloperLog", "thisapp.http.makeApiRequest"}
    log = listed["thisapp.Logs.addDeveloperLog"]
    assert log.signature() == "string thisapp.Logs.addDeveloperLog(string message)"
    assert [(call, [f.name for f in found]) for call, found in app.calls_of(log)] == \
        [("standalone.double", ["double"])]


def test_a_function_in_a_namespace_folder_reaches_the_folder_above(tmp_path):
    app = tmp_path / "app"
    write(app, LIB)
    result = run(app, "Logs/use.dg", "return standalone.double(4) + thisapp.greet(\"a\", 1);\n")
    assert result.value == "8hi a", result.error and result.error.render()


def test_a_folder_above_without_scripts_of_its_own_is_not_part_of_the_app(tmp_path):
    write(tmp_path, {"other/lib.dg": "int seven()\n{\n    return 7;\n}\n"})
    result = run(tmp_path, "mine/main.dg", "return standalone.seven();\n")
    assert result.error.errors[0].code == "unknown-function"
