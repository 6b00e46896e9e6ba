"""The run queue's rules for runs whose process died: who may take a `running` run back, how
many tries a run gets, and what an Idempotency-Key returns."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from sluice.events.bindings import Bindings
from sluice.events.queue import IdempotencyConflict, RunStore, _orphaned, worker_name

HOST = socket.gethostname()


@pytest.fixture
def store(tmp_path):
    (tmp_path / "s.dg").write_text("return 1;\n")
    (tmp_path / "events.toml").write_text('[[binding]]\nevent = "e.*"\nscript = "s.dg"\n')
    with RunStore.open(tmp_path / "home") as s:
        s.bindings = Bindings.load(tmp_path / "events.toml").matching("e.x")
        yield s


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_who_may_take_a_running_run_back():
    now = time.time()
    gone, live = dead_pid(), os.getppid()
    assert not _orphaned(worker_name(), now - 100, now)  # this process runs it
    # another server's run, whose worker still lives: never, even with its lease run out
    assert not _orphaned(f"{HOST}:{gone}:{live}", now - 60, now)
    # a live server heartbeating, its worker gone a moment ago: its slot settles it
    assert not _orphaned(f"{HOST}:{live}:{gone}", now + 30, now)
    assert not _orphaned(worker_name(gone), now + 30, now)
    assert _orphaned(worker_name(gone), now - 1, now)  # ... unless it could not
    # a live server that stopped heartbeating, and no worker: yes
    assert _orphaned(f"{HOST}:{live}:{gone}", now - 1, now)
    # server and worker gone: at once, lease or not
    assert _orphaned(f"{HOST}:{gone}:{gone}", now + 30, now)
    # another machine: only the lease tells
    assert not _orphaned(f"elsewhere:{gone}:{gone}", now + 30, now)
    assert _orphaned(f"elsewhere:{live}:{live}", now - 1, now)
    # a lease long past: whatever the pids say (a pid may have been reused)
    assert _orphaned(f"{HOST}:{gone}:{live}", now - 3600, now)


def test_a_run_gets_three_tries_then_fails_with_the_reason(store):
    (run_id,), _ = store.submit("e.x", store.bindings, {})
    for attempt in (1, 2, 3):
        run = store.claim("w", lease=30)
        assert run.id == run_id and run.attempts == attempt
        released = store.release("w", "its worker process was killed by SIGKILL", 3)
        assert released == [(run_id, attempt == 3)]
    run = store.get(run_id)
    assert run.status == "failed" and run.attempts == 3
    assert run.error == ("its worker process was killed by SIGKILL; it ended its worker 3 "
                         "times, so it is not retried")
    assert store.claim("w") is None


def test_a_run_stopped_by_the_server_gets_its_try_back(store):
    (run_id,), _ = store.submit("e.x", store.bindings, {})
    store.claim("w", lease=30)
    assert store.release("someone else", "", 1) == []  # only the holder's runs
    assert store.release("w", "", 1, counted=False) == [(run_id, False)]
    assert store.get(run_id).status == "queued" and store.get(run_id).attempts == 0


def test_recovery_fails_for_good_a_run_whose_processes_died_three_times(store):
    (run_id,), _ = store.submit("e.x", store.bindings, {})
    gone = dead_pid()
    for attempt in (1, 2, 3):
        assert store.claim(f"{HOST}:{gone}:{gone}", lease=30).attempts == attempt
        assert store.recover(3) == 1
    run = store.get(run_id)
    assert run.status == "failed" and "not retried" in run.error


def test_an_idempotency_key_gives_the_first_answer_again(store):
    first, new = store.submit("e.x", store.bindings, {"a": 1}, ("k1", "f1"))
    again, new_again = store.submit("e.x", store.bindings, {"a": 1}, ("k1", "f1"))
    assert new and not new_again and first == again
    assert store.answered("k1", "f1") == first and store.answered("k2", "f1") is None
    with pytest.raises(IdempotencyConflict):
        store.submit("e.x", store.bindings, {"a": 2}, ("k1", "f2"))
    with pytest.raises(IdempotencyConflict):
        store.answered("k1", "f2")
    assert store.counts() == {"queued": 1}
