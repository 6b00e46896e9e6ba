"""Many users of one expired connection refresh it exactly once; a process killed in the middle
of a refresh loses no credential."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from connections import Connections, HttpClient, Store
from connections.store import ConnectionRow

USE_CONNECTION = """
import sys
from connections import Connections, Store
conns = Connections(Store.open(sys.argv[1]))
print(conns.request("crm", "GET", "/me").status_code, flush=True)
"""


def expire_now(conns, link="crm"):
    conns.store.update(link, expires_at=time.time() - 10)


def run_processes(home, count):
    env = dict(os.environ)
    env.pop("SLUICE_SECRET_KEY", None)
    return [subprocess.Popen([sys.executable, "-c", USE_CONNECTION, str(home)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(count)]


@pytest.fixture
def real_time(home, provider):
    """A connection on the real clock (other processes cannot share a fake one)."""
    from connect_helpers import CLIENT_SECRET, authorize, oauth2_service

    conns = Connections(Store.open(home), http=HttpClient(read_timeout=10))
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    authorize(conns, "crm")
    yield conns
    conns.close()


def test_twenty_threads_refresh_once(real_time, provider):
    expire_now(real_time)
    provider.behaviour.token_delay = 0.3
    start = threading.Barrier(20)
    statuses = []

    def use():
        start.wait()
        statuses.append(real_time.request("crm", "GET", "/me").status_code)

    threads = [threading.Thread(target=use) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [200] * 20
    assert provider.counts["refresh_token"] == 1


def test_four_processes_refresh_once(real_time, provider, home):
    expire_now(real_time)
    provider.behaviour.token_delay = 1.5
    processes = run_processes(home, 4)
    outputs = [p.communicate(timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, outputs
    assert [o[0].strip() for o in outputs] == ["200"] * 4
    assert provider.counts["refresh_token"] == 1
    # the one refresh's rotated token is the one stored
    stored = real_time.store.secrets(real_time.store.connection("crm"))["refresh_token"]
    assert provider.live_refresh_tokens() == {stored}


def test_a_process_killed_in_the_middle_of_a_refresh_loses_nothing(real_time, provider, home):
    before = real_time.store.secrets(real_time.store.connection("crm"))
    expire_now(real_time)
    provider.behaviour.gate = threading.Event()
    (victim,) = run_processes(home, 1)
    deadline = time.time() + 20
    while provider.counts["refresh_token"] == 0 and time.time() < deadline:
        time.sleep(0.02)
    assert provider.counts["refresh_token"] == 1  # it is inside the refresh now
    row = real_time.store.connection("crm")
    assert row.lease_owner and row.lease_owner.split(":")[1] == str(victim.pid)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    provider.behaviour.gate_abort = True  # the provider never finished that refresh
    provider.behaviour.gate.set()
    while provider.counts["refresh_aborted"] == 0 and time.time() < deadline:
        time.sleep(0.02)

    assert real_time.store.secrets(real_time.store.connection("crm")) == before
    provider.behaviour.gate, provider.behaviour.gate_abort = None, False
    started = time.monotonic()
    assert real_time.request("crm", "GET", "/me").status_code == 200
    assert time.monotonic() - started < 5  # the dead holder's lease did not have to run out
    assert real_time.get("crm").status == "connected"


def test_a_lease_held_elsewhere_is_waited_for_then_taken_when_it_runs_out(tmp_path, monkeypatch):
    # SQLite's lock between processes; PostgreSQL's is an advisory lock (test_postgres.py)
    monkeypatch.delenv("SLUICE_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    now = [1000.0]
    store = Store.open(home, clock=lambda: now[0])
    store.insert(ConnectionRow(link_name="x", display_name="x", service="stripe",
                               status="connected", created_at=0, updated_at=0), {})
    assert store.take_lease("x", "other-host:1:1", 30) is not None
    assert store.take_lease("x", "this-host:2:2", 30) is None
    now[0] += 31
    assert store.take_lease("x", "this-host:2:2", 30).lease_owner == "this-host:2:2"
    store.release_lease("x", "this-host:2:2")
    assert store.connection("x").lease_owner is None
