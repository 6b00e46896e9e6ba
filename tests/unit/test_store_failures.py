"""The store on a disk that fails: read-only, full, a write-ahead log left on a read-only
folder, a damaged page. Each gives a message that says what is wrong and what to do; reading
goes on where it can; `recover` saves what can be read. The file systems are real (a small
tmpfs, remounted read-only), so these tests need root; they are skipped elsewhere."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from connections import Connections, StoreError, Store
from connections.errors import StoreDamaged
from connections.store import recover

ROOT = Path(__file__).resolve().parents[2]


class Tmpfs:
    def __init__(self, base: Path, size: str):
        self.path = base / f"fs-{uuid.uuid4().hex[:8]}"
        self.path.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700",
                               "tmpfs", str(self.path)], capture_output=True)
        if done.returncode:
            pytest.skip("cannot mount a tmpfs here (needs root)")

    def remount(self, mode: str):
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True)

    def unmount(self):
        subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture
def fs(tmp_path):
    made = []

    def make(size="2m"):
        made.append(Tmpfs(tmp_path, size))
        return made[-1]

    yield make
    for each in made:
        each.unmount()


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch):
    monkeypatch.delenv("SLUICE_SECRET_KEY", raising=False)


def fill(home, count=3):
    with Connections(Store.open(home)) as conns:
        for i in range(count):
            conns.create(f"k{i}", "stripe", api_key=f"sk_test_{i:04d}_abcdefgh",
                         display_name=f"key {i} " + "x" * 300)


def fill_up(path: Path) -> None:
    """Write to `path` until the disk is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def cli(home, *args, **env):
    done = subprocess.run([sys.executable, "-m", "sluice", "connections", *args],
                          env=dict(os.environ, SLUICE_HOME=str(home), PYTHONPATH=str(ROOT),
                                   **env),
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


def assert_plain_message(text: str):
    assert "OperationalError" not in text and "DatabaseError" not in text
    assert "internal error" not in text


def test_a_read_only_file_system_still_lists_and_refuses_changes_clearly(fs):
    disk = fs()
    home = disk.path / "home"
    fill(home)
    disk.remount("ro")
    with Connections(Store.open(home)) as conns:
        assert [i.link_name for i in conns.list()] == ["k0", "k1", "k2"]
        assert conns.get("k1").status == "connected"
        with pytest.raises(StoreError) as raised:
            conns.create("k9", "stripe", api_key="sk_test_new_12345")
    message = str(raised.value)
    assert "read-only" in message and "nothing was saved" in message
    assert_plain_message(message)
    listed = cli(home, "list")
    assert listed.returncode == 0 and "k2" in listed.stdout
    made = cli(home, "create", "k9", "--service", "stripe", "--api-key-env", "K",
               K="sk_test_new_12345")
    assert made.returncode == 1 and "read-only" in made.stderr


def test_a_full_disk_says_so_and_reading_goes_on(fs):
    disk = fs("400k")
    home = disk.path / "home"
    fill(home)
    filler = disk.path / "filler"
    fill_up(filler)
    made = cli(home, "create", "k9", "--service", "stripe", "--api-key-env", "K",
               K="sk_test_new_12345")
    assert made.returncode == 1 and "full" in made.stderr, made.stderr
    assert "could not save" not in made.stderr
    listed = cli(home, "list")
    assert listed.returncode == 0 and "k2" in listed.stdout, listed.stderr
    with Store.open(home) as store:  # a full disk while a store is open and writing
        filler.unlink()
        store.connection("k0")
        fill_up(filler)
        with pytest.raises(StoreError, match="full") as raised:
            for i in range(50):
                store.update("k0", display_name="y" * 3000 + str(i))
        assert_plain_message(str(raised.value))
    filler.unlink()
    with Store.open(home) as store:
        assert store.connection("k0").status == "connected"


def test_a_leftover_write_ahead_log_on_a_read_only_folder(fs):
    disk = fs()
    home, copy = disk.path / "home", disk.path / "copy"
    fill(home)
    db = sqlite3.connect(home / "sluice.db", isolation_level=None)
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute("UPDATE connections SET display_name = 'changed'")
    shutil.copytree(home, copy)  # what a process killed here leaves behind
    db.close()
    (copy / "sluice.db-shm").unlink()
    disk.remount("ro")
    with pytest.raises(StoreError) as raised:
        Store.open(copy)
    message = str(raised.value)
    assert "sluice.db-wal" in message and "read-only" in message and "writable" in message
    assert_plain_message(message)
    shown = cli(copy, "list")
    assert shown.returncode == 1 and "sluice.db-wal" in shown.stderr
    disk.remount("rw")
    with Store.open(copy) as store:  # writable again: nothing was lost
        assert {r.display_name for r in store.connections()} == {"changed"}


def _leaf_page_holding(path: Path, needle: bytes) -> int:
    data = path.read_bytes()
    size = int.from_bytes(data[16:18], "big")
    return data.index(needle) // size, size


def test_a_damaged_page_is_named_and_recover_saves_the_rest(tmp_path):
    home = tmp_path / "home"
    fill(home, count=40)
    db = sqlite3.connect(home / "sluice.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    path = home / "sluice.db"
    page, size = _leaf_page_holding(path, b"key 20 ")
    data = bytearray(path.read_bytes())
    data[page * size:page * size + 12] = b"\xff" * 12  # the page's header: unreadable
    path.write_bytes(bytes(data))
    for args in (("list",), ("show", "k20"), ("delete", "k20")):
        done = cli(home, *args)
        assert done.returncode == 1
        assert "damaged" in done.stderr and "sluice connections recover" in done.stderr
        assert "could not save" not in done.stderr or args[0] == "delete"
    with pytest.raises(StoreDamaged):
        Connections(Store.open(home)).list()
    done = cli(home, "recover")
    assert done.returncode == 0, done.stderr
    assert "damaged file is kept" in done.stdout
    result_rows = Store.open(home).connections()
    names = {r.link_name for r in result_rows}
    assert 0 < len(names) < 40 and "k20" not in names
    with Store.open(home) as store:  # the survivors keep their secrets
        assert store.key_problem is None
        for row in result_rows:
            assert store.secrets(row)["api_key"].startswith("sk_test_")
    assert list(home.glob("sluice.db.damaged-*"))
    assert cli(home, "list").returncode == 0
    assert recover(home).lost["connections"] == 0  # a sound store recovers whole


def test_a_read_only_file_is_named(tmp_path):
    home = tmp_path / "home"
    fill(home)
    db = home / "sluice.db"
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        made = cli(home, "create", "k9", "--service", "stripe", "--api-key-env", "K",
                   K="sk_test_new_12345")
        assert made.returncode == 1 and "read-only" in made.stderr, made.stderr
        assert cli(home, "list").returncode == 0
    finally:
        subprocess.run(["chattr", "-i", str(db)])


FILE_SIZE_LIMITED = """
import os, resource, sys
from connections import Connections, Store, StoreError
home = sys.argv[1]
size = os.path.getsize(os.path.join(home, "sluice.db"))
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 8192, size + 8192))
with Connections(Store.open(home)) as conns:
    try:
        for i in range(100, 300):
            conns.create(f"k{i}", "stripe", api_key=f"sk_test_{i:04d}_abcdefgh",
                         display_name="x" * 2000)
    except StoreError as e:
        print("write:", e)
    print("read:", len(conns.list()))
"""


def test_a_file_size_limit_is_named_and_reading_goes_on(tmp_path):
    home = tmp_path / "home"
    fill(home)
    done = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMITED, str(home)],
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    write, read = done.stdout.strip().splitlines()
    assert "largest file" in write and "nothing was saved" in write, write
    assert_plain_message(write)
    assert int(read.split()[-1]) >= 3
