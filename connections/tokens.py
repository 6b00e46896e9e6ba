"""Keeping OAuth 2.0 access tokens fresh: when to refresh, and refreshing each connection once.

A token is due `margin` seconds before it expires, the margin being a tenth of its lifetime and at
most 60 s, so a 30-second token is not refreshed on every call. A token that came with no lifetime
is given DEFAULT_LIFETIME when it can be renewed; one that cannot (no refresh token, not client
credentials) is used until the provider refuses it.

Many threads and processes may use one connection. Threads of a process queue on a lock of the
connection; one thread per process then takes the connection's lease in the store (see
store.py). In a PostgreSQL store the processes, on any host, first queue on the connection's
lock in the database (Store.refresh_lock, an advisory lock: they wait without polling).
Whoever holds the lease re-reads the row first: if someone else renewed the tokens meanwhile,
it uses theirs. Otherwise it refreshes (or, for client credentials, asks anew), and
saves the new tokens — the rotated refresh token among them — in one transaction before anyone
uses them. An answer with no refresh token keeps the stored one.

A refused grant (`invalid_grant`) marks the connection `expired`. Other failures count up and
back off (2 s, 4 s, ... at most 5 min) so a broken provider is not hammered; while the current
access token is still valid it goes on being used.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import AuthFailed, ConnectionExpired, NotConnected, reconnect_hint
from .model import CONNECTED, EXPIRED, Service
from .store import ConnectionRow, Store, lease_holder

if TYPE_CHECKING:
    from .auth import oauth2

MAX_MARGIN = 60.0
MAX_BACKOFF = 300.0
POLL = 0.05


def margin(lifetime: float | None) -> float:
    return MAX_MARGIN if not lifetime else min(lifetime / 10.0, MAX_MARGIN)


def is_due(row: ConnectionRow, now: float) -> bool:
    return row.expires_at is not None and now >= row.expires_at - margin(row.lifetime)


def backoff(failures: int) -> float:
    return min(2.0 ** max(failures, 1), MAX_BACKOFF)


@dataclass(frozen=True)
class Renewal:
    """What a renewal needs to know about the service: given by the facade."""

    service: Service
    endpoints: oauth2.Endpoints
    client: oauth2.ClientCredentials
    scopes: tuple[str, ...]


class TokenKeeper:
    def __init__(self, store: Store, session_factory, *, clock=time.time, sleep=time.sleep,
                 lease_seconds: float = 90.0, wait_seconds: float = 120.0):
        self.store = store
        self.session_factory = session_factory  # the shared requests session, made on demand
        self.clock = clock
        self.sleep = sleep
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _lock(self, link: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(link, threading.Lock())

    def renew(self, link: str, renewal: Renewal, *, seen_generation: int,
              force: bool = False) -> tuple[ConnectionRow, dict]:
        """Fresh tokens for `link`. Unless `force`, tokens someone renewed after generation
        `seen_generation` are taken as they are; with `force` (after a 401) only tokens newer
        than `seen_generation` are."""
        holder = lease_holder()
        with self._lock(link), self.store.refresh_lock(link, self.wait_seconds):
            row = self._take_lease(link, holder)
            try:
                secrets = self.store.secrets(row)
                now = self.clock()
                newer = row.generation != seen_generation
                if secrets.get("access_token") and newer and not is_due(row, now):
                    return row, secrets
                if row.retry_at and now < row.retry_at:
                    return self._backing_off(row, secrets, now)
                return self._refresh(link, row, secrets, renewal, holder)
            finally:
                self.store.release_lease(link, holder)

    def _take_lease(self, link: str, holder: str) -> ConnectionRow:
        deadline = time.monotonic() + self.wait_seconds
        pause = POLL
        while True:
            row = self.store.take_lease(link, holder, self.lease_seconds)
            if row is not None:
                return row
            if time.monotonic() > deadline:
                raise AuthFailed(f"connection {link}: another process has been renewing its "
                                 f"token for over {self.wait_seconds:g} s", link=link)
            self.sleep(pause)
            pause = min(pause * 1.5, 0.5)

    def _backing_off(self, row: ConnectionRow, secrets: dict, now: float):
        if secrets.get("access_token") and (row.expires_at is None or now < row.expires_at):
            return row, secrets
        raise AuthFailed(f"connection {row.link_name}: renewing its token failed "
                         f"{row.failures} time(s) ({row.last_error}); next try in "
                         f"{row.retry_at - now:.0f} s", link=row.link_name)

    def _refresh(self, link: str, row: ConnectionRow, secrets: dict, renewal: Renewal,
                 holder: str) -> tuple[ConnectionRow, dict]:
        from .auth import oauth2

        service = renewal.service
        client_credentials = service.grant == "client_credentials"
        refresh_token = secrets.get("refresh_token")
        if not client_credentials and not refresh_token:
            if secrets.get("access_token") and row.expires_at is None:
                return row, secrets  # a token that never expires; nothing to renew
            raise ConnectionExpired(f"connection {link}: its access token expired and the "
                                    f"provider gave no refresh token; {reconnect_hint(link)}",
                                    link=link)
        try:
            if client_credentials:
                token = oauth2.client_credentials(self.session_factory(), service, renewal.endpoints,
                                                  renewal.client, renewal.scopes)
            else:
                token = oauth2.refresh(self.session_factory(), service, renewal.endpoints, renewal.client,
                                       refresh_token)
        except oauth2.TokenEndpointError as e:
            return self._failed(link, row, secrets, e, holder)
        return self.save(link, secrets, token, service, holder=holder)

    def save(self, link: str, secrets: dict, token: "oauth2.Token", service: Service, *,
             holder: str | None = None, extra_params: dict | None = None
             ) -> tuple[ConnectionRow, dict]:
        """Store a token that just arrived (one transaction), keeping the old refresh token
        when the answer has none."""
        from .auth.oauth2 import DEFAULT_LIFETIME

        row = self.store.connection(link)
        now = self.clock()
        renewed = dict(secrets, access_token=token.access_token)
        if token.refresh_token:
            renewed["refresh_token"] = token.refresh_token
        can_renew = bool(renewed.get("refresh_token")) or service.grant == "client_credentials"
        lifetime = token.expires_in or (DEFAULT_LIFETIME if can_renew else None)
        params = dict(row.params, **token.fields, **(extra_params or {}))
        columns = dict(status=CONNECTED, last_error=None, failures=0, retry_at=None,
                       expires_at=now + lifetime if lifetime else None, lifetime=lifetime,
                       params=params)
        if token.scope:
            columns["scopes"] = token.scope
        row = self.store.update(link, secrets=renewed, new_tokens=True, release_lease=holder,
                                **columns)
        return row, renewed

    def _failed(self, link, row, secrets, error: "oauth2.TokenEndpointError", holder):
        now = self.clock()
        failures = row.failures + 1
        if error.grant_refused:
            self.store.update(link, status=EXPIRED, last_error=str(error), failures=failures,
                              retry_at=None, release_lease=holder)
            raise ConnectionExpired(f"connection {link} is no longer authorized ({error}); "
                                    f"{reconnect_hint(link)}", link=link) from None
        columns = dict(last_error=str(error), failures=failures,
                       retry_at=now + backoff(failures))
        if not error.transient:
            columns["status"] = f"error: {error}"
        self.store.update(link, release_lease=holder, **columns)
        if error.transient and secrets.get("access_token") and row.expires_at and \
                now < row.expires_at:
            return self.store.connection(link), secrets  # still valid: use it while we can
        raise AuthFailed(f"connection {link}: could not renew its token: {error}",
                         link=link) from None


def not_connected(link: str, status: str) -> NotConnected:
    return NotConnected(f"connection {link} is {status}: connect it with: "
                        f"sluice connections connect {link}", link=link)
