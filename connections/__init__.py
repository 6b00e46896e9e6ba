"""Named credentials for third-party services, usable without any script.

    from connections import Connections, Store
    conns = Connections(Store.open())          # $SLUICE_HOME/sluice.db, or the user data folder
    conns.request("mailchimp", "GET", "/lists").json()

Seams: connections imports neither dsl nor runtime. A Python program can make authenticated
calls through a stored connection with this package alone.
"""

from .errors import (AuthFailed, AuthorizationDenied, ConnectionExpired, ConnectionsError,
                     ForeignHost, InvalidDefinition, NotConnected, SecretKeyError, StoreError,
                     UnknownConnection, UnknownService)
from .facade import Connections, TestResult
from .flows import Authorization, LoopbackListener, redirect_uri
from .model import ConnectionInfo, Service
from .store import Store, default_home

__all__ = [
    "AuthFailed", "Authorization", "AuthorizationDenied", "ConnectionExpired", "ConnectionInfo",
    "Connections", "ConnectionsError", "ForeignHost", "HttpClient", "HttpError", "InvalidDefinition",
    "LoopbackListener", "NotConnected", "SecretKeyError", "Service", "Store", "StoreError",
    "TestResult", "UnknownConnection", "UnknownService", "default_home", "redirect_uri",
]


def __getattr__(name):
    # The HTTP client pulls in requests: only when asked for (listing connections needs none).
    if name in ("HttpClient", "HttpError"):
        from . import http

        return getattr(http, name)
    raise AttributeError(f"module 'connections' has no attribute {name!r}")
