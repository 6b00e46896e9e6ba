"""`sluice serve`: scripts run when events arrive over HTTP.

    POST /events/<name>     a JSON object; 202 {"runs": [ids]} once the runs are stored
    GET  /runs/<id>         {"status", "return", "info", "error", ...}
    GET  /health            {"status": "ok", "queued": n, "running": n, "workers": n ready}
    /admin/connections...   list, show, create, connect, revoke (admin token only)
    GET|POST /functions/<name>/execute    published functions (sluice/functions/http.py)

Callers prove themselves with `Authorization: Bearer $SLUICE_RUNNER_TOKEN`, or by signing the
body: `X-Sluice-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` keyed with
$SLUICE_SIGNING_SECRET (else the runner token); a signature is good for 5 minutes and once.
The admin endpoints take only `Authorization: Bearer $SLUICE_ADMIN_TOKEN`.

A POST with an `Idempotency-Key` header (1-200 visible ASCII characters) is stored once: a retry
with the same key and body, within a day, gets the same answer and creates no new runs; the
same key with another body is refused (422).

Scripts never run in the server's threads: a pool of warm worker processes (workers.Pool) runs
them, each under an OS memory limit; a run past its time limit (plus a grace) is killed and its
worker replaced, and a run that ended its worker 3 times is failed for good. The server only
accepts, stores, dispatches and answers. Delivery: every accepted event's runs are stored
before the 202; a run executes once, except when a process dies in the middle of it (the
worker, or the server with its workers): then it runs again, so it is at-least-once on a crash.
A restart, and a recovery round every few seconds, take back only runs whose worker process is
gone.

The app is Flask; waitress serves it, tuned for many idle or slow connections (poll() instead
of select(), a connection limit in the thousands, idle connections closed after a timeout):
reading requests is asynchronous, and only whole requests reach its threads. Logs name the
method, path, status and time of each request, never a header or a body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
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
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}\Z")
RECOVER_EVERY = 10.0  # seconds between recovery rounds
CONNECTION_LIMIT = 4000  # open client connections (idle and slow ones included)
IDLE_TIMEOUT = 30  # seconds an idle or stalled connection is kept


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
                 workers: int = 4, max_body: int = MAX_BODY, max_attempts: int = 3,
                 worker_memory: int = 1024, recover_every: float = RECOVER_EVERY):
        from connections.store import default_home

        from ..adapters.web import ConnectionsWeb
        from .bindings import Bindings
        from .queue import RunStore
        from .workers import Pool

        self.home = Path(home) if home is not None else default_home()
        self.bindings_path = bindings_path
        self.bindings = Bindings.load(bindings_path)
        self.secrets = secrets
        self.max_body = max_body
        self.max_attempts = max_attempts
        self.recover_every = recover_every
        self.store = RunStore.open(self.home)
        self.web = ConnectionsWeb(home=self.home)  # the admin routes' connections
        self.pool = Pool(self.store, self.home, workers=workers, max_attempts=max_attempts,
                         memory_mb=worker_memory)
        self.flask = self._build()
        self._pending_authorizations: dict[str, object] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._recovery: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> int:
        recovered = self.store.recover(self.max_attempts)
        self.store.prune(self.store.retention_days())
        self.pool.start()
        self.pool.wait_ready()  # answer events once scripts can run
        self._recovery = threading.Thread(target=self._recover_often, name="sluice-recovery",
                                          daemon=True)
        self._recovery.start()
        return recovered

    def _recover_often(self) -> None:
        """Runs left by another server that died while this one runs are taken back too."""
        import sqlite3

        while not self._stopping.wait(self.recover_every):
            try:
                if self.store.recover(self.max_attempts):
                    self.pool.notify()
            except sqlite3.Error as e:
                log.warning("recovery round skipped: %s", e)

    def stop(self, grace: float = 10.0) -> None:
        """The runs in progress get `grace` seconds to finish; then their workers are killed
        and the runs wait, queued, for the next start."""
        self._stopping.set()
        self.pool.stop(grace)
        if self._recovery is not None:
            self._recovery.join(5)
        self.functions.close()
        self.web.close()
        self.store.close()

    # ------------------------------------------------------------------ authentication

    def caller(self, request, body: bytes) -> str | None:
        """Who may post: "token" (the runner's bearer token), or the signature (a valid one,
        not yet checked against replays); None: nobody we know."""
        if _same(_bearer(request), self.secrets.runner):
            return "token"
        header = request.headers.get(SIGNATURE_HEADER)
        if not header or not self.secrets.signing or len(header) > 1000:
            return None
        parts = dict(p.strip().partition("=")[::2] for p in header.split(","))
        t, given = parts.get("t", ""), parts.get("v1", "")
        # at most 12 ASCII digits: a Unix time, and never a 5,000-digit number to convert
        if not (t.isascii() and t.isdigit() and len(t) <= 12) or \
                abs(time.time() - int(t)) > SIGNATURE_WINDOW:
            return None
        expected = sign(self.secrets.signing, body, int(t)).partition("v1=")[2]
        if not given.isascii() or not hmac.compare_digest(given.encode(), expected.encode()):
            return None
        return given

    def runner_allowed(self, request, body: bytes) -> bool:
        caller = self.caller(request, body)
        if caller is None:
            return False
        return caller == "token" or self.store.first_sight(caller, SIGNATURE_WINDOW)

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
                           running=counts.get("running", 0), workers=self.pool.ready())

        @app.post("/events/<name>")
        def event(name):
            from .bindings import valid_event_name
            from .queue import IdempotencyConflict

            length = request.content_length
            if length is not None and length > self.max_body:
                return refuse(413, f"the body is larger than {self.max_body:,} bytes")
            body = request.get_data(cache=True)
            caller = self.caller(request, body)
            if caller is None:
                return refuse(401, "missing or wrong credentials: send Authorization: Bearer "
                                   f"<token> or an {SIGNATURE_HEADER} header")
            if not valid_event_name(name):
                return refuse(400, f"'{name[:100]}' is not an event name")
            key = request.headers.get(IDEMPOTENCY_HEADER)
            if key is not None and not IDEMPOTENCY_KEY.match(key):
                return refuse(400, f"the {IDEMPOTENCY_HEADER} header must be 1 to 200 visible "
                                   "ASCII characters")
            try:
                payload = json.loads(body, parse_constant=_no_constant) if body.strip() else {}
            except (ValueError, RecursionError):
                return refuse(400, "the body is not JSON")
            if not isinstance(payload, dict):
                return refuse(400, "the body must be a JSON object (its keys become the "
                                   "script's arguments)")
            bindings = self.bindings.matching(name)
            if not bindings:
                return refuse(404, f"no binding for event '{name}'")
            idempotency = None
            try:
                if key is not None:
                    idempotency = (key, hashlib.sha256(name.encode() + b"\n" + body)
                                   .hexdigest())
                    ids = self.store.answered(*idempotency)
                    if ids is not None:  # a retry: the first answer again
                        return jsonify(runs=ids), 202
                if caller != "token" and not self.store.first_sight(caller, SIGNATURE_WINDOW):
                    return refuse(401, "this signature was used before: sign each request "
                                       "anew")
                ids, _ = self.store.submit(name, bindings, payload, idempotency)
            except IdempotencyConflict:
                return refuse(422, f"this {IDEMPOTENCY_HEADER} was used for another request")
            self.pool.notify()
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
        self._console(app)
        from ..functions.http import register as register_functions

        self.functions = register_functions(self, app)
        return app

    def _console(self, app) -> None:
        """The Connections console under /console (sluice.console), on this server's store."""
        from ..console import ConsoleContext, console_blueprint

        app.register_blueprint(console_blueprint(ConsoleContext(
            home=self.home, admin_token=self.secrets.admin,
            public_url=(os.environ.get("SLUICE_PUBLIC_URL") or "").rstrip("/") or None,
            bindings_path=self.bindings_path, connections=self.web._conns())))

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
            return self.web._conns()

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
            problem = _creation_problem(data)
            if problem:
                return refuse(400, problem)
            extra = {k: v for k, v in data.items() if k in CREATE_FIELDS and v is not None}
            info = conns().create(data["link"], data["service"], **extra)
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


CREATE_FIELDS = {"display_name": str, "scopes": list, "params": dict, "username": str,
                 "password": str, "api_key": str, "client_id": str, "client_secret": str}
CREATE_USAGE = ('send {"link": ..., "service": ..., and optionally "display_name", "scopes" '
                '(a list of texts), "params" (an object of texts), "username", "password", '
                '"api_key", "client_id", "client_secret" (texts)}')


def _creation_problem(data) -> str | None:
    """What is wrong with an admin create body (None: nothing), before any of it is used."""
    if not isinstance(data, dict):
        return CREATE_USAGE
    if not isinstance(data.get("link"), str) or not isinstance(data.get("service"), str) \
            or not data["link"] or not data["service"]:
        return CREATE_USAGE
    unknown = set(data) - set(CREATE_FIELDS) - {"link", "service"}
    if unknown:
        return f"unknown field(s) {', '.join(sorted(unknown))[:200]}; {CREATE_USAGE}"
    kinds = {str: "a text", list: "a list", dict: "an object"}
    for name, kind in CREATE_FIELDS.items():
        value = data.get(name)
        if value is not None and not isinstance(value, kind):
            return f"'{name}' must be {kinds[kind]}; {CREATE_USAGE}"
    if data.get("scopes") is not None and not all(isinstance(x, str) for x in data["scopes"]):
        return "'scopes' must be a list of texts"
    params = data.get("params") or {}
    if not all(isinstance(v, (str, int, float, bool)) for v in params.values()):
        return "'params' must map names to texts (or numbers)"
    return None


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _state_of(authorization) -> str:
    pending = authorization._pending
    return getattr(pending, "state", None) or getattr(pending, "request_token", "")


def _raise_open_files() -> int:
    """Lift this process's open-file limit to its hard limit (connections are files); the
    connection limit that fits."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = hard if hard != resource.RLIM_INFINITY else 65536
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
    except (ImportError, ValueError, OSError):
        return 1000
    return max(100, min(CONNECTION_LIMIT, int(soft) - 200))


ACCEPT_BATCH = 128  # connections accepted per turn of the event loop


def _http_server(application, **settings):
    """waitress's TCP server, accepting many waiting connections per turn of its loop: it
    accepts one per turn, and each turn costs a look at every open connection, so a thousand
    connections arriving at once kept the next one waiting for seconds."""
    from waitress.adjustments import Adjustments
    from waitress.server import TcpWSGIServer

    class Server(TcpWSGIServer):
        def handle_accept(self):
            for _ in range(ACCEPT_BATCH):
                before = len(self._map)
                super().handle_accept()
                if len(self._map) == before or len(self._map) >= self.adj.connection_limit:
                    return  # nothing more waiting (or an error, logged), or full

    adjustments = Adjustments(**settings)
    return Server(application, adj=adjustments, sockinfo=adjustments.listen[0])


def serve(bindings: Path, *, host: str = "127.0.0.1", port: int = 8080,
          home: Path | None = None, workers: int = 4, on_ready=None,
          stop_event: threading.Event | None = None, grace: float = 10.0,
          max_attempts: int = 3, worker_memory: int = 1024,
          recover_every: float = RECOVER_EVERY) -> None:
    """Serve until `stop_event` is set (or SIGINT/SIGTERM, which the CLI turns into it)."""
    app = App(bindings, home, Secrets(), workers=workers, max_attempts=max_attempts,
              worker_memory=worker_memory, recover_every=recover_every)
    connection_limit = _raise_open_files()
    try:
        # The asyncore loop reads requests without a thread per connection; poll() takes
        # thousands of sockets (select() stops at 1,024); idle or stalled connections are
        # closed after IDLE_TIMEOUT; only whole requests reach the 8 threads (and the
        # MAX_CALLS more that function calls waiting for their workers may hold).
        from ..functions.http import MAX_CALLS  # threads function calls may hold

        server = _http_server(app.flask, host=host, port=port, threads=8 + MAX_CALLS,
                               connection_limit=connection_limit, asyncore_use_poll=True,
                               channel_timeout=IDLE_TIMEOUT, cleanup_interval=5,
                               backlog=2048, max_request_body_size=app.max_body + 1024,
                               max_request_header_size=64 * 1024, ident="sluice",
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
        app.stop(grace)  # runs in progress get the grace; the rest wait for the next start
