"""Helpers for the connection tests: the local provider's service definition, a clock moved by
hand, and a stand-in for the user's browser."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import requests

from connections import LoopbackListener, Service

ROOT_DIR = Path(__file__).resolve().parent.parent
CLIENT_ID, CLIENT_SECRET = "sluice-test-client", "client-secret-4f9a1c"


class Clock:
    """A clock the test moves by hand (tokens expire without waiting)."""

    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def oauth2_service(provider, name="local", **changes) -> Service:
    fields = dict(name=name, auth="oauth2", title="Local provider",
                  authorize_url=provider.url + "/oauth2/authorize",
                  token_url=provider.url + "/oauth2/token",
                  revoke_url=provider.url + "/oauth2/revoke",
                  scopes=("read", "offline_access"), client_auth="basic", client_id=CLIENT_ID,
                  api_base_url=provider.url + "/api", check_url=provider.url + "/api/me")
    fields.update(changes)
    return Service(**fields)


def browse(url: str, results: list) -> threading.Thread:
    """The user's browser: follow the authorization URL to the redirect, in the background."""

    def go():
        try:
            results.append(requests.get(url, timeout=10))
        except requests.RequestException as e:
            results.append(e)

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


def authorize(conns, link, *, timeout=10):
    """Run the whole browser flow for `link` through a loopback listener."""
    listener = LoopbackListener(0)
    authorization = conns.begin_authorization(link, listener.redirect_uri)
    pages: list = []
    thread = browse(authorization.url, pages)
    try:
        return listener.wait(lambda url: conns.finish_authorization(authorization, url),
                             timeout=timeout)
    finally:
        thread.join(10)


def database_bytes(home) -> bytes:
    """The store as it lies on disk: the database and its WAL; with SLUICE_DATABASE_URL set,
    every value of every table of the store's PostgreSQL schema (byte strings as they are)."""
    import os

    if os.environ.get("SLUICE_DATABASE_URL"):
        return postgres_bytes(os.environ["SLUICE_DATABASE_URL"])
    data = b""
    for path in sorted(home.glob("sluice.db*")):
        data += path.read_bytes()
    return data



def postgres_bytes(url: str) -> bytes:
    """Every value of every table in the current schema of `url`, as bytes."""
    import psycopg

    parts = []
    with psycopg.connect(url, autocommit=True) as db:
        tables = [r[0] for r in db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        assert tables, "no table found in the store's schema"
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    parts.append(bytes(value) if isinstance(value, (bytes, memoryview))
                                 else str(value).encode())
    return b"\n".join(parts)
