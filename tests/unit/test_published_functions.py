"""Published functions without a server: the store (hashed keys, rotation), what a function
takes (prepare), binding and converting a caller's arguments, the answer's shape, and the run
history's schema migration that adds the run's kind."""

from __future__ import annotations

import json
import sqlite3

import pytest

from sluice.functions.calls import BadArguments, Outcome, answer, prepare
from sluice.functions.store import FunctionsError, FunctionStore, key_hash

SCRIPT = """info "top";
x = 1;

int add(int a, int b)
{
    return a + b;
}

map pack(string name, list tags, bool vip, decimal rate)
{
    return {"name": name, "tags": tags, "vip": vip, "rate": rate};
}
"""


def test_keys_are_kept_as_hashes_and_rotate_at_once(tmp_path):
    with FunctionStore.open(tmp_path) as store:
        function, key = store.publish("add", "add.dg", SCRIPT, entry="add")
        assert key.startswith("slk_") and len(key) > 40
        assert store.owner_of_key(key) == "add"
        assert store.owner_of_key(key + "x") is None and store.owner_of_key("") is None
        again, no_key = store.publish("add", "add.dg", SCRIPT, entry="add", concurrency=2)
        assert no_key is None and again.concurrency == 2 and store.owner_of_key(key) == "add"
        new = store.rotate_key("add")
        assert store.owner_of_key(key) is None and store.owner_of_key(new) == "add"
        with pytest.raises(FunctionsError):
            store.rotate_key("nope")
        with pytest.raises(FunctionsError):
            store.publish("bad name", "x.dg", SCRIPT)
        store.unpublish("add")
        assert store.get("add") is None and store.owner_of_key(new) is None
    raw = (tmp_path / "functions.db").read_bytes()
    assert new.encode() not in raw and key.encode() not in raw
    assert key_hash(new) != new


def test_a_named_function_runs_with_the_file_lines_kept():
    entry = prepare(SCRIPT, "add", "s.dg")
    assert [p.name for p in entry.params] == ["a", "b"] and not entry.takes_any
    lines = entry.source.split("\n")
    assert lines[0] == "" and lines[1] == ""  # the script's own statements do not run
    assert lines[3] == "int add(int a, int b)"
    assert lines[-2] == "return add(a, b);"
    import runtime

    result = runtime.run(entry.source, entry.bind({"a": "2", "b": 3}))
    assert result.ok and result.value == 5 and result.info == []
    with pytest.raises(FunctionsError, match="no function 'sub'"):
        prepare(SCRIPT, "sub", "s.dg")
    with pytest.raises(FunctionsError):
        prepare("x = ;", None, "s.dg")


def test_a_body_takes_what_it_reads_before_setting():
    entry = prepare('total = 0;\nfor each x in items { total = total + x; }\n'
                    'r = invokeurl [ url: base + "/x" type: GET ];\nreturn total;', None, "b.dg")
    assert [p.name for p in entry.params] == ["items", "base"]
    assert prepare("return input.anything;", None, "i.dg").takes_any
    only = prepare("int f(int n) { return n; }\nint g() { return 1; }", None, "f.dg")
    assert [p.name for p in only.params] == ["n"]


def test_arguments_are_converted_and_checked():
    entry = prepare(SCRIPT, "pack", "s.dg")
    values = entry.bind({"name": 5, "tags": '["a"]', "vip": "TRUE", "rate": "2.5",
                         "zapikey": "k", "auth_type": "apikey"})
    assert values == {"name": "5", "tags": ["a"], "vip": True, "rate": 2.5}
    with pytest.raises(BadArguments) as e:
        entry.bind({"name": "x", "extra": 1})
    assert e.value.details["missing"] == ["tags", "vip", "rate"]
    assert e.value.details["unknown"] == ["extra"]
    for bad in ({"tags": "{}"}, {"vip": "yes"}, {"rate": "x"}, {"tags": "[1"}):
        with pytest.raises(BadArguments, match="argument '"):
            entry.bind({"name": "x", "tags": [], "vip": True, "rate": 1, **bad})
    with pytest.raises(BadArguments, match="whole number"):
        prepare(SCRIPT, "add", "s.dg").bind({"a": True, "b": 1})


def test_answers_have_zoho_s_shape():
    status, body = answer(Outcome("done", {"a": [1]}, ["hi"]), "r1")
    assert status == 200 and body == {
        "code": "success", "details": {"output": {"a": [1]}, "output_type": "map", "id": "r1",
                                       "userMessage": ["hi"]},
        "message": "function executed successfully"}
    assert answer(Outcome("done", "text", []), "r")[1]["details"]["output_type"] == "string"
    status, body = answer(Outcome("failed", None, [], "Error at line 3: boom", 3), "r2")
    assert status == 500 and body["details"]["line"] == 3 and body["message"].endswith("boom")
    assert answer(Outcome("timeout", error="too long"), "r3")[0] == 504


def test_the_run_history_gains_a_kind_column(tmp_path):
    from sluice.events.queue import SCHEMA_VERSION, RunStore

    db = sqlite3.connect(tmp_path / "runs.db")  # a version 1 file, as an older Sluice left it
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
            event TEXT NOT NULL, binding TEXT NOT NULL, script TEXT NOT NULL,
            arguments TEXT NOT NULL, limits TEXT NOT NULL, connections TEXT,
            status TEXT NOT NULL, created_at REAL NOT NULL, started_at REAL, finished_at REAL,
            value TEXT, info TEXT, error TEXT, notes TEXT, statements INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0, worker TEXT, lease_until REAL);
        INSERT INTO runs (id, event, binding, script, arguments, limits, status, created_at)
            VALUES ('old', 'a.b', 'b', 's.dg', '{}', '{}', 'done', 1.0);
    """)
    db.commit()
    db.close()
    with RunStore(tmp_path / "runs.db") as store:
        assert store.get("old").kind == "event"
        run = store.new_call("add", "add.dg", {"a": 1}, {}, None)
        store.submit_call(run)
        assert store.claim("host:1:2", lease=30).id == run.id
        store.finish(run.id, "host:1:2", "done", value=2, info=["hi"], statements=3)
        got = store.get(run.id)
        assert got.kind == "function" and got.value == 2 and got.duration_ms >= 0
        assert [r.id for r in store.list(kind="function")] == [run.id]
        assert store._db().execute("SELECT value FROM meta WHERE key = 'schema_version'"
                                   ).fetchone()[0] == str(SCHEMA_VERSION)
    with RunStore(tmp_path / "runs.db") as store:  # opening again changes nothing
        assert json.loads(json.dumps(store.get(run.id).to_dict()))["kind"] == "function"


def test_the_console_lists_published_functions_read_only(tmp_path):
    from sluice.console import ConsoleContext, console_app

    with FunctionStore.open(tmp_path) as store:
        _, key = store.publish("add", "add.dg", SCRIPT, entry="add", connections=("crm",),
                               limits={"time": 5}, concurrency=2)
    app = console_app(ConsoleContext(home=tmp_path, admin_token="console-token-1",
                                     public_url="https://fn.example.com"))
    client = app.test_client()
    assert client.get("/console/functions").status_code == 302  # signed out: to sign in
    client.post("/console/sign-in", data={"secret": "console-token-1",
                                           "next": "/console/functions"})
    answer = client.get("/console/functions")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page
    assert "https://fn.example.com/functions/add/execute" in page
    assert "curl -X POST" in page and "zapikey=$KEY" in page
    assert "<code>a</code>, <code>b</code>" in page and "at most 2 calls at once" in page
    assert key not in page and "<form" not in page.split("<main", 1)[-1]
    assert client.post("/console/functions").status_code in (400, 405)


def test_a_function_call_whose_worker_died_is_failed_not_retried(tmp_path):
    from sluice.events.queue import RunStore

    with RunStore(tmp_path / "runs.db") as store:
        run = store.new_call("add", "add.dg", {"a": 1}, {"time": 1}, None)
        store.submit_call(run)
        claimed = store.claim("host:1:2", lease=30)
        assert claimed.id == run.id and claimed.kind == "function"
        assert store.release("host:1:2", "its worker was killed", max_attempts=3) == \
            [(run.id, True)]
        got = store.get(run.id)
        assert got.status == "failed" and got.error == "its worker was killed"
        assert store.claim("host:1:3", lease=30) is None  # not queued again
