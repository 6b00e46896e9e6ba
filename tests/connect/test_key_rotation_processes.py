"""Rotating the key while other processes have the store open: nothing they seal afterwards is
lost, and none of them marks a healthy connection broken because its key went stale."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from connect_helpers import CLIENT_SECRET, ROOT_DIR, authorize, oauth2_service
from connections import Connections, HttpClient, Service, Store

# Process A: opens the store and uses it, waits for the rotation, then creates a connection
# and refreshes a token with what it had open from before.
PROCESS_A = textwrap.dedent("""
    import sys
    from connections import Connections, HttpClient, Store
    conns = Connections(Store.open(sys.argv[1]), http=HttpClient(read_timeout=5))
    conns.list(); conns.get("crm"); conns.auth("crm")   # keys loaded, secrets opened
    print("ready", flush=True)
    sys.stdin.readline()                                # the rotation happens now
    conns.create("made_after", "intranet", username="ops", password="pw-after-rotation-1")
    conns.refresh("crm")
    conns.set_credentials("plain", password="pw-changed-after-2")
    print("done", flush=True)
    conns.close()
""")


def _env(home, **extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT_DIR), SLUICE_HOME=str(home), **extra)
    env.pop("SLUICE_SECRET_KEY", None)
    env.update(extra)
    return env


def _setup(home, provider):
    conns = Connections(Store.open(home), http=HttpClient(read_timeout=5))
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.add_service(Service(name="intranet", auth="basic", api_base_url=provider.url + "/api"))
    conns.create("crm", "local")
    authorize(conns, "crm")
    conns.create("plain", "intranet", username="ops", password="pw-before-0")
    conns.close()


def _every_secret_opens(home) -> dict:
    """Every sealed blob, opened by a process that starts after everything: link -> secrets."""
    with Store.open(home) as store:
        assert store.key_problem is None, store.key_problem
        current = store._read("SELECT value FROM meta WHERE key = 'key_id'")[0][0]
        found = {}
        for row in store.connections():
            assert row.sealed[2:10].hex() == current, row.link_name  # sealed with the new key
            found[row.link_name] = store.secrets(row)
        assert store.service_secrets("local") == {"client_secret": CLIENT_SECRET}
        return found


def test_a_process_that_had_the_store_open_seals_with_the_new_key(tmp_path, provider, engine):
    home = tmp_path / "home"
    _setup(home, provider)
    a = subprocess.Popen([sys.executable, "-c", PROCESS_A, str(home)], env=_env(home),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        assert a.stdout.readline().strip() == "ready", a.stderr.read()
        rotated = subprocess.run([sys.executable, "-m", "sluice", "connections", "rotate-key"],
                                 env=_env(home), capture_output=True, text=True, timeout=60)
        assert rotated.returncode == 0, rotated.stderr
        a.stdin.write("go\n")
        a.stdin.flush()
        out, errors = a.communicate(timeout=60)
    finally:
        if a.poll() is None:
            a.kill()
    assert a.returncode == 0, errors
    assert "done" in out
    found = _every_secret_opens(home)
    assert found["made_after"]["password"] == "pw-after-rotation-1"
    assert found["plain"]["password"] == "pw-changed-after-2"
    assert found["crm"]["access_token"] in provider.tokens  # the refreshed one
    with Store.open(home) as store:
        assert {r.link_name: r.status for r in store.connections()} == {
            "crm": "connected", "made_after": "connected", "plain": "connected"}


def test_two_rotations_while_a_process_sleeps(tmp_path, provider, engine):
    home = tmp_path / "home"
    _setup(home, provider)
    a = subprocess.Popen([sys.executable, "-c", PROCESS_A, str(home)], env=_env(home),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        assert a.stdout.readline().strip() == "ready", a.stderr.read()
        for _ in range(2):
            with Store.open(home) as store:
                store.rotate_key()
        a.stdin.write("go\n")
        a.stdin.flush()
        out, errors = a.communicate(timeout=60)
    finally:
        if a.poll() is None:
            a.kill()
    assert a.returncode == 0, errors
    assert _every_secret_opens(home)["made_after"]["password"] == "pw-after-rotation-1"


def test_a_process_on_the_old_environment_key_refuses_to_seal_and_breaks_nothing(
        tmp_path, provider, monkeypatch, engine):
    from connections import SecretKeyError
    from connections.secrets import generate_key

    home = tmp_path / "home"
    first, second = generate_key(), generate_key()
    monkeypatch.setenv("SLUICE_SECRET_KEY", first)
    _setup(home, provider)
    stale = Connections(Store.open(home), http=HttpClient(read_timeout=5))
    stale.get("crm")
    with Store.open(home) as store:
        store.rotate_key(second)
    try:
        stale.create("made_after", "intranet", username="ops", password="pw-lost-3")
        raised = None
    except SecretKeyError as e:
        raised = str(e)
    assert raised and "SLUICE_SECRET_KEY" in raised
    try:
        stale.refresh("crm")
    except SecretKeyError:
        pass
    stale.close()
    monkeypatch.setenv("SLUICE_SECRET_KEY", second)
    with Store.open(home) as store:
        assert store.connection("made_after") is None  # refused, not sealed with a lost key
        assert store.connection("crm").status == "connected"
        assert store.connection("crm").last_error is None
        assert store.secrets(store.connection("crm"))["refresh_token"]


def test_opening_the_store_in_the_middle_of_a_rotation_keeps_its_new_key(tmp_path, engine):
    from connections.secrets import KeySource, generate_key

    home = tmp_path / "home"
    with Store.open(home) as store:
        store.save_setting("smtp", {"host": "mail"}, {"password": "smtp-pass-11"})
    KeySource(home).write_pending(generate_key())  # a rotation, before its transaction commits
    Store.open(home).close()  # another process opens the store just then
    assert (home / "secret.key.new").exists()
    assert (home / "secret.key.old").read_text() == (home / "secret.key").read_text()


WRITER = textwrap.dedent("""
    import os, sys
    from connections import Connections, Store
    conns = Connections(Store.open(sys.argv[1]))
    i = 0
    while not os.path.exists(sys.argv[2]):
        i += 1
        conns.set_credentials("plain", password=f"pw-written-{i}")
        print(i, flush=True)
    conns.close()
""")


def test_rotations_killed_at_any_moment_while_another_process_writes(tmp_path, provider, engine):
    import random
    import signal
    import time

    home = tmp_path / "home"
    _setup(home, provider)
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(home), str(stop)],
                              env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    rng = random.Random(7)
    killed = 0
    try:
        span = None  # how long a whole rotation takes here: the first one runs to its end
        for _ in range(8):
            started = time.monotonic()
            rotation = subprocess.Popen(
                [sys.executable, "-m", "sluice", "connections", "rotate-key"], env=_env(home),
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if span is not None:
                time.sleep(rng.uniform(0.5, 1.05) * span)  # kills land anywhere in it
                if rotation.poll() is None:
                    rotation.send_signal(signal.SIGKILL)
            rotation.wait(60)
            if span is None:
                span = time.monotonic() - started
            killed += rotation.returncode == -signal.SIGKILL
            assert rotation.returncode in (0, -signal.SIGKILL), rotation.stderr.read()
        stop.touch()
        out, errors = writer.communicate(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == 0, errors
    last = int(out.split()[-1])
    found = _every_secret_opens(home)
    assert found["plain"]["password"] == f"pw-written-{last}"
    assert found["crm"]["refresh_token"]
    assert killed >= 1
