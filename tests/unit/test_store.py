"""The store: encrypted secrets, keys (wrong, missing, rotated), schema, transactions. Tests taking
`engine` run on SQLite and on PostgreSQL (tests/conftest.py); the others are SQLite's own."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from connect_helpers import database_bytes
from connections import Connections, SecretKeyError, Store, StoreError
from connections.secrets import KeySource, generate_key
from connections.store import SCHEMA_VERSION, ConnectionRow

SECRETS = {"client_secret": "cs-31415926", "password": "pw-27182818",
           "api_key": "ak-16180339", "access_token": "at-14142135",
           "refresh_token": "rt-17320508"}


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch):
    monkeypatch.delenv("SLUICE_SECRET_KEY", raising=False)


def row(link="crm", service="stripe", status="connected"):
    return ConnectionRow(link_name=link, display_name=link.upper(), service=service,
                         status=status, created_at=1.0, updated_at=1.0)


def execute_directly(home, sql: str) -> None:
    """Change the store behind its back (an attacker, or damage)."""
    url = os.environ.get("SLUICE_DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as db:
            db.execute(sql)
        return
    db = sqlite3.connect(home / "sluice.db")
    db.execute(sql)
    db.commit()
    db.close()


def filled_store(home) -> Store:
    store = Store.open(home)
    store.insert(row(), dict(SECRETS))
    store.save_service({"name": "custom", "auth": "oauth2", "grant": "client_credentials",
                        "token_url": "https://auth.example/token"},
                       {"client_secret": "svc-secret-99"})
    store.update("crm", secrets=dict(SECRETS, access_token="at-newer-5555"), new_tokens=True)
    return store


def test_no_secret_lies_in_the_database_files_in_plain_text(tmp_path, engine):
    home = tmp_path / "home"
    store = filled_store(home)
    data = database_bytes(home)
    assert b"CRM" in data  # the search does see plain columns
    for secret in list(SECRETS.values()) + ["svc-secret-99", "at-newer-5555"]:
        assert secret.encode() not in data, secret
    assert store.secrets(store.connection("crm"))["access_token"] == "at-newer-5555"
    assert store.service_secrets("custom") == {"client_secret": "svc-secret-99"}


def test_the_key_file_is_owner_only_and_a_readable_one_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("SLUICE_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    filled_store(home).close()
    key_file = home / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "sluice.db").stat().st_mode) == 0o600
    os.chmod(key_file, 0o644)
    store = Store.open(home)
    assert "chmod 600" in store.key_problem
    with pytest.raises(SecretKeyError, match="chmod 600"):
        store.secrets(store.connection("crm"))


def test_a_wrong_key_is_a_clear_error_and_listing_still_works(tmp_path, monkeypatch, engine):
    home = tmp_path / "home"
    monkeypatch.setenv("SLUICE_SECRET_KEY", generate_key())
    filled_store(home).close()
    monkeypatch.setenv("SLUICE_SECRET_KEY", generate_key())
    conns = Connections(Store.open(home))
    assert [i.link_name for i in conns.list()] == ["crm"]
    with pytest.raises(SecretKeyError, match="is not the one this store's secrets were "
                                             "encrypted with"):
        conns.request("crm", "GET", "/balance")  # its secrets are needed before any call
    info = conns.get("crm")
    assert info.status == "connected"  # the key of this process is wrong, not the connection
    assert info.last_error is None
    assert not any(s in repr(info) for s in SECRETS.values())


def test_a_missing_key_file_is_not_silently_replaced(tmp_path, engine):
    home = tmp_path / "home"
    filled_store(home).close()
    (home / "secret.key").unlink()
    store = Store.open(home)
    assert "is missing" in store.key_problem
    assert not (home / "secret.key").exists()
    with pytest.raises(SecretKeyError, match="is missing"):
        store.insert(row("x"), {"a": "bbbb"})
    assert store.connection("x") is None


def test_a_passphrase_works_as_a_key(tmp_path, monkeypatch, engine):
    home = tmp_path / "home"
    monkeypatch.setenv("SLUICE_SECRET_KEY", "correct horse battery staple")
    filled_store(home).close()
    store = Store.open(home)
    assert store.secrets(store.connection("crm"))["password"] == "pw-27182818"
    assert not (home / "secret.key").exists()


def test_a_blob_moved_to_another_row_does_not_open(tmp_path, engine):
    home = tmp_path / "home"
    store = filled_store(home)
    store.insert(row("other"), {"api_key": "other-key-0000"})
    execute_directly(home, "UPDATE connections SET secrets = (SELECT secrets FROM connections "
                           "WHERE link_name = 'crm') WHERE link_name = 'other'")
    with pytest.raises(SecretKeyError, match="do not decrypt"):
        store.secrets(store.connection("other"))


def test_rotating_the_key_file_re_encrypts_everything(tmp_path, engine):
    home = tmp_path / "home"
    store = filled_store(home)
    old_key = (home / "secret.key").read_text()
    before = database_bytes(home)
    store.rotate_key()
    assert (home / "secret.key").read_text() != old_key
    assert not (home / "secret.key.new").exists()
    assert stat.S_IMODE((home / "secret.key").stat().st_mode) == 0o600
    store.close()
    reopened = Store.open(home)
    assert reopened.key_problem is None
    assert reopened.secrets(reopened.connection("crm"))["access_token"] == "at-newer-5555"
    assert reopened.service_secrets("custom") == {"client_secret": "svc-secret-99"}
    assert database_bytes(home) != before


def test_a_rotation_cut_off_after_its_commit_finishes_on_the_next_open(tmp_path, monkeypatch, engine):
    home = tmp_path / "home"
    store = filled_store(home)

    def crash():
        raise KeyboardInterrupt  # the process dies between the commit and the file swap

    with monkeypatch.context() as patched:
        patched.setattr(KeySource, "commit_pending", lambda self: crash())
        with pytest.raises(KeyboardInterrupt):
            store.rotate_key()
    assert (home / "secret.key.new").exists()
    reopened = Store.open(home)
    assert reopened.key_problem is None
    assert not (home / "secret.key.new").exists()
    assert reopened.secrets(reopened.connection("crm"))["refresh_token"] == "rt-17320508"


def test_a_rotation_cut_off_before_its_commit_changes_nothing(tmp_path, monkeypatch, engine):
    home = tmp_path / "home"
    store = filled_store(home)
    old_key = (home / "secret.key").read_text()
    ring = store._keyring

    def broken_open(blob, where):
        raise SecretKeyError("simulated failure half way")

    with monkeypatch.context() as patched:
        patched.setattr(ring, "open", broken_open)
        with pytest.raises(SecretKeyError):
            store.rotate_key()
    assert (home / "secret.key").read_text() == old_key
    assert not (home / "secret.key.new").exists()
    assert Store.open(home).secrets(store.connection("crm"))["password"] == "pw-27182818"


def test_rotating_a_key_from_the_environment(tmp_path, monkeypatch, engine):
    home = tmp_path / "home"
    first, second = generate_key(), generate_key()
    monkeypatch.setenv("SLUICE_SECRET_KEY", first)
    store = filled_store(home)
    with pytest.raises(SecretKeyError, match="--new-key-env"):
        store.rotate_key()
    store.rotate_key(second)
    assert Store.open(home).key_problem is not None  # the old key no longer opens anything
    monkeypatch.setenv("SLUICE_SECRET_KEY", second)
    reopened = Store.open(home)
    assert reopened.secrets(reopened.connection("crm"))["api_key"] == "ak-16180339"


def test_discarding_what_a_lost_key_sealed(tmp_path, monkeypatch, engine):
    home = tmp_path / "home"
    monkeypatch.setenv("SLUICE_SECRET_KEY", generate_key())
    filled_store(home).close()
    monkeypatch.setenv("SLUICE_SECRET_KEY", generate_key())
    store = Store.open(home)
    assert sorted(store.discard_unreadable()) == ["crm", "custom"]
    assert store.key_problem is None
    assert store.connection("crm").status == "not connected"
    assert store.secrets(store.connection("crm")) == {}
    store.insert(row("fresh"), {"api_key": "k-2024"})
    assert store.secrets(store.connection("fresh")) == {"api_key": "k-2024"}


def test_schema_version_and_wal(tmp_path, monkeypatch):
    monkeypatch.delenv("SLUICE_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    store = Store.open(home)
    assert store.schema_version() == SCHEMA_VERSION
    assert store._db().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    db = sqlite3.connect(home / "sluice.db")
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer Sluice"):
        Store.open(home)


def test_a_failed_update_changes_nothing(tmp_path, engine):
    home = tmp_path / "home"
    store = filled_store(home)
    before = store.connection("crm")
    with pytest.raises(StoreError, match="nothing was changed"):
        store.update("crm", secrets={"access_token": "half-written"}, status=None)
    assert store.connection("crm") == before


def test_a_full_disk_loses_no_stored_credential(tmp_path, monkeypatch):
    monkeypatch.delenv("SLUICE_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    store = filled_store(home)
    db = store._db()
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")  # the file cannot grow: a full disk
    with pytest.raises(StoreError, match="full"):
        for n in range(200):
            store.insert(row(f"extra{n}"), {"api_key": "x" * 4000})
    with pytest.raises(StoreError, match="full"):
        store.update("crm", secrets=dict(SECRETS, note="y" * 50000))
    assert store.secrets(store.connection("crm"))["access_token"] == "at-newer-5555"


def test_the_default_home(monkeypatch, tmp_path):
    from connections.store import default_home

    monkeypatch.setenv("SLUICE_HOME", str(tmp_path / "h"))
    assert default_home() == tmp_path / "h"
    monkeypatch.delenv("SLUICE_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    if os.name == "posix" and not os.uname().sysname == "Darwin":
        assert default_home() == tmp_path / "data" / "sluice"
