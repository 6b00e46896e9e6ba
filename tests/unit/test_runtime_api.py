"""The runtime as a host program uses it: run(), Runtime, Result, the code cache."""

from __future__ import annotations

import runtime
from runtime import compile as compile_module


def test_run_returns_value_info_and_stats():
    result = runtime.run('info "a"; info 1 + 1; return {"k": [1, 2]};')
    assert result.ok and result.value == {"k": [1, 2]} and result.info == ["a", "2"]
    assert result.statements == 3 and result.duration >= 0
    assert result.to_dict()["return"] == {"k": [1, 2]}


def test_errors_of_every_kind_come_back_in_the_result():
    syntax = runtime.run("x = ;")
    static = runtime.run("x = nosuch();")
    runtime_error = runtime.run("x = 1;\ny = x / 0;")
    limit = runtime.run("for each x in {1,2,3} { y = x; }", limits=runtime.Limits(statements=2))
    assert syntax.error.line == 1 and syntax.error.column == 5
    assert "Unknown function" in static.error.message
    assert runtime_error.error.to_dict() == {"line": 2, "message": "Division by zero"}
    assert runtime_error.error.statement == "y = x / 0;"
    assert limit.error.limit == "statements"


def test_compiled_code_is_cached_in_memory_and_on_disk(tmp_path, monkeypatch):
    source = "x = 2;\nreturn x * 21;"
    first = runtime.Runtime(code_cache=str(tmp_path))
    assert first.run(source).value == 42
    assert list((tmp_path / "code").glob("*.bin"))

    def refuse(*args, **kwargs):
        raise AssertionError("compiled again although the code was cached")

    monkeypatch.setattr(compile_module, "compile_script", refuse)
    second = runtime.Runtime(code_cache=str(tmp_path))  # a new process would do this
    assert second.run(source).value == 42
    assert second.run(source).value == 42  # from memory


def test_a_corrupt_code_cache_is_ignored(tmp_path):
    source = "return 7;"
    runtime.Runtime(code_cache=str(tmp_path)).run(source)
    for path in (tmp_path / "code").glob("*.bin"):
        path.write_bytes(b"garbage")
    assert runtime.Runtime(code_cache=str(tmp_path)).run(source).value == 7


def test_services_tasks_are_called_with_the_run():
    calls = []

    def get_record(run, module, record_id):
        calls.append((module, record_id))
        return {"id": record_id, "module": module}

    services = runtime.Services()
    services.register("zoho.crm.getRecordById", get_record)
    result = runtime.run('r = zoho.crm.getRecordByID("Leads", 5);\nreturn r.get("module");',
                         services=services)
    assert result.value == "Leads" and calls == [("Leads", 5)]


def test_block_tasks_receive_their_entries():
    seen = {}

    def fake_invokeurl(run, entries):
        seen.update(entries)
        return {"ok": True}

    services = runtime.Services({"invokeurl": fake_invokeurl})
    result = runtime.run('r = invokeURL [ url: "https://x" type: POST headers: {"a": "b"} ];\n'
                         'return r;', services=services)
    assert result.value == {"ok": True}
    assert seen == {"url": "https://x", "type": "POST", "headers": {"a": "b"}}


def test_limits_parse_and_validate():
    limits = runtime.Limits.parse(["statements=0", "time=2.5"])
    assert limits.statements == 0 and limits.time == 2.5 and limits.depth == 75
    for bad in (["speed=1"], ["statements"], ["statements=x"]):
        try:
            runtime.Limits.parse(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} accepted")


def test_returned_tells_a_returned_null_from_no_return():
    import runtime

    assert runtime.run("return null;").returned is True
    assert runtime.run("info 1;").returned is False
    assert runtime.run("void f() { info 1; }").returned is False
    assert runtime.run("int f() { return 1; }").value == 1
    nothing = runtime.run("if (true) { return; }")
    assert nothing.returned is False and nothing.value is None
    assert runtime.run("x = 1 / 0;").returned is False


def test_a_missing_argument_of_the_first_function_is_an_error_naming_it():
    import runtime

    result = runtime.run("\nint twice(int n) { return n * 2; }")
    assert isinstance(result.error, runtime.MissingArgument)
    assert result.error.parameter == "n" and result.error.line == 2
    assert result.error.message == "parameter 'n' has no value"
    assert runtime.run("int twice(int n) { return n * 2; }", {"n": 4}).value == 8
    assert runtime.run("string f(string s) { return s; }", {"s": None}).ok  # null is a value


def test_limit_messages_count_in_the_singular_and_the_plural():
    import time

    import runtime
    from runtime.run import RunContext

    for seconds, words in ((1, "1 second"), (2.5, "2.5 seconds")):
        context = RunContext(runtime.Limits(time=seconds), runtime.Services(), {})
        context.deadline = time.monotonic() - 1
        try:
            context.checkpoint(1)
        except runtime.LimitExceeded as e:
            assert e.message == f"Execution took longer than the time limit of {words}"
        else:
            raise AssertionError("no limit")


def test_crm_task_names_registered_without_import_match_the_crm_module():
    # register_standard names the CRM tasks without importing runtime.tasks.crm (start-up);
    # the two tables must agree, function for function
    from runtime.tasks import CRM_TASKS
    from runtime.tasks.crm import TASKS

    assert {name: fn.__name__ for name, fn in TASKS.items()} == CRM_TASKS


def test_a_cached_script_without_tasks_or_builtins_imports_neither(tmp_path):
    # start-up: code from the cache needs no compiler, no method tables, no task modules
    import subprocess
    import sys

    code = ("import sys, runtime; r = runtime.Runtime(code_cache=sys.argv[1]).run("
            "'x = 1; info x + 1;', services=runtime.Services.standard()); "
            "assert r.info == ['2'], r; print(sorted(m for m in sys.modules if m.startswith(("
            "'runtime.methods', 'runtime.tasks.', 'runtime.compile', 'dsl.', 'hashlib')) "
            "and m != 'dsl.cachefiles'))")
    for _ in range(2):  # the first compiles and stores, the second loads
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                             text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cache_file_mac_is_hmac_sha256():
    # dsl.cachefiles computes HMAC-SHA256 over the interpreter's own SHA-256 (start-up); it
    # must be the standard one, for every key length
    import hashlib
    import hmac
    import os

    from dsl import cachefiles

    for key_size in (0, 1, 32, 64, 65, 200):
        key = os.urandom(key_size)
        for data in (b"", b"x", os.urandom(1000)):
            expected = hmac.new(key, b"f.bin\0" + data, hashlib.sha256).digest()
            assert cachefiles._mac(key, "/some/folder/f.bin", data) == expected
    assert cachefiles._same(b"abc", b"abc") and not cachefiles._same(b"abc", b"abd")
    assert not cachefiles._same(b"abc", b"ab")
