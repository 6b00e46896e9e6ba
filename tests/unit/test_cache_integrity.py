"""The code cache and the parse tables on disk are loaded only when they are the user's own,
private and unchanged (HMAC under a per-user key): a planted file is ignored and made again,
never run."""

from __future__ import annotations

import marshal
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import runtime
from runtime.code import Compiled, _Tagged

ROOT = Path(__file__).resolve().parents[2]
SOURCE = 'x = 6 * 7;\ninfo x;\nreturn x;'
OTHER = 'info "other";\nreturn 1;'


def _planted_code():
    """Code that, if ever run, leaves a mark on a class the runtime owns."""
    return compile("_Tagged.planted = True\ndef __run__(*a, **k):\n    return 13\n",
                   "<deluge planted>", "exec")


@pytest.fixture(autouse=True)
def clean_mark():
    yield
    if hasattr(_Tagged, "planted"):
        del _Tagged.planted


def _fresh_run(folder, source=SOURCE):
    return runtime.Runtime(code_cache=str(folder)).run(source, filename="s.dg")


def test_the_cache_folder_key_and_files_are_owner_only(tmp_path):
    folder = tmp_path / "cache"
    assert _fresh_run(folder).value == 42
    (path,) = (folder / "code").glob("*.bin")
    for each in (folder, folder / "code"):
        assert stat.S_IMODE(each.stat().st_mode) == 0o700
    for each in (path, folder / ".cache-key"):
        assert stat.S_IMODE(each.stat().st_mode) == 0o600
    assert _fresh_run(folder).value == 42  # and the cached code is used again


def test_a_planted_code_file_is_ignored_and_recompiled(tmp_path):
    folder = tmp_path / "cache"
    path = Compiled.cache_path(str(folder), SOURCE, "s.dg")
    os.makedirs(os.path.dirname(path), mode=0o700)
    with open(path, "wb") as f:
        marshal.dump((_planted_code(), ()), f)
    os.chmod(path, 0o600)
    result = _fresh_run(folder)
    assert result.value == 42 and result.info == ["42"]
    assert not hasattr(_Tagged, "planted")
    assert marshal.loads(Path(path).read_bytes()[32:])  # written over with a good file


def test_a_changed_byte_and_a_file_moved_from_another_script_are_ignored(tmp_path):
    folder = tmp_path / "cache"
    _fresh_run(folder)
    _fresh_run(folder, OTHER)
    mine = Path(Compiled.cache_path(str(folder), SOURCE, "s.dg"))
    other = Path(Compiled.cache_path(str(folder), OTHER, "s.dg"))
    mine.write_bytes(other.read_bytes())  # a good file, under the wrong name
    assert _fresh_run(folder).value == 42
    data = bytearray(mine.read_bytes())
    data[-5] ^= 0x01
    mine.write_bytes(bytes(data))
    assert _fresh_run(folder).value == 42


def test_a_file_others_can_write_is_ignored(tmp_path):
    folder = tmp_path / "cache"
    _fresh_run(folder)
    path = Path(Compiled.cache_path(str(folder), SOURCE, "s.dg"))
    good = path.read_bytes()
    # a good file made writable by others: someone could have changed it since
    os.chmod(path, 0o666)
    assert Compiled.load(str(folder), SOURCE, "s.dg") is None
    os.chmod(path, 0o600)
    assert Compiled.load(str(folder), SOURCE, "s.dg") is not None
    os.chmod(folder, 0o777)  # the folder open to others
    assert Compiled.load(str(folder), SOURCE, "s.dg") is None
    os.chmod(folder, 0o700)
    if os.getuid() == 0:  # only root can give a file away
        os.chown(path, 4242, 4242)
        assert Compiled.load(str(folder), SOURCE, "s.dg") is None
        os.chown(path, 0, 0)
    path.unlink()
    os.symlink(tmp_path / "elsewhere", path)
    (tmp_path / "elsewhere").write_bytes(good)
    assert Compiled.load(str(folder), SOURCE, "s.dg") is None  # not through a link


def _parse_in_a_new_process(cache: Path) -> str:
    env = dict(os.environ, SLUICE_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    code = ("import dsl, builtins; dsl.parse('x = 1;'); "
            "print(getattr(builtins, 'planted_by_pickle', False))")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=True).stdout.strip()


class _Planted:
    def __reduce__(self):
        return (exec, ("import builtins; builtins.planted_by_pickle = True",))


def test_planted_parse_tables_are_never_unpickled(tmp_path):
    cache = tmp_path / "cache"
    assert _parse_in_a_new_process(cache) == "False"
    (path,) = cache.glob("deluge-tables-*.pickle")
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_bytes(pickle.dumps(_Planted()))
    assert _parse_in_a_new_process(cache) == "False"
    assert pickle.loads(path.read_bytes()[32:])["format"]  # rebuilt, good again


def test_a_folder_open_to_others_is_neither_used_nor_changed(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp
    assert _fresh_run(shared).value == 42
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert not list(shared.rglob("*.bin")) and not (shared / ".cache-key").exists()
