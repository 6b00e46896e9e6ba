"""`sluice serve` on loopback: authentication, bad payloads, the seed story as an event, a load
of 2,000 events, a kill -9 in the middle and a restart, graceful shutdown, admin endpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import ROOT, _command
from connect_helpers import CLIENT_SECRET, authorize, oauth2_service
from sluice.events.server import sign
from test_cli_connections import free_port

RUNNER, ADMIN, SIGNING = "runner-token-7f3a9", "admin-token-2c8d1", "signing-secret-5e6b4"
SLOW_SCRIPT = """
n = 0;
for each i in items { n = n + i; }
return {"n": n, "tag": tag};
"""


class Server:
    def __init__(self, home, bindings, extra_env=None):
        self.home, self.bindings, self.port = home, bindings, free_port()
        self.env = dict(os.environ, SLUICE_HOME=str(home), SLUICE_RUNNER_TOKEN=RUNNER,
                        SLUICE_ADMIN_TOKEN=ADMIN, SLUICE_SIGNING_SECRET=SIGNING,
                        **(extra_env or {}))
        self.logs: list[str] = []
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.process = subprocess.Popen(
            _command() + ["serve", "--port", str(self.port), "--bindings", str(self.bindings)],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert "listening on" in line, (line, self.process.stderr.read())
        self.banner = line
        self._drain = threading.Thread(target=self._read_logs, daemon=True)
        self._drain.start()
        return self

    def _read_logs(self):
        for line in self.process.stderr:
            self.logs.append(line)

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(30)
        self._drain.join(5)
        return self.process.returncode

    def post(self, event, payload=None, *, token=RUNNER, body=None, headers=None):
        data = body if body is not None else json.dumps(payload or {}).encode()
        h = {"Content-Type": "application/json", **(headers or {})}
        if token:
            h["Authorization"] = f"Bearer {token}"
        return requests.post(f"{self.url}/events/{event}", data=data, headers=h, timeout=30)

    def run(self, run_id, wait=True):
        deadline = time.time() + 30
        while True:
            r = requests.get(f"{self.url}/runs/{run_id}", timeout=10,
                             headers={"Authorization": f"Bearer {RUNNER}"}).json()
            if not wait or r["status"] in ("done", "failed") or time.time() > deadline:
                return r
            time.sleep(0.05)


@pytest.fixture
def home(tmp_path, provider):
    """A store with the mailchimp connection, authorized against the local provider."""
    from connections import Connections, Store

    home = tmp_path / "home"
    with Connections(Store.open(home)) as conns:
        conns.add_service(oauth2_service(provider, name="mailchimp_local"),
                          client_secret=CLIENT_SECRET)
        conns.create("mailchimp", "mailchimp_local")
        authorize(conns, "mailchimp")
    return home


@pytest.fixture
def server(home):
    s = Server(home, ROOT / "scripts" / "events.toml").start()
    yield s
    s.stop()


def secrets_absent(texts, provider):
    joined = "\n".join(texts)
    for secret in provider.all_secrets() | {RUNNER, ADMIN, SIGNING, CLIENT_SECRET}:
        assert secret not in joined, secret


def test_the_seed_story_as_an_event(server, provider):
    answer = server.post("campaign.sent", {"id": "c1", "api_base": provider.url + "/api/3.0"})
    assert answer.status_code == 202
    (run_id,) = answer.json()["runs"]
    run = server.run(run_id)
    assert run["status"] == "done", run
    assert run["return"] == {"campaign": "c1", "title": "Autumn news", "emails_sent": 1250,
                             "found": True}
    assert run["info"] == ["summary of c1 posted: 201"]
    assert provider.summaries[0]["title"] == "Autumn news"
    health = requests.get(server.url + "/health", timeout=5).json()
    assert health["status"] == "ok"
    server.stop()
    assert any(f"POST /events/campaign.sent 202" in line for line in server.logs)
    secrets_absent(server.logs + [answer.text, json.dumps(run)], provider)


def test_callers_must_prove_who_they_are(server, provider):
    body = json.dumps({"payload": "{}"}).encode()
    refused = server.post("webhook.x", body=body, token=None)
    assert refused.status_code == 401 and "or an X-Sluice-Signature header" in refused.text
    assert server.post("webhook.x", body=body, token="wrong").status_code == 401
    signature = sign(SIGNING, body)
    signed = {SIGNATURE_HEADER: signature}
    assert server.post("webhook.x", body=body, token=None, headers=signed).status_code == 202
    assert server.post("webhook.x", body=body, token=None, headers=signed).status_code == 401
    old = {SIGNATURE_HEADER: sign(SIGNING, body, int(time.time()) - 3600)}
    assert server.post("webhook.x", body=body, token=None, headers=old).status_code == 401
    tampered = {SIGNATURE_HEADER: sign(SIGNING, body + b" ")}
    assert server.post("webhook.x", body=body, token=None, headers=tampered).status_code == 401
    assert requests.get(f"{server.url}/runs/x", timeout=5).status_code == 401
    assert requests.get(f"{server.url}/admin/connections", timeout=5,
                        headers={"Authorization": f"Bearer {RUNNER}"}).status_code == 401
    runs = json.loads(subprocess.run(_command() + ["runs", "list", "--json"], env=server.env,
                                     capture_output=True, text=True).stdout)
    assert len(runs) == 1  # only the one good request ran anything


SIGNATURE_HEADER = "X-Sluice-Signature"


def test_bad_payloads_are_refused(server):
    assert server.post("webhook.x", body=b"{not json").status_code == 400
    assert server.post("webhook.x", body=b"[1, 2]").status_code == 400
    assert server.post("nothing.bound", {}).status_code == 404
    huge = json.dumps({"payload": "x" * (2 * 1024 * 1024)}).encode()
    assert server.post("webhook.x", body=huge).status_code == 413
    assert server.post("bad name!", {}).status_code in (400, 404)
    answer = server.post("webhook.x", {"payload": '{"event": "e", "items": [], '
                                                  '"customer": {"email": "a@b.c"}}'})
    assert server.run(answer.json()["runs"][0])["return"]["customer"] == "a@b.c"


def test_admin_endpoints_need_the_admin_token_and_show_no_secret(server, provider):
    h = {"Authorization": f"Bearer {ADMIN}"}
    listed = requests.get(f"{server.url}/admin/connections", headers=h, timeout=5)
    assert listed.status_code == 200
    assert [c["link_name"] for c in listed.json()["connections"]] == ["mailchimp"]
    created = requests.post(f"{server.url}/admin/connections", headers=h, timeout=5,
                            json={"link": "stripe", "service": "stripe",
                                  "api_key": "sk_test_abcdef123456"})
    assert created.status_code == 201 and created.json()["status"] == "connected"
    shown = requests.get(f"{server.url}/admin/connections/stripe", headers=h, timeout=5)
    assert shown.json()["service"] == "stripe"
    missing = requests.get(f"{server.url}/admin/connections/nope", headers=h, timeout=5)
    assert missing.status_code == 404
    connect = requests.post(f"{server.url}/admin/connections/mailchimp/connect", headers=h,
                            timeout=5).json()
    assert connect["authorization_url"].startswith(provider.url)
    finished = requests.get(connect["authorization_url"], timeout=10)  # the browser
    assert finished.json() == {"link_name": "mailchimp", "status": "connected"}
    revoked = requests.post(f"{server.url}/admin/connections/stripe/revoke", headers=h,
                            timeout=5)
    assert revoked.json()["status"] == "revoked"
    secrets_absent([listed.text, created.text, shown.text, revoked.text] + server.logs,
                   provider)
    assert "sk_test_abcdef123456" not in created.text + shown.text


def slow_bindings(tmp_path):
    script = tmp_path / "slow.dg"
    script.write_text(SLOW_SCRIPT)
    bindings = tmp_path / "events.toml"
    bindings.write_text('[[binding]]\nevent = "load.*"\nscript = "slow.dg"\n'
                        'connections = []\n')
    return bindings


def post_many(server, count, size, threads=8, accepted=None):
    """Post `count` events; the ids of the accepted runs go into `accepted` as they come."""
    accepted, refused = (accepted if accepted is not None else []), []

    def one(n):
        try:
            answer = server.post("load.test", {"items": [1] * size, "tag": n})
        except requests.RequestException:
            refused.append(n)
            return
        if answer.status_code == 202:
            accepted.extend(answer.json()["runs"])
        else:
            refused.append(n)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(count)))
    return accepted, refused


def wait_until_drained(server, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        health = requests.get(server.url + "/health", timeout=5).json()
        if health["queued"] == 0 and health["running"] == 0:
            return
        time.sleep(0.2)
    raise AssertionError("the queue did not drain")


def finished_runs(home):
    import sqlite3

    db = sqlite3.connect(home / "runs.db")
    rows = db.execute("SELECT id, status FROM runs").fetchall()
    db.close()
    return rows


def test_two_thousand_events_none_lost(tmp_path, home):
    server = Server(home, slow_bindings(tmp_path)).start()
    try:
        accepted, refused = post_many(server, 2000, size=10)
        assert refused == [] and len(accepted) == 2000
        wait_until_drained(server)
        rows = finished_runs(home)
        assert len(rows) == 2000 and {s for _, s in rows} == {"done"}
        assert {i for i, _ in rows} == set(accepted)
    finally:
        server.stop()


def test_a_kill_in_the_middle_and_a_restart_finish_every_accepted_event_once(tmp_path, home):
    bindings = slow_bindings(tmp_path)
    server = Server(home, bindings).start()
    accepted: list = []
    loader = threading.Thread(target=post_many, args=(server, 600, 20000),
                              kwargs={"accepted": accepted})
    loader.start()
    deadline = time.time() + 30
    while len(accepted) < 150 and time.time() < deadline:
        time.sleep(0.01)
    server.process.kill()  # kill -9, with runs queued and running
    server.process.wait(10)
    loader.join(60)
    rows = dict(finished_runs(home))
    assert any(s in ("queued", "running") for s in rows.values()), "killed too late to matter"
    restarted = Server(home, bindings)
    restarted.port = server.port
    restarted.start()
    try:
        wait_until_drained(restarted)
        rows = finished_runs(home)
        ids = [i for i, _ in rows]
        assert len(ids) == len(set(ids))
        statuses = dict(rows)
        assert set(accepted) <= set(statuses)
        assert {statuses[i] for i in accepted} == {"done"}
        assert set(statuses.values()) == {"done"}
    finally:
        assert restarted.stop() == 0


def test_sigterm_stops_gracefully(server):
    answer = server.post("webhook.x", {"payload": '{"event": "e", "items": [], '
                                                  '"customer": {"email": "a@b.c"}}'})
    assert answer.status_code == 202
    assert server.stop() == 0
    assert any("stopped" in line for line in server.logs)
