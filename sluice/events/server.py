"""`sluice serve`: scripts run when events arrive over HTTP.

    POST /events/<name>     a JSON object; 202 {"runs": [ids]} once the runs are stored
    GET  /runs/<id>         {"status", "return", "info", "error", ...}
    GET  /health            {"status": "ok", "queued": n, "running": n}
    /admin/connections...   list, show, create, connect, revoke (admin token only)

Callers prove themselves with `Authorization: Bearer $SLUICE_RUNNER_TOKEN`, or by signing the
body: `X-Sluice-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` keyed with
$SLUICE_SIGNING_SECRET (else the runner token); a signature is good for 5 minutes and once.
The admin endpoints take only `Authorization: Bearer $SLUICE_ADMIN_TOKEN`.

The app is Flask; waitress serves it (a production WSGI server: request size caps, timeouts, a
thread pool). Runs go through RunStore (persistent) and a bounded pool of Workers. Logs name the
method, path, status and time of each request, never a header or a body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
from pathlib import Path

log = logging.getLogger("sluice.events.server")

RUNNER_TOKEN_ENV = "SLUICE_RUNNER_TOKEN"
SIGNING_SECRET_ENV = "SLUICE_SIGNING_SECRET"
ADMIN_TOKEN_ENV = "SLUICE_ADMIN_TOKEN"
SIGNATURE_HEADER = "X-Sluice-Signature"
SIGNATURE_WINDOW = 300.0
MAX_BODY = 1024 * 1024


class ServeError(Exception):
    """The server cannot start as asked (no token set, a bad bindings file, a busy port)."""


class Secrets:
    """The tokens of the server, read once from the environment."""

    def __init__(self, environ=os.environ):
        self.runner = environ.get(RUNNER_TOKEN_ENV) or None
        self.signing = environ.get(SIGNING_SECRET_ENV) or self.runner
        self.admin = environ.get(ADMIN_TOKEN_ENV) or None
        if not self.runner and not self.signing:
            raise ServeError(f"set {RUNNER_TOKEN_ENV} (a bearer token for callers) or "
                             f"{SIGNING_SECRET_ENV} (to sign requests) before serving: without "
                             "one, anyone could run your scripts")
        if self.admin and self.admin == self.runner:
            raise ServeError(f"{ADMIN_TOKEN_ENV} must differ from {RUNNER_TOKEN_ENV}")


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header value for `body` (what a caller computes)."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def _bearer(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _same(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(given.encode(),
                                                                  expected.encode())


class App:
    def __init__(self, bindings_path: Path, home: Path | None, secrets: Secrets, *,
                 threads: int = 4, max_body: int = MAX_BODY):
        from connections.store import default_home

        from .bindings import Bindings
        from .queue import RunStore
        from .workers import Executor, Workers

        self.home = Path(home) if home is not None else default_home()
        self.bindings_path = bindings_path
        self.bindings = Bindings.load(bindings_path)
        self.secrets = secrets
        self.max_body = max_body
        self.store = RunStore.open(self.home)
        self.executor = Executor(self.home, code_cache=str(self.home / "code-cache"))
        self.workers = Workers(self.store, self.executor, threads=threads)
        self.flask = self._build()
        self._pending_authorizations: dict[str, object] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> int:
        recovered = self.store.recover()
        self.store.prune(self.store.retention_days())
        self.workers.start()
        return recovered

    def stop(self, timeout: float = 30.0) -> None:
        self.workers.stop(timeout)
        self.executor.close()
        self.store.close()

    # ------------------------------------------------------------------ authentication

    def runner_allowed(self, request, body: bytes) -> bool:
        if _same(_bearer(request), self.secrets.runner):
            return True
        header = request.headers.get(SIGNATURE_HEADER)
        if not header or not self.secrets.signing:
            return False
        parts = dict(p.strip().partition("=")[::2] for p in header.split(","))
        t, given = parts.get("t", ""), parts.get("v1", "")
        if not t.isdigit() or abs(time.time() - int(t)) > SIGNATURE_WINDOW:
            return False
        expected = sign(self.secrets.signing, body, int(t)).partition("v1=")[2]
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return False
        return self.store.first_sight(given, SIGNATURE_WINDOW)  # a replay is refused

    def admin_allowed(self, request) -> bool:
        return _same(_bearer(request), self.secrets.admin)

    # ------------------------------------------------------------------ the HTTP app

    def _build(self):
        from flask import Flask, jsonify, request

        app = Flask("sluice-serve")
        app.json.sort_keys = False
        app.config["MAX_CONTENT_LENGTH"] = self.max_body

        def refuse(status: int, message: str):
            response = jsonify(error=message)
            response.status_code = status
            if status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="sluice"'
            return response

        @app.errorhandler(413)
        def too_large(_):
            return refuse(413, f"the body is larger than {self.max_body:,} bytes")

        @app.errorhandler(404)
        def not_found(_):
            return refuse(404, "no such endpoint")

        @app.errorhandler(405)
        def wrong_method(_):
            return refuse(405, "method not allowed here")

        @app.errorhandler(500)
        def broken(_):
            return refuse(500, "internal error")

        @app.before_request
        def started():
            request.environ["sluice.started"] = time.monotonic()

        @app.after_request
        def logged(response):
            started_at = request.environ.get("sluice.started", time.monotonic())
            log.info("%s %s %s %.1f ms", request.method, request.path, response.status_code,
                     (time.monotonic() - started_at) * 1000)
            return response

        @app.get("/health")
        def health():
            counts = self.store.counts()
            return jsonify(status="ok", queued=counts.get("queued", 0),
                           running=counts.get("running", 0))

        @app.post("/events/<name>")
        def event(name):
            from .bindings import valid_event_name

            length = request.content_length
            if length is not None and length > self.max_body:
                return refuse(413, f"the body is larger than {self.max_body:,} bytes")
            body = request.get_data(cache=True)
            if not self.runner_allowed(request, body):
                return refuse(401, "missing or wrong credentials: send Authorization: Bearer "
                                   f"<token> or an {SIGNATURE_HEADER} header")
            if not valid_event_name(name):
                return refuse(400, f"'{name}' is not an event name")
            try:
                payload = json.loads(body) if body.strip() else {}
            except (ValueError, RecursionError):
                return refuse(400, "the body is not JSON")
            if not isinstance(payload, dict):
                return refuse(400, "the body must be a JSON object (its keys become the "
                                   "script's arguments)")
            bindings = self.bindings.matching(name)
            if not bindings:
                return refuse(404, f"no binding for event '{name}'")
            ids = self.store.submit(name, bindings, payload)
            self.workers.notify()
            return jsonify(runs=ids), 202

        @app.get("/runs/<run_id>")
        def run(run_id):
            if not self.runner_allowed(request, b"") and not self.admin_allowed(request):
                return refuse(401, "missing or wrong credentials")
            found = self.store.get(run_id)
            if found is None:
                return refuse(404, f"no run {run_id}")
            return jsonify(found.to_dict())

        self._admin_routes(app, refuse)
        return app

    def _admin_routes(self, app, refuse):
        from flask import jsonify, request

        def guarded(view):
            def wrapper(*args, **kwargs):
                if not self.secrets.admin:
                    return refuse(403, f"connection management over HTTP is off: set "
                                       f"{ADMIN_TOKEN_ENV} to turn it on")
                if not self.admin_allowed(request):
                    return refuse(401, "the admin token is required")
                from connections import ConnectionsError

                try:
                    return view(*args, **kwargs)
                except ConnectionsError as e:
                    status = 404 if type(e).__name__ in ("UnknownConnection",
                                                         "UnknownService") else 400
                    return refuse(status, str(e))

            wrapper.__name__ = view.__name__
            return wrapper

        def conns():
            return self.executor.web._conns()

        @app.get("/admin/connections")
        @guarded
        def list_connections():
            return jsonify(connections=[i.to_dict() for i in conns().list()])

        @app.get("/admin/connections/<link>")
        @guarded
        def show_connection(link):
            return jsonify(conns().get(link).to_dict())

        @app.post("/admin/connections")
        @guarded
        def create_connection():
            data = request.get_json(silent=True)
            if not isinstance(data, dict) or not data.get("link") or not data.get("service"):
                return refuse(400, 'send {"link": ..., "service": ..., and optionally '
                                   '"scopes", "params", "username", "password", "api_key", '
                                   '"client_id", "client_secret"}')
            allowed = {"display_name", "scopes", "params", "username", "password", "api_key",
                       "client_id", "client_secret"}
            extra = {k: v for k, v in data.items() if k in allowed}
            info = conns().create(str(data["link"]), str(data["service"]), **extra)
            return jsonify(info.to_dict()), 201

        @app.post("/admin/connections/<link>/connect")
        @guarded
        def connect_connection(link):
            c = conns()
            service = c.service(c.get(link).service)
            if not service.needs_browser:
                return jsonify(c.connect_direct(link).to_dict())
            redirect = request.host_url.rstrip("/") + "/admin/oauth/callback"
            authorization = c.begin_authorization(link, redirect)
            state = _state_of(authorization)
            with self._lock:
                self._pending_authorizations[state] = authorization
            return jsonify(authorization_url=authorization.url, redirect_uri=redirect)

        @app.get("/admin/oauth/callback")
        def oauth_callback():  # the provider's redirect: the state ties it to a pending connect
            state = request.args.get("state") or request.args.get("oauth_token") or ""
            with self._lock:
                authorization = self._pending_authorizations.pop(state, None)
            if authorization is None:
                return refuse(400, "no authorization is waiting for this redirect")
            from connections import ConnectionsError

            try:
                info = conns().finish_authorization(authorization, request.url)
            except ConnectionsError as e:
                return refuse(400, str(e))
            return jsonify(link_name=info.link_name, status=info.status)

        @app.post("/admin/connections/<link>/revoke")
        @guarded
        def revoke_connection(link):
            return jsonify(conns().revoke(link).to_dict())


def _state_of(authorization) -> str:
    pending = authorization._pending
    return getattr(pending, "state", None) or getattr(pending, "request_token", "")


def serve(bindings: Path, *, host: str = "127.0.0.1", port: int = 8080,
          home: Path | None = None, threads: int = 4, on_ready=None,
          stop_event: threading.Event | None = None) -> None:
    """Serve until `stop_event` is set (or SIGINT/SIGTERM, which the CLI turns into it)."""
    from waitress.server import create_server

    app = App(bindings, home, Secrets(), threads=threads)
    try:
        server = create_server(app.flask, host=host, port=port, threads=max(4, threads * 2),
                               max_request_body_size=app.max_body + 1024,
                               channel_timeout=60, ident="sluice",
                               clear_untrusted_proxy_headers=True)
    except OSError as e:
        app.stop(1)
        raise ServeError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    recovered = app.start()
    thread = threading.Thread(target=server.run, name="sluice-http", daemon=True)
    thread.start()
    if on_ready is not None:
        on_ready(server.effective_host, server.effective_port, recovered)
    stop_event = stop_event or threading.Event()
    try:
        while not stop_event.wait(0.5):
            pass
    finally:
        server.close()  # no new connections; requests in flight get their answers
        thread.join(2)
        if thread.is_alive():  # idle keep-alive connections: close them
            from waitress import wasyncore

            wasyncore.close_all(server._map)
            thread.join(3)
        app.stop()      # the runs in progress finish; queued ones wait for the next start
