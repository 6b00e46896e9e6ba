"""The store on PostgreSQL: one refresh across processes waiting on the database's lock, the
schema (one definition, both engines, newer ones refused), `sluice db upgrade|copy`,
`sluice doctor`, and no secret in plain text in any table."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from connect_helpers import (CLIENT_SECRET, ROOT_DIR, authorize, oauth2_service,
                             postgres_bytes)
from connections import Connections, HttpClient, Service, Store, StoreError

USE_CONNECTION = """
import sys
from connections import Connections, HttpClient, Store
conns = Connections(Store.open(sys.argv[1]), http=HttpClient(read_timeout=20))
print(type(conns.store).__name__, conns.request("crm", "GET", "/me").status_code, flush=True)
"""


def _env(home, **extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT_DIR), SLUICE_HOME=str(home))
    env.pop("SLUICE_SECRET_KEY", None)
    env.update(extra)
    return env


def _cli(home, *args, **env):
    return subprocess.run([sys.executable, "-m", "sluice", *args], env=_env(home, **env),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def pg(pg_url, monkeypatch):
    monkeypatch.setenv("SLUICE_DATABASE_URL", pg_url)
    monkeypatch.delenv("SLUICE_SECRET_KEY", raising=False)
    return pg_url


def _setup(home, provider) -> Connections:
    conns = Connections(Store.open(home), http=HttpClient(read_timeout=20))
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    authorize(conns, "crm")
    conns.add_service(Service(name="intranet", auth="basic", api_base_url=provider.url + "/api"))
    conns.create("plain", "intranet", username="ops", password="pw-plain-8642")
    return conns


def test_two_processes_make_one_refresh_and_the_other_waits_on_the_database(
        pg, tmp_path, provider):
    home = tmp_path / "home"
    conns = _setup(home, provider)
    assert type(conns.store).__name__ == "PostgresStore"
    conns.store.update("crm", expires_at=time.time() - 10)
    before = provider.counts["refresh_token"]
    provider.behaviour.gate = threading.Event()  # the first refresh is held at the provider
    processes = [subprocess.Popen([sys.executable, "-c", USE_CONNECTION, str(home)],
                                  env=_env(home), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        deadline = time.time() + 30
        waiting = []
        with psycopg.connect(pg, autocommit=True) as watch:
            while time.time() < deadline and not (
                    provider.counts["refresh_token"] > before and waiting):
                waiting = watch.execute(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
                    "wait_event = 'advisory' AND query LIKE '%pg_advisory_lock%'").fetchall()
                time.sleep(0.05)
        # one process is inside the refresh; the other waits on the database's lock
        assert provider.counts["refresh_token"] == before + 1
        assert len(waiting) == 1
        provider.behaviour.gate.set()
        outputs = [p.communicate(timeout=60) for p in processes]
    finally:
        provider.behaviour.gate.set()
        for p in processes:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert [o[0].split() for o in outputs] == [["PostgresStore", "200"]] * 2
    assert provider.counts["refresh_token"] == before + 1
    stored = conns.store.secrets(conns.store.connection("crm"))["refresh_token"]
    assert provider.live_refresh_tokens() == {stored}
    conns.close()


def test_no_secret_in_plain_text_in_any_table(pg, tmp_path, provider):
    home = tmp_path / "home"
    conns = _setup(home, provider)
    conns.refresh("crm")
    secrets = conns.store.secrets(conns.store.connection("crm"))
    conns.store.save_setting("mail", {"host": "smtp.example"}, {"password": "smtp-pw-97531"})
    data = postgres_bytes(pg)
    assert b"smtp.example" in data and b"intranet" in data  # plain columns are seen
    for value in [secrets["access_token"], secrets["refresh_token"], CLIENT_SECRET,
                  "pw-plain-8642", "smtp-pw-97531"]:
        assert value.encode() not in data, value
    conns.close()


def test_one_schema_for_both_engines(pg, tmp_path):
    """The Alembic-migrated database, the SQLite DDL and schema.py describe the same tables."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine, inspect

    from connections.pgstore import sqlalchemy_url
    from connections.schema import metadata

    Store.open(tmp_path / "home").close()
    engine = create_engine(sqlalchemy_url(pg))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, metadata) == []
            pg_columns = {t: [(c["name"], c["nullable"]) for c in inspect(connection).get_columns(t)]
                          for t in metadata.tables}
    finally:
        engine.dispose()
    os.environ.pop("SLUICE_DATABASE_URL")
    try:
        Store.open(tmp_path / "embedded").close()
    finally:
        os.environ["SLUICE_DATABASE_URL"] = pg
    db = sqlite3.connect(tmp_path / "embedded" / "sluice.db")
    affinity = {"TEXT": "Text", "BLOB": "LargeBinary", "REAL": "Float", "INTEGER": "Integer"}
    for name, table in metadata.tables.items():
        info = db.execute(f"PRAGMA table_info({name})").fetchall()
        sqlite_columns = [(c[1], affinity[c[2]], not c[3] and not c[5]) for c in info]
        wanted = [(c.name, type(c.type).__name__, c.nullable) for c in table.columns]
        assert sqlite_columns == wanted, name
        assert [(n, nullable) for n, _, nullable in wanted] == pg_columns[name], name
    db.close()


def test_a_database_newer_than_the_code_is_refused(pg, tmp_path):
    home = tmp_path / "home"
    Store.open(home).close()
    with psycopg.connect(pg, autocommit=True) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema 99, newer than this Sluice knows"):
        Store.open(home)
    done = _cli(home, "db", "upgrade")
    assert done.returncode == 1
    assert "schema 99, newer than this Sluice knows (2): upgrade Sluice" in done.stderr
    assert "Traceback" not in done.stderr
    doctor = _cli(home, "doctor")
    assert doctor.returncode == 1 and "[FAIL] schema 99 is newer" in doctor.stdout


def test_db_upgrade_migrates_an_empty_database_once(pg, tmp_path):
    home = tmp_path / "home"
    first = _cli(home, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "schema 0 -> 2" in first.stdout
    again = _cli(home, "db", "upgrade")
    assert "schema 2, up to date" in again.stdout
    with psycopg.connect(pg, autocommit=True) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [("0002",)]


def test_servers_starting_together_migrate_once(pg, tmp_path):
    errors = []

    def open_store():
        try:
            Store.open(tmp_path / "home").close()
        except Exception as e:  # noqa: BLE001 - the test reports it
            errors.append(e)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with psycopg.connect(pg, autocommit=True) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == \
            [("2",)]


def test_doctor_names_the_mode_and_checks_the_database_and_the_broker(pg, tmp_path):
    home = tmp_path / "home"
    Store.open(home).close()
    done = _cli(home, "doctor", SLUICE_BROKER_URL="redis://127.0.0.1:1/0")
    assert "mode: scaled: the connections store is in PostgreSQL" in done.stdout
    assert "[ok] the database answers" in done.stdout
    assert "[ok] schema 2, as this Sluice expects" in done.stdout
    assert "[FAIL] broker redis://127.0.0.1:1/0 does not answer" in done.stdout
    assert done.returncode == 1
    gone = _cli(home, "doctor", SLUICE_DATABASE_URL="postgresql://nobody:pw-hidden@127.0.0.1:1/x")
    assert gone.returncode == 1
    assert "[FAIL] the database postgresql://nobody:***@127.0.0.1:1/x does not answer" in \
        gone.stdout
    assert "pw-hidden" not in gone.stdout + gone.stderr
    embedded = _cli(home, "doctor", SLUICE_DATABASE_URL="")
    assert "mode: embedded: the connections store is the SQLite file" in embedded.stdout


def test_db_copy_to_postgresql_and_back_keeps_every_connection_usable(
        pg_url, tmp_path, provider, monkeypatch):
    monkeypatch.delenv("SLUICE_DATABASE_URL", raising=False)
    monkeypatch.delenv("SLUICE_SECRET_KEY", raising=False)
    home = tmp_path / "home"
    conns = _setup(home, provider)
    conns.store.save_setting("mail", {"host": "smtp.example"}, {"password": "smtp-pw-97531"})
    conns.close()

    to_pg = _cli(home, "db", "copy", "--to", pg_url, SLUICE_DATABASE_URL="")
    assert to_pg.returncode == 0, to_pg.stderr
    assert "copied 2 connection(s), 2 custom service(s) and 1 setting(s)" in to_pg.stdout
    again = _cli(home, "db", "copy", "--to", pg_url, SLUICE_DATABASE_URL="")
    assert again.returncode == 1 and "copy into an empty store" in again.stderr

    monkeypatch.setenv("SLUICE_DATABASE_URL", pg_url)
    with Connections(Store.open(home), http=HttpClient(read_timeout=20)) as on_pg:
        assert type(on_pg.store).__name__ == "PostgresStore"
        assert on_pg.request("crm", "GET", "/me").status_code == 200
        assert on_pg.auth("plain") is not None
        assert on_pg.store.secrets(on_pg.store.connection("plain"))["password"] == \
            "pw-plain-8642"
        on_pg.refresh("crm")  # a change made in PostgreSQL goes back with the copy
        refreshed = on_pg.store.secrets(on_pg.store.connection("crm"))["refresh_token"]
        assert on_pg.store.setting("mail") == ({"host": "smtp.example"},
                                               {"password": "smtp-pw-97531"})
    assert b"pw-plain-8642" not in postgres_bytes(pg_url)

    back = tmp_path / "back"
    done = _cli(home, "db", "copy", "--to", str(back))
    assert done.returncode == 0, done.stderr
    assert f"the key file went along: {back / 'secret.key'}" in done.stdout
    monkeypatch.delenv("SLUICE_DATABASE_URL")
    with Connections(Store.open(back), http=HttpClient(read_timeout=20)) as embedded:
        assert type(embedded.store).__name__ == "Store"
        assert embedded.store.secrets(embedded.store.connection("crm"))["refresh_token"] == \
            refreshed
        assert embedded.request("crm", "GET", "/me").status_code == 200
        assert embedded.store.secrets(embedded.store.connection("plain"))["password"] == \
            "pw-plain-8642"
        assert embedded.store.setting("mail")[1] == {"password": "smtp-pw-97531"}


def test_the_embedded_mode_imports_no_database_library(tmp_path):
    """`sluice run` and an embedded store start without SQLAlchemy, Alembic or psycopg."""
    script = tmp_path / "hello.dg"
    script.write_text('info "hi";\nreturn 1;\n')
    code = ("import sys\nfrom sluice.cli import main\nfrom connections import Store\n"
            f"code = main(['run', {str(script)!r}])\nStore.open({str(tmp_path / 'h')!r}).close()\n"
            "print(code, sorted({m.split('.')[0] for m in sys.modules} & "
            "{'sqlalchemy', 'alembic', 'psycopg'}))\n")
    env = _env(tmp_path / "h")
    env.pop("SLUICE_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr


def test_a_change_made_by_another_process_is_seen_at_once(pg, tmp_path):
    """Rows kept in memory are dropped when any process writes (LISTEN/NOTIFY)."""
    from connections.store import ConnectionRow

    home = tmp_path / "home"
    here, there = Store.open(home), Store.open(home)
    try:
        here.insert(ConnectionRow(link_name="x", display_name="x", service="stripe",
                                  status="connected", created_at=0, updated_at=0),
                    {"api_key": "k-1"})
        assert here.connection("x").status == "connected"
        assert here.connection("x") is here.connection("x")  # kept: no round trip
        there.update("x", status="revoked", secrets={"api_key": "k-2"})
        deadline = time.time() + 5
        while here.connection("x").status != "revoked" and time.time() < deadline:
            time.sleep(0.001)
        assert here.secrets(here.connection("x")) == {"api_key": "k-2"}
        seen_after = time.time() - (deadline - 5)
        assert seen_after < 0.5, seen_after
        there.delete("x")
        while here.connection("x") is not None and time.time() < deadline:
            time.sleep(0.001)
        assert here.connection("x") is None
    finally:
        here.close()
        there.close()
