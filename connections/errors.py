"""What can go wrong with a connection, as types a caller can catch one by one.

Every message is written for the person who administers connections: it says what happened and
what to do. No message holds a secret: provider answers are cut down to their `error` and
`error_description` fields and passed through `redact` before they reach an exception.
"""

from __future__ import annotations


class ConnectionsError(Exception):
    """Base of every error this package raises."""

    def __init__(self, message: str, *, link: str | None = None):
        super().__init__(message)
        self.link = link


class UnknownConnection(ConnectionsError):
    """No connection has this link name."""


class UnknownService(ConnectionsError):
    """No built-in or custom service has this name."""


class NotConnected(ConnectionsError):
    """The connection exists but was never authorized (or its tokens were revoked)."""


class ConnectionExpired(ConnectionsError):
    """The provider refused the stored grant (`invalid_grant`, revoked): the admin must reconnect."""


class AuthFailed(ConnectionsError):
    """Authorizing, refreshing or signing failed for a reason other than an expired grant:
    the provider is down or slow, it refused the client, the answer made no sense."""


class AuthorizationDenied(AuthFailed):
    """The user (or the provider) said no on the consent page, or the redirect did not match."""


class ForeignHost(ConnectionsError):
    """A request would carry a connection's credentials to a host its service does not name."""


class InvalidDefinition(ConnectionsError):
    """A service or connection definition is incomplete or contradicts itself."""


class StoreError(ConnectionsError):
    """The store cannot be read or written (locked, full disk, newer schema, damaged file)."""


class StoreDamaged(StoreError):
    """The store's file is damaged: `sluice connections recover` saves what can be read."""


class SecretKeyError(StoreError):
    """The secret key is missing, malformed, or not the one the store was encrypted with."""


def reconnect_hint(link: str) -> str:
    return f"reconnect it with: sluice connections connect {link}"


def redact(text: str, secrets) -> str:
    """`text` with every secret value (of 4 characters or more), in any form it may take (plain,
    URL-encoded, JSON-escaped, base64 as in a Basic header), replaced by '***'."""
    from .redaction import masker_for

    return masker_for(list(secrets))(text)
