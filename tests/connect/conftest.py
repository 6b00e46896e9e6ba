"""Fixtures for the connection tests: a local provider, a store in a temporary folder, and a
connection already authorized."""

from __future__ import annotations

import pytest

from connect_helpers import CLIENT_SECRET, Clock, authorize, oauth2_service
from connections import Connections, HttpClient, Store


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def home(tmp_path, monkeypatch, engine):
    """The home of the store (its key file); with engine postgresql the store itself lives in a
    PostgreSQL schema of the test's own."""
    monkeypatch.delenv("SLUICE_SECRET_KEY", raising=False)
    return tmp_path / "home"


@pytest.fixture
def conns(home, clock):
    c = Connections(Store.open(home, clock=clock), clock=clock,
                    http=HttpClient(read_timeout=5))
    yield c
    c.close()


@pytest.fixture
def connected(conns, provider):
    """A connection `crm` to the local provider, authorized."""
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    authorize(conns, "crm")
    return conns
