"""Fixtures for the connection tests: a local provider, a store in a temporary folder, and
helpers that play the user's browser."""

from __future__ import annotations

import threading

import pytest
import requests

from connections import Connections, HttpClient, LoopbackListener, Service, Store
from servers import LocalProvider

CLIENT_ID, CLIENT_SECRET = "sluice-test-client", "client-secret-4f9a1c"


@pytest.fixture
def provider():
    p = LocalProvider()
    p.add_client(CLIENT_ID, CLIENT_SECRET)
    yield p
    p.stop()


class Clock:
    """A clock the test moves by hand (tokens expire without waiting)."""

    def __init__(self):
        import time

        self.now = time.time()

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.delenv("SLUICE_SECRET_KEY", raising=False)
    return tmp_path / "home"


@pytest.fixture
def conns(home, clock):
    c = Connections(Store.open(home, clock=clock), clock=clock,
                    http=HttpClient(read_timeout=5))
    yield c
    c.close()


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


@pytest.fixture
def connected(conns, provider):
    """A connection `crm` to the local provider, authorized."""
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    authorize(conns, "crm")
    return conns


def database_bytes(home) -> bytes:
    """The store as it lies on disk: the database and its WAL."""
    data = b""
    for path in sorted(home.glob("sluice.db*")):
        data += path.read_bytes()
    return data
