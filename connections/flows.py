"""Authorizing a connection in a browser: OAuth 2.0 authorization code (state, PKCE S256) and
OAuth 1.0a three-legged, with a loopback listener for the redirect or a pasted redirect URL.

    listener = LoopbackListener(port)                     # http://127.0.0.1:<port>/callback
    authorization = conns.begin_authorization(link, listener.redirect_uri)
    ... the user opens authorization.url ...
    info = listener.wait(lambda url: conns.finish_authorization(authorization, url))

The listener finishes the exchange before it answers the browser, so the page the user sees
says whether the connection worked.
"""

from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

from .errors import AuthFailed, AuthorizationDenied, ConnectionsError
from .model import CONNECTED, ConnectionInfo, Service
from .store import ConnectionRow

DEFAULT_PORT = 8765
CALLBACK_PATH = "/callback"


def redirect_uri(port: int = DEFAULT_PORT) -> str:
    """What to register with a provider as the redirect (callback) URL."""
    return f"http://127.0.0.1:{port}{CALLBACK_PATH}"


@dataclass(frozen=True)
class Authorization:
    """An authorization under way. `url` is where the user goes; the rest stays private."""

    link: str
    url: str
    redirect_uri: str
    _pending: object = field(repr=False)


def begin(conns, row: ConnectionRow, service: Service, redirect: str) -> Authorization:
    if not service.needs_browser:
        raise ConnectionsError(f"connection {row.link_name} needs no browser: "
                               f"sluice connections connect {row.link_name} checks and stores it")
    from .auth import oauth1, oauth2

    secrets = conns._secrets(row)
    client = conns._client(row, service, secrets)
    if service.auth == "oauth1":
        pending = oauth1.authorization(conns.http.session, service,
                                       conns._oauth1_urls(row, service), client, redirect,
                                       row.scopes)
    else:
        pending = oauth2.authorization(service, conns._endpoints(row, service), client, redirect,
                                       row.scopes)
    return Authorization(link=row.link_name, url=pending.url, redirect_uri=redirect,
                         _pending=pending)


def finish(conns, authorization: Authorization, callback_url: str) -> ConnectionInfo:
    """Check the redirect, trade it for tokens and store them."""
    from .auth import oauth1, oauth2

    link = authorization.link
    row = conns._row(link)
    service = conns.service(row.service)
    secrets = conns._secrets(row)
    pending = authorization._pending
    try:
        if isinstance(pending, oauth1.Pending):
            verifier = oauth1.verifier_from_callback(pending, callback_url)
            token, token_secret = oauth1.access_token(
                conns.http.session, conns._oauth1_urls(row, service),
                conns._client(row, service, secrets), pending, verifier)
            kept = {k: v for k, v in secrets.items() if k in ("client_secret", "rsa_key")}
            conns.store.update(link, secrets=dict(kept, oauth_token=token,
                                                  oauth_token_secret=token_secret),
                               new_tokens=True, status=CONNECTED, last_error=None, failures=0,
                               retry_at=None, expires_at=None, lifetime=None)
        else:
            code, extra = oauth2.code_from_callback(pending, callback_url)
            token = oauth2.exchange_code(conns.http.session, service,
                                         conns._endpoints(row, service),
                                         conns._client(row, service, secrets), pending, code)
            kept = {k: v for k, v in secrets.items() if k == "client_secret"}
            from_redirect = {k: v for k, v in extra.items() if k in service.placeholders}
            conns.tokens.save(link, kept, token, service, extra_params=from_redirect)
    except ConnectionsError as e:
        conns.store.update(link, last_error=str(e))
        raise
    return conns.get(link)


class LoopbackListener:
    """A one-shot HTTP server on 127.0.0.1 that waits for the provider's redirect."""

    def __init__(self, port: int = DEFAULT_PORT, path: str = CALLBACK_PATH):
        self.path = path
        self._result = None
        self._done = threading.Event()
        self._handle = None
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                listener._on_request(self)

            def log_message(self, *args):  # the core never prints
                pass

        try:
            self._server = HTTPServer(("127.0.0.1", port), Handler)
        except OSError as e:
            raise AuthFailed(f"cannot listen on 127.0.0.1:{port} ({e.strerror}): choose another "
                             "port with --port, and register that redirect URL with the "
                             "provider") from None
        self.port = self._server.server_address[1]

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def _on_request(self, request: BaseHTTPRequestHandler) -> None:
        if urlsplit(request.path).path != self.path or self._done.is_set():
            request.send_error(404)
            return
        url = f"http://127.0.0.1:{self.port}{request.path}"
        try:
            outcome = self._handle(url)
            status, title, text = 200, "Connected", \
                "Sluice has stored the connection. You can close this tab."
        except ConnectionsError as e:
            outcome = e
            status, title, text = 400, "Not connected", str(e)
        page = (f"<!doctype html><meta charset=utf-8><title>Sluice: {title}</title>"
                f"<h1>{title}</h1><p>{html.escape(text)}</p>").encode("utf-8")
        request.send_response(status)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Length", str(len(page)))
        request.send_header("Cache-Control", "no-store")
        request.end_headers()
        request.wfile.write(page)
        self._result = outcome
        self._done.set()

    def wait(self, handle, timeout: float = 300.0):
        """Serve until the redirect arrives; return what `handle(url)` returned, or raise what
        it raised. Gives up after `timeout` seconds."""
        self._handle = handle
        self._server.timeout = 0.2
        deadline = time.monotonic() + timeout
        try:
            while not self._done.is_set():
                if time.monotonic() > deadline:
                    raise AuthorizationDenied(f"no redirect reached {self.redirect_uri} within "
                                              f"{timeout:g} s")
                self._server.handle_request()
        finally:
            self.close()
        if isinstance(self._result, Exception):
            raise self._result
        return self._result

    def close(self) -> None:
        self._server.server_close()
