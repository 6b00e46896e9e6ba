"""`sluice serve` under hostile runs and faults: scripts run in worker processes the server can
kill, a run that keeps killing its worker is failed for good, a restart leaves live runs alone,
retried events with an Idempotency-Key create nothing twice, and SIGTERM always stops it.

Faults are real: a catastrophic regular expression, a worker stopped with SIGSTOP (a hung
process) or killed with SIGKILL (a crash), a server killed with kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest
import requests

from conftest import _command
from test_serve import RUNNER, Server

QUICK = 'return {"echo": tag};\n'
# seven nested loops over ten digits: ten million statements, seconds of pure computation
# a hundred million statements: far past any time limit these tests set, however fast a run is
LOOP = ('digits = "0123456789".toList("");\nn = 0;\n'
        'for each a in digits { for each b in digits { for each c in digits { '
        'for each d in digits { for each e in digits { for each f in digits { '
        'for each g in digits { for each h in digits { n = n + 1; } } } } } } } }\n'
        'return n;\n')
# (a+)+$ is the example, but the regex package sees through it; (a|aa)+$ it cannot
REDOS = 'return ("a".leftpad(40).replaceAll(" ", "a") + "!").matches("(a|aa)+$");\n'
# a million statements: long enough to be caught running, short enough to finish
SHORT = ('digits = "0123456789".toList("");\nn = 0;\n'
         'for each a in digits { for each b in digits { for each c in digits { '
         'for each d in digits { for each e in digits { for each f in digits { n = n + 1; } } } '
         '} } }\nreturn n;\n')


class Serve(Server):
    """A `sluice serve` with extra command-line options; stop() never hangs the test."""

    def __init__(self, home, bindings, *options, extra_env=None):
        super().__init__(home, bindings, extra_env=extra_env)
        self.options = [str(o) for o in options]

    def start(self):
        self.process = subprocess.Popen(
            _command() + ["serve", "--port", str(self.port), "--bindings", str(self.bindings),
                          *self.options],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert "listening on" in line, (line, self.process.stderr.read())
        import threading

        self._drain = threading.Thread(target=self._read_logs, daemon=True)
        self._drain.start()
        return self

    def stop(self, sig=signal.SIGTERM, wait=30):
        if self.process and self.process.poll() is None:
            for child in children(self.process.pid):
                os.kill(child, signal.SIGCONT)
            self.process.send_signal(sig)
            try:
                self.process.wait(wait)
            except subprocess.TimeoutExpired:
                self.kill_all()
                raise
        self._drain.join(5)
        return self.process.returncode

    def kill_all(self):
        for child in children(self.process.pid):
            os.kill(child, signal.SIGKILL)
        self.process.kill()
        self.process.wait(10)

    def health(self, timeout=1.0):
        return requests.get(self.url + "/health", timeout=timeout).json()

    def run_until(self, run_id, done, timeout=30.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            run = self.run(run_id, wait=False)
            if done(run):
                return run
            time.sleep(0.05)
        raise AssertionError(f"run {run_id} still {self.run(run_id, wait=False)}")


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def bindings_for(tmp_path, **scripts_and_limits) -> object:
    """One binding per keyword: event `<name>.x` runs `<name>.dg` with the given limits."""
    lines = []
    for name, (source, limits) in scripts_and_limits.items():
        (tmp_path / f"{name}.dg").write_text(source)
        limit_text = ", ".join(f"{k} = {v}" for k, v in limits.items())
        lines.append(f'[[binding]]\nevent = "{name}.*"\nscript = "{name}.dg"\n'
                     f"connections = []\nlimits = {{ {limit_text} }}\n")
    path = tmp_path / "events.toml"
    path.write_text("\n".join(lines))
    return path


def owner(home, run_id) -> tuple[str | None, int | None]:
    """The run's status and the pid of the worker process holding it (from the queue's lease)."""
    db = sqlite3.connect(home / "runs.db")
    row = db.execute("SELECT status, worker FROM runs WHERE id = ?", (run_id,)).fetchone()
    db.close()
    if row is None or not row[1]:
        return (row[0] if row else None), None
    return row[0], int(row[1].split(":")[2])


def wait_for_owner(home, run_id, timeout=20.0, not_pid=None) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, pid = owner(home, run_id)
        if status == "running" and pid and pid != not_pid:
            return pid
        time.sleep(0.02)
    raise AssertionError(f"run {run_id} was not taken by a worker: {owner(home, run_id)}")


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


def test_a_catastrophic_regex_does_not_freeze_the_server(tmp_path, home):
    bindings = bindings_for(tmp_path, redos=(REDOS, {"time": 1}), quick=(QUICK, {}),
                            loop=(LOOP, {"statements": 0, "time": 2}))
    server = Serve(home, bindings, "--workers", 2, "--max-attempts", 2).start()
    try:
        redos = server.post("redos.x", {}).json()["runs"][0]
        loop = server.post("loop.x", {}).json()["runs"][0]
        wait_for_owner(home, redos)
        started = time.time()
        while time.time() - started < 3:  # both workers busy: the server still answers at once
            assert server.health(timeout=1.0)["status"] == "ok"
            time.sleep(0.1)
        quick = server.post("quick.x", {"tag": "still here"}, ).json()["runs"][0]
        assert server.run_until(quick, lambda r: r["status"] == "done",
                                timeout=20)["return"] == {"echo": "still here"}
        failed = server.run_until(redos, lambda r: r["status"] == "failed", timeout=20)
        assert "time limit" in failed["error"], failed
        looped = server.run_until(loop, lambda r: r["status"] == "failed", timeout=20)
        assert "time" in looped["error"], looped
        assert server.health()["running"] == 0
    finally:
        assert server.stop(wait=15) == 0
    assert not any("Traceback" in line for line in server.logs), server.logs


def test_a_hung_worker_is_killed_at_the_time_limit_and_replaced(tmp_path, home):
    bindings = bindings_for(tmp_path, short=(SHORT, {"time": 3, "statements": 0}),
                            quick=(QUICK, {}))
    server = Serve(home, bindings, "--workers", 1).start()
    try:
        run_id = server.post("short.x", {}).json()["runs"][0]
        hung = wait_for_owner(home, run_id)
        os.kill(hung, signal.SIGSTOP)  # a worker that no longer makes progress
        stopped_at = time.time()
        assert server.health()["running"] == 1
        replacement = wait_for_owner(home, run_id, not_pid=hung, timeout=15)
        assert time.time() - stopped_at < 11  # time limit 3 s + the kill's grace + a respawn
        assert not alive(hung)
        run = server.run_until(run_id, lambda r: r["status"] == "done")
        assert run["return"] == 1000000 and run["attempts"] == 2
        quick = server.post("quick.x", {"tag": 1}).json()["runs"][0]
        assert server.run_until(quick, lambda r: r["status"] == "done")["return"] == {"echo": 1}
        assert owner(home, quick)[1] is None and alive(replacement)
    finally:
        assert server.stop(wait=15) == 0


GREEDY = ('s = "a".repeat(1000000);\n'
          'for each i in "0123456789012345678901234567890".toList("") { s = s + s; }\n'
          'return s.length();\n')


def test_a_run_that_needs_too_much_memory_fails_and_its_worker_is_renewed(tmp_path, home):
    bindings = bindings_for(tmp_path, greedy=(GREEDY, {"text_size": 0, "statements": 0}),
                            quick=(QUICK, {}))
    server = Serve(home, bindings, "--workers", 1, "--worker-memory", 300).start()
    try:
        (worker,) = children(server.process.pid)
        with open(f"/proc/{worker}/environ", "rb") as f:
            assert RUNNER.encode() not in f.read()  # the server's tokens stay in the server
        greedy = server.post("greedy.x", {}).json()["runs"][0]
        run = server.run_until(greedy, lambda r: r["status"] == "failed")
        assert "memory" in run["error"].lower() and run["attempts"] == 1, run
        quick = server.post("quick.x", {"tag": 3}).json()["runs"][0]
        assert server.run_until(quick, lambda r: r["status"] == "done")["return"] == {"echo": 3}
        assert not alive(worker)  # it had grown: a fresh worker took its place
        assert server.health()["workers"] == 1
    finally:
        assert server.stop(wait=15) == 0
    assert not any("Traceback" in line for line in server.logs), server.logs


def test_a_run_that_crashes_its_worker_three_times_is_failed_for_good(tmp_path, home):
    bindings = bindings_for(tmp_path, loop=(LOOP, {"statements": 0, "time": 30}),
                            quick=(QUICK, {}))
    server = Serve(home, bindings, "--workers", 1).start()
    try:
        run_id = server.post("loop.x", {}).json()["runs"][0]
        killed = None
        for attempt in (1, 2, 3):
            killed = wait_for_owner(home, run_id, not_pid=killed)
            os.kill(killed, signal.SIGKILL)
        run = server.run_until(run_id, lambda r: r["status"] == "failed")
        assert run["attempts"] == 3
        assert "3 times" in run["error"] and "not retried" in run["error"], run
        quick = server.post("quick.x", {"tag": 2}).json()["runs"][0]
        assert server.run_until(quick, lambda r: r["status"] == "done")["return"] == {"echo": 2}
    finally:
        assert server.stop(wait=15) == 0
    restarted = Serve(home, bindings, "--workers", 1).start()
    try:
        time.sleep(0.5)
        run = restarted.run(run_id, wait=False)
        assert run["status"] == "failed" and run["attempts"] == 3
    finally:
        assert restarted.stop(wait=15) == 0


def test_a_run_left_running_by_a_killed_server_fails_for_good_after_three_tries(tmp_path, home):
    """The poison loop of old: kill -9 during a run, restart, the same run again, forever."""
    bindings = bindings_for(tmp_path, loop=(LOOP, {"statements": 0, "time": 30}))
    run_id = worker = None
    for attempt in (1, 2, 3):
        server = Serve(home, bindings, "--workers", 1).start()
        if run_id is None:
            run_id = server.post("loop.x", {}).json()["runs"][0]
        worker = wait_for_owner(home, run_id, not_pid=worker)
        server.process.kill()
        server.process.wait(10)
        deadline = time.time() + 5
        while alive(worker) and time.time() < deadline:  # the worker dies with its server
            time.sleep(0.05)
        assert not alive(worker)
    server = Serve(home, bindings, "--workers", 1).start()
    try:
        run = server.run_until(run_id, lambda r: r["status"] == "failed", timeout=10)
        assert run["attempts"] == 3 and "not retried" in run["error"]
    finally:
        assert server.stop(wait=15) == 0


def test_sigterm_stops_the_server_within_its_grace_even_when_a_run_hangs(tmp_path, home):
    bindings = bindings_for(tmp_path, short=(SHORT, {"time": 0, "statements": 0}))
    server = Serve(home, bindings, "--workers", 1, "--grace", 2).start()
    run_id = server.post("short.x", {}).json()["runs"][0]
    hung = wait_for_owner(home, run_id)
    os.kill(hung, signal.SIGSTOP)  # no time limit, and it never finishes
    started = time.time()
    server.process.send_signal(signal.SIGTERM)
    try:
        assert server.process.wait(10) == 0
    except subprocess.TimeoutExpired:
        server.kill_all()
        raise AssertionError("SIGTERM did not stop the server")
    assert time.time() - started < 6
    assert not alive(hung)
    assert owner(home, run_id) == ("queued", None)  # for the next start, not counted as a try
    restarted = Serve(home, bindings, "--workers", 1).start()
    try:
        run = restarted.run_until(run_id, lambda r: r["status"] == "done")
        assert run["return"] == 1000000 and run["attempts"] == 1
    finally:
        assert restarted.stop(wait=15) == 0


def test_a_second_server_leaves_alone_the_runs_of_a_live_one_and_takes_over_a_dead_ones(
        tmp_path, home):
    bindings = bindings_for(tmp_path, short=(SHORT, {"time": 30, "statements": 0}))
    first = Serve(home, bindings, "--workers", 1).start()
    second = None
    try:
        run_id = first.post("short.x", {}).json()["runs"][0]
        worker = wait_for_owner(home, run_id)
        os.kill(first.process.pid, signal.SIGSTOP)  # a server that lingers, its worker alive
        os.kill(worker, signal.SIGSTOP)
        second = Serve(home, bindings, "--workers", 1, "--recover-every", 0.5).start()
        time.sleep(2)  # several recovery rounds
        assert owner(home, run_id) == ("running", worker)
        os.kill(worker, signal.SIGCONT)
        os.kill(first.process.pid, signal.SIGCONT)
        run = second.run_until(run_id, lambda r: r["status"] == "done")
        assert run["attempts"] == 1  # it ran once, where it started
        assert first.stop(wait=15) == 0

        run_id = second.post("short.x", {}).json()["runs"][0]
        worker = wait_for_owner(home, run_id)
        os.kill(worker, signal.SIGSTOP)
        third = Serve(home, bindings, "--workers", 1, "--recover-every", 0.5).start()
        try:
            time.sleep(1)
            assert owner(home, run_id) == ("running", worker)
            second.process.kill()  # kill -9: its worker goes with it
            second.process.wait(10)
            run = third.run_until(run_id, lambda r: r["status"] == "done", timeout=20)
            assert run["attempts"] == 2 and run["return"] == 1000000
        finally:
            assert third.stop(wait=15) == 0
    finally:
        for s in (first, second):
            if s is not None and s.process.poll() is None:
                s.kill_all()


def test_an_idempotency_key_makes_a_retry_return_the_same_runs(tmp_path, home):
    from sluice.events.server import sign

    from test_serve import SIGNING

    bindings = bindings_for(tmp_path, quick=(QUICK, {}))
    server = Serve(home, bindings).start()
    try:
        key = {"Idempotency-Key": "order-1234-attempt"}
        first = server.post("quick.x", {"tag": 1}, headers=key)
        again = server.post("quick.x", {"tag": 1}, headers=key)
        assert first.status_code == again.status_code == 202
        assert first.json() == again.json() and len(first.json()["runs"]) == 1
        other = server.post("quick.x", {"tag": 2}, headers=key)
        assert other.status_code == 422 and "Idempotency-Key" in other.json()["error"]
        fresh = server.post("quick.x", {"tag": 1}, headers={"Idempotency-Key": "another"})
        assert fresh.json() != first.json()
        body = json.dumps({"tag": 3}).encode()
        signed = {"X-Sluice-Signature": sign(SIGNING, body), "Idempotency-Key": "signed-1"}
        s1 = server.post("quick.x", body=body, token=None, headers=signed)
        s2 = server.post("quick.x", body=body, token=None, headers=signed)  # a retry
        assert s1.status_code == s2.status_code == 202 and s1.json() == s2.json()
        replay = server.post("quick.x", body=body, token=None,
                             headers={"X-Sluice-Signature": signed["X-Sluice-Signature"]})
        assert replay.status_code == 401  # without the key, the same signature is a replay
        assert server.post("quick.x", {}, headers={"Idempotency-Key": "x" * 300}
                           ).status_code == 400
        runs = requests.get(server.url + "/health", timeout=5).json()
        assert runs["status"] == "ok"
        db = sqlite3.connect(home / "runs.db")
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 3
        db.close()
    finally:
        assert server.stop(wait=15) == 0
    assert RUNNER not in "".join(server.logs)
