"""Published functions called over HTTP on a real `sluice serve`, as Zoho's REST API functions
are called: every way of sending arguments, every refusal, key rotation, the concurrency cap,
a slow call beside fast ones, connections' secrets, and the run history."""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import ROOT, _command
from test_serve import ADMIN, RUNNER, SIGNING, Server, home  # noqa: F401 (the fixture)

ADD = """// two numbers and what was said
int add(int a, int b)
{
    info "adding " + a + " and " + b;
    return a + b;
}

map describe(string name, list tags, bool vip)
{
    return {"name": name, "tags": tags, "count": tags.size(), "vip": vip};
}

string greet(string name)
{
    return "Hello " + name;
}

void nothing()
{
    info "did nothing";
}

list broken(int n)
{
    x = {1, 2};
    info "about to fail";
    return x.get(n);
}
"""

BODY = """info "order " + orderId;
total = 0;
for each line in lines
{
    total = total + line.get("qty") * line.get("price");
}
return {"order": orderId, "total": total};
"""

REQUEST = """map hook(map crmAPIRequest)
{
    params = crmAPIRequest.get("params");
    info "method " + crmAPIRequest.get("method");
    return {"module": params.get("module"), "body": crmAPIRequest.get("body"),
            "agent": crmAPIRequest.get("headers").get("User-Agent"),
            "headers": crmAPIRequest.get("headers").keys()};
}
"""

OWN_ANSWER = """map created(string name)
{
    response = Map();
    response.put("status_code", 201);
    response.put("body", {"created": name});
    response.put("headers", {"X-Made-By": "sluice"});
    return {"crmAPIResponse": response};
}
"""

SLOW = """l = "x".leftPad(400).toList("");
n = 0;
for each a in l { for each b in l { for each c in l { for each d in l { n = n + 1; } } } }
return n;
"""


class Functions:
    """`sluice functions ...` on the server's home, and calls of its URL."""

    def __init__(self, server: Server, folder):
        self.server, self.folder, self.keys = server, folder, {}

    def cli(self, *args):
        return subprocess.run(_command() + ["functions", *map(str, args)], env=self.server.env,
                              capture_output=True, text=True, timeout=60)

    def publish(self, name, source, *options):
        path = self.folder / f"{name}.dg"
        path.write_text(source)
        done = self.cli("publish", name, "--script", path, "--json", *options)
        assert done.returncode == 0, done.stderr
        self.keys[name] = json.loads(done.stdout)["key"]
        return self.keys[name]

    def publish_here(self, name, source, entry=None, **settings):
        """As `publish` does, without starting a process (the fixture publishes many)."""
        from sluice.functions.calls import prepare
        from sluice.functions.store import FunctionStore

        path = self.folder / f"{name}.dg"
        path.write_text(source)
        prepare(source, entry, str(path))
        with FunctionStore.open(self.server.home) as store:
            _, self.keys[name] = store.publish(name, str(path), source, entry=entry,
                                               **settings)

    def url(self, name):
        return f"{self.server.url}/functions/{name}/execute"

    def get(self, name, params=None, key="own", **kw):
        params = dict(params or {})
        if key == "own":
            params["zapikey"] = self.keys[name]
        elif key:
            params["zapikey"] = key
        return requests.get(self.url(name), params=params, timeout=30, **kw)

    def post(self, name, key="own", params=None, **kw):
        params = {"auth_type": "apikey", **(params or {})}
        if key:
            params["zapikey"] = self.keys[name] if key == "own" else key
        return requests.post(self.url(name), params=params, timeout=30, **kw)


@pytest.fixture
def served(home, tmp_path):
    bindings = tmp_path / "events.toml"
    bindings.write_text("")
    server = Server(home, bindings)
    functions = Functions(server, tmp_path)
    functions.publish("add", ADD, "--function", "add")  # through the command line
    for name in ("describe", "greet", "nothing", "broken"):
        functions.publish_here(name, ADD, name)
    functions.publish_here("order", BODY)
    functions.publish_here("hook", REQUEST, "hook")
    functions.publish_here("created", OWN_ANSWER)
    functions.publish_here("slow", SLOW, limits={"statements": 0, "time": 4},
                           concurrency=1)
    server.start()
    yield functions
    server.stop()


def ok(answer, output, output_type, info=()):
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["code"] == "success"
    assert body["message"] == "function executed successfully"
    assert body["details"]["output"] == output
    assert body["details"]["output_type"] == output_type
    assert body["details"]["userMessage"] == list(info)
    assert body["details"]["id"]
    return body


def refused(answer, status, code):
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == code and body["message"], body
    assert set(body) == {"code", "details", "message"}
    return body


def test_every_way_of_sending_arguments(served):
    f = served
    info = ["adding 2 and 3"]
    ok(f.get("add", {"a": "2", "b": "3"}), 5, "number", info)                 # query string
    ok(f.get("add", {"arguments": '{"a": 2, "b": 3}'}), 5, "number", info)    # Zoho's GET
    ok(f.post("add", data={"a": "2", "b": "3"}), 5, "number", info)           # a form
    ok(f.post("add", data={"arguments": '{"a": 2, "b": "3"}'}), 5, "number", info)
    ok(f.post("add", json={"a": 2, "b": 3}), 5, "number", info)               # JSON body
    ok(f.post("add", json={"arguments": {"a": 2, "b": 3}}), 5, "number", info)
    ok(f.post("add", files={"a": (None, "2"), "b": (None, "3")}), 5, "number", info)  # multipart
    ok(f.post("add", key=None, headers={"X-API-Key": f.keys["add"]}, json={"a": 2, "b": 3}),
       5, "number", info)
    ok(f.post("add", key=None, headers={"Authorization": f"Bearer {RUNNER}"},
              json={"a": 2, "b": 3}), 5, "number", info)
    curl = subprocess.run(["curl", "-s", "-X", "POST",
                           f"{f.url('add')}?auth_type=apikey&zapikey={f.keys['add']}",
                           "--data-urlencode", 'arguments={"a": 20, "b": 22}'],
                          capture_output=True, text=True, timeout=30)
    assert json.loads(curl.stdout)["details"]["output"] == 42


def test_outputs_keep_their_types(served):
    f = served
    ok(f.post("describe", json={"name": "Ann", "tags": ["a", "b"], "vip": True}),
       {"name": "Ann", "tags": ["a", "b"], "count": 2, "vip": True}, "map")
    ok(f.get("describe", {"name": "Ann", "tags": '["x"]', "vip": "false"}),
       {"name": "Ann", "tags": ["x"], "count": 1, "vip": False}, "map")
    ok(f.get("greet", {"name": "Ann"}), "Hello Ann", "string")
    ok(f.post("greet", json={"name": 7}), "Hello 7", "string")
    ok(f.get("nothing"), "", "void", ["did nothing"])
    ok(f.post("order", json={"orderId": "o-1", "lines": [{"qty": 2, "price": 5},
                                                         {"qty": 1, "price": 3}]}),
       {"order": "o-1", "total": 13}, "map", ["order o-1"])


def test_zoho_s_path_token_request_and_response_objects(served):
    f = served
    zoho_url = f"{f.server.url}/functions/add/actions/execute"
    answer = requests.get(zoho_url, params={"auth_type": "apikey", "zapikey": f.keys["add"],
                                            "arguments": '{"a": 1, "b": 2}'}, timeout=10)
    ok(answer, 3, "number", ["adding 1 and 2"])
    ok(requests.post(zoho_url, json={"a": 1, "b": 1}, timeout=10,
                     headers={"Authorization": f"Zoho-oauthtoken {RUNNER}"}),
       2, "number", ["adding 1 and 1"])
    answer = f.post("hook", params={"module": "Leads"}, data='{"x": 1}',
                    headers={"Content-Type": "application/json", "User-Agent": "hooky/1",
                             "Authorization": f"Bearer {ADMIN}"})
    body = ok(answer, answer.json()["details"]["output"], "map", ["method POST"])
    output = body["details"]["output"]
    assert output["module"] == "Leads" and output["body"] == '{"x": 1}'
    assert output["agent"] == "hooky/1"
    assert "Authorization" not in output["headers"] and f.keys["hook"] not in answer.text
    answer = f.post("hook", params={"module": "Deals"}, data="id,name\n1,Ann\n",
                    headers={"Content-Type": "text/csv"})  # a body of any kind: its text
    output = ok(answer, answer.json()["details"]["output"], "map", ["method POST"])
    assert output["details"]["output"]["body"] == "id,name\n1,Ann\n"
    answer = f.get("created", {"name": "Ann"})
    assert answer.status_code == 201 and answer.json() == {"created": "Ann"}
    assert answer.headers["X-Made-By"] == "sluice"
    assert answer.headers["Content-Type"].startswith("application/json")


def test_bad_arguments_are_400_and_say_why(served):
    f = served
    body = refused(f.get("add", {"a": "1"}), 400, "INVALID_ARGUMENTS")
    assert body["details"]["missing"] == ["b"] and "missing argument: b" in body["message"]
    body = refused(f.get("add", {"a": "1", "b": "2", "c": "3", "d": "4"}), 400,
                   "INVALID_ARGUMENTS")
    assert body["details"]["unknown"] == ["c", "d"]
    assert "unknown arguments: c, d" in body["message"]
    body = refused(f.get("add", {"a": "one", "b": "2"}), 400, "INVALID_ARGUMENTS")
    assert "argument 'a'" in body["message"] and "whole number" in body["message"]
    refused(f.post("describe", json={"name": "x", "tags": "not a list", "vip": True}), 400,
            "INVALID_ARGUMENTS")
    refused(f.get("describe", {"name": "x", "tags": "[]", "vip": "maybe"}), 400,
            "INVALID_ARGUMENTS")
    refused(f.post("add", data=b"{not json", headers={"Content-Type": "application/json"}),
            400, "INVALID_ARGUMENTS")
    refused(f.post("add", json=[1, 2]), 400, "INVALID_ARGUMENTS")
    refused(f.get("add", {"arguments": "{broken"}), 400, "INVALID_ARGUMENTS")
    refused(f.get("add", {"arguments": "[1]"}), 400, "INVALID_ARGUMENTS")
    refused(f.post("order", json={"orderId": "x"}), 400, "INVALID_ARGUMENTS")


def test_keys_and_names(served):
    f = served
    refused(f.get("add", {"a": 1, "b": 2}, key=None), 401, "AUTHENTICATION_FAILURE")
    answer = f.get("add", {"a": 1, "b": 2}, key="slk_wrong")
    refused(answer, 401, "INVALID_API_KEY")
    assert "WWW-Authenticate" in answer.headers
    refused(f.get("add", {"a": 1, "b": 2}, key=f.keys["greet"]), 403, "NO_PERMISSION")
    refused(f.post("add", key=None, headers={"Authorization": "Bearer nope"}), 401,
            "AUTHENTICATION_FAILURE")
    refused(f.post("add", key=None, headers={"Authorization": f"Bearer {ADMIN}"}), 401,
            "AUTHENTICATION_FAILURE")
    refused(f.get("missing", key=f.keys["add"]), 404, "NOT_FOUND")
    refused(f.get("missing", key=None, headers={"Authorization": f"Bearer {RUNNER}"}), 404,
            "NOT_FOUND")
    refused(f.get("missing", key="slk_wrong"), 401, "INVALID_API_KEY")  # no name probing
    assert requests.put(f.url("add"), timeout=5).status_code == 405
    assert requests.head(f.url("add"), params={"zapikey": f.keys["add"], "a": 1, "b": 1},
                         timeout=5).status_code == 405  # a look runs nothing


def test_rotating_a_key_stops_the_old_one_at_once(served):
    f = served
    old = f.keys["add"]
    ok(f.get("add", {"a": 1, "b": 1}), 2, "number", ["adding 1 and 1"])
    done = f.cli("rotate-key", "add")
    assert done.returncode == 0, done.stderr
    new = done.stdout.split("keep it secret): ")[1].strip()
    assert new != old
    refused(f.get("add", {"a": 1, "b": 1}, key=old), 401, "INVALID_API_KEY")
    ok(f.get("add", {"a": 1, "b": 1}, key=new), 2, "number", ["adding 1 and 1"])
    # the store keeps hashes only
    stored = (f.server.home / "functions.db").read_bytes()
    assert new.encode() not in stored and old.encode() not in stored
    assert f.cli("unpublish", "add").returncode == 0
    refused(f.get("add", {"a": 1, "b": 1}, key=new), 401, "INVALID_API_KEY")
    refused(f.get("add", key=None, headers={"Authorization": f"Bearer {RUNNER}"}), 404,
            "NOT_FOUND")


def test_script_errors_and_time_limits(served):
    f = served
    body = refused(f.get("broken", {"n": "5"}), 500, "FUNCTION_ERROR")
    assert body["message"].startswith("Error at line 27:"), body
    assert body["details"]["line"] == 27
    assert body["details"]["userMessage"] == ["about to fail"]
    assert "Traceback" not in json.dumps(body)
    started = time.monotonic()
    body = refused(f.get("slow"), 504, "TIMEOUT")
    assert time.monotonic() - started < 12
    assert "time limit" in body["message"]


def test_a_slow_call_does_not_hold_up_others_and_the_cap_answers_429(served):
    f = served
    with ThreadPoolExecutor(3) as pool:
        slow = [pool.submit(f.get, "slow") for _ in range(3)]
        for _ in range(3):
            ok(f.get("greet", {"name": "B"}), "Hello B", "string")
        assert not all(s.done() for s in slow)  # the fast calls were answered while it ran
        answers = sorted((s.result() for s in slow), key=lambda a: a.status_code)
    assert [a.status_code for a in answers] == [429, 429, 504]
    body = refused(answers[0], 429, "TOO_MANY_REQUESTS")
    assert answers[0].headers["Retry-After"] == "1" and body["details"]["limit"] == 1
    ok(f.get("greet", {"name": "C"}), "Hello C", "string")


def test_connections_are_used_and_their_secrets_never_shown(served, provider, tmp_path):
    f = served
    source = (ROOT / "scripts" / "campaign_summary.dg").read_text()
    f.publish("campaign", source, "--connections", "mailchimp")
    f.publish("campaign_bare", source, "--connections", "")
    answers = [f.post("campaign", json={"campaignId": "c1",
                                        "apiBase": provider.url + "/api/3.0"})]
    ok(answers[0], {"campaign": "c1", "title": "Autumn news", "emails_sent": 1250,
                    "found": True}, "map", ["summary of c1 posted: 201"])
    answers.append(f.post("campaign_bare", json={"campaignId": "c1",
                                                 "apiBase": provider.url + "/api/3.0"}))
    body = refused(answers[1], 500, "FUNCTION_ERROR")
    assert "may not use connection 'mailchimp'" in body["message"]
    runs = subprocess.run(_command() + ["runs", "list", "--json", "--limit", "100"],
                          env=f.server.env, capture_output=True, text=True).stdout
    f.server.stop()
    joined = "\n".join([a.text for a in answers] + [runs] + f.server.logs)
    for secret in provider.all_secrets() | {RUNNER, ADMIN, SIGNING} | set(f.keys.values()):
        assert secret not in joined, secret


def test_each_call_is_a_run_in_the_history(served):
    f = served
    answer = ok(f.get("add", {"a": "4", "b": "5"}), 9, "number", ["adding 4 and 5"])
    failed = refused(f.get("broken", {"n": "9"}), 500, "FUNCTION_ERROR")
    refused(f.get("add", {"a": "4"}), 400, "INVALID_ARGUMENTS")  # never ran: no run
    runs = json.loads(subprocess.run(_command() + ["runs", "list", "--json"], env=f.server.env,
                                     capture_output=True, text=True).stdout)
    assert [r["kind"] for r in runs] == ["function", "function"]
    by_id = {r["id"]: r for r in runs}
    run = by_id[answer["details"]["id"]]
    assert run["event"] == "add" and run["status"] == "done" and run["return"] == 9
    assert run["info"] == ["adding 4 and 5"] and run["duration_ms"] > 0
    run = by_id[failed["details"]["id"]]
    assert run["status"] == "failed" and run["error"].startswith("Error at line 27:")
    shown = requests.get(f"{f.server.url}/runs/{answer['details']['id']}", timeout=5,
                         headers={"Authorization": f"Bearer {RUNNER}"}).json()
    assert shown["kind"] == "function" and shown["return"] == 9


def test_many_clients_at_once(served):
    f = served  # 8 clients, 16 calls at once by default: none is refused

    def call(i):
        answer = f.post("add", json={"a": i, "b": 1})
        return answer.status_code, answer.json()["details"]["output"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(200)))
    assert results == [(200, i + 1) for i in range(200)]


def test_show_gives_the_url_and_a_curl_example(served):
    f = served
    shown = f.cli("show", "add", "--base-url", "https://fn.example.com")
    assert shown.returncode == 0
    assert "https://fn.example.com/functions/add/execute" in shown.stdout
    assert "curl -X POST" in shown.stdout and "zapikey=$KEY" in shown.stdout
    assert "int a, int b" in shown.stdout
    assert f.keys["add"] not in shown.stdout
    listed = json.loads(f.cli("list", "--json").stdout)
    assert {x["name"] for x in listed} >= {"add", "greet", "slow"}
    assert f.cli("publish", "x", "--script", f.folder / "add.dg", "--function",
                 "nope").returncode == 1
    assert f.cli("show", "nope").returncode == 1


REDOS = """bool stuck()
{
    return ("a".leftpad(40).replaceAll(" ", "a") + "!").matches("(a|aa)+$");
}
"""


def test_a_call_stuck_past_its_time_limit_is_killed_and_answered_504(served):
    f = served  # a catastrophic regular expression
    f.publish_here("stuck", REDOS, limits={"time": 1})
    started = time.monotonic()
    body = refused(f.get("stuck"), 504, "TIMEOUT")
    assert time.monotonic() - started < 30
    # stopped by the runtime (the regex engine's timeout) or its worker killed: both are 504
    assert "time limit of 1" in body["message"], body
    ok(f.get("greet", {"name": "D"}), "Hello D", "string")  # a fresh worker took its place
    time.sleep(1)  # a killed call is never run again
    shown = requests.get(f"{f.server.url}/runs/{body['details']['id']}", timeout=5,
                         headers={"Authorization": f"Bearer {RUNNER}"}).json()
    assert shown["status"] == "failed" and shown["attempts"] == 1 and shown["kind"] == "function"
