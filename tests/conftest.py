import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))  # golden_files, strategies


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Parse tables go to a cache of the test session's own, not the user's."""
    os.environ["SLUICE_CACHE_DIR"] = str(tmp_path_factory.mktemp("sluice-cache"))


@pytest.fixture
def provider():
    """The local OAuth provider and API on a loopback port, with the test app registered."""
    from connect_helpers import CLIENT_ID, CLIENT_SECRET
    from sluice.demo.provider import LocalProvider

    p = LocalProvider()
    p.add_client(CLIENT_ID, CLIENT_SECRET)
    yield p
    p.stop()


# ---------------------------------------------------------------------------- PostgreSQL

PG_SERVER = "PostgreSQL on 127.0.0.1:5432 (database test)"


def _pg_admin():
    """A connection to the test server's database `test`, as postgres or root; None when the
    server does not answer."""
    import psycopg

    for user in ("postgres", "root"):
        try:
            return psycopg.connect(f"postgresql://{user}@127.0.0.1:5432/test", autocommit=True,
                                   connect_timeout=3), user
        except psycopg.OperationalError:
            continue
    return None, None


@pytest.fixture
def pg_url():
    """A PostgreSQL URL whose search path is a schema of this test's own, dropped after it.
    Skips (fails on CI) when the server is absent."""
    import uuid

    admin, user = _pg_admin()
    if admin is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_SERVER} does not answer, and CI must run the PostgreSQL tests")
        pytest.skip(f"{PG_SERVER} does not answer")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield (f"postgresql://{user}@127.0.0.1:5432/test?options=-csearch_path%3D{schema}")
    finally:
        admin.execute("SET lock_timeout = '20s'")  # a store the test left open holds locks
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, monkeypatch):
    """Runs a test once per engine: the embedded SQLite file, and PostgreSQL (its own schema)."""
    if request.param == "sqlite":
        monkeypatch.delenv("SLUICE_DATABASE_URL", raising=False)
        return "sqlite"
    monkeypatch.setenv("SLUICE_DATABASE_URL", request.getfixturevalue("pg_url"))
    return "postgresql"
