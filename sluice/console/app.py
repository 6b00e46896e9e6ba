"""The console's pages and what they do (see the package's doc)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from . import forms
from .security import (COOKIE, HEADERS, SESSION_SECONDS, SETTING, Brake, Sessions,
                       check_password, same_token)

HERE = Path(__file__).resolve().parent
RUNS_PER_PAGE = 50
CALLBACK = "/console/oauth/callback"


@dataclass
class ConsoleContext:
    """What the console works on. `home`: the Sluice home (store, runs); `admin_token`: the
    token that signs in (besides the password); `public_url`: the address the browser and the
    OAuth providers see (SLUICE_PUBLIC_URL; default: the address of each request);
    `bindings_path`: the bindings file whose bindings the console lists."""

    home: Path | None = None
    admin_token: str | None = None
    public_url: str | None = None
    bindings_path: Path | None = None
    connections: object = None  # a connections.Connections to use (default: one on `home`)
    session_seconds: float = SESSION_SECONDS
    _pending: dict = field(default_factory=dict)  # OAuth state -> (authorization, started)
    _notes: dict = field(default_factory=dict)  # note id -> (kind, text, made): what just happened
    _lock: threading.Lock = field(default_factory=threading.Lock)


def console_blueprint(ctx: ConsoleContext):
    from flask import Blueprint, abort, g, redirect, render_template, request, url_for

    from connections import Connections, ConnectionsError, Store

    bp = Blueprint("console", __name__, url_prefix="/console",
                   template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"))
    conns = ctx.connections if ctx.connections is not None else Connections(Store.open(ctx.home))
    sessions = Sessions(_session_key(conns.store), ctx.session_seconds)
    brake = Brake()

    # -------------------------------------------------------------- every request

    @bp.before_request
    def signed_in():
        g.session = sessions.read(request.cookies.get(COOKIE))
        g.new_cookie = None
        if request.endpoint in ("console.sign_in", "console.static"):
            return None
        if g.session is None:
            if request.method == "GET":
                return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
            abort(401)
        if request.method == "POST":
            _check_form_came_from_here()
        return None

    def _check_form_came_from_here():
        """A POST needs this session's CSRF token, and (when the browser says) our origin."""
        origin = request.headers.get("Origin")
        if origin and origin != "null" and _origin(origin) != _origin(request.host_url):
            abort(403, "a form from another site")
        if not same_token(request.form.get("csrf_token"), g.session["csrf"]):
            abort(400, "the form has expired or did not come from this console: reload the "
                       "page and try again")

    @bp.after_request
    def headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if g.get("new_cookie") is not None:
            cookie, max_age = g.new_cookie
            response.set_cookie(COOKIE, cookie, max_age=max_age, path="/console",
                                httponly=True, samesite="Strict",
                                secure=_secure(ctx, request))
        return response

    @bp.errorhandler(400)
    @bp.errorhandler(401)
    @bp.errorhandler(403)
    @bp.errorhandler(404)
    def refused(error):  # the console's own pages only: the rest of the server answers in JSON
        text = getattr(error, "description", "") or "refused"
        return render_template("error.html", code=error.code, message=text,
                               session=g.get("session")), error.code

    @bp.context_processor
    def shared():
        return {"session": g.get("session"), "csrf": (g.get("session") or {}).get("csrf", ""),
                "when": _when, "ago": _ago}

    def page(template: str, **values):
        return render_template(template, **values)

    # -------------------------------------------------------------- signing in and out

    @bp.route("/sign-in", methods=["GET", "POST"])
    def sign_in():
        target = _safe_next(request.values.get("next"))
        if request.method == "GET":
            if g.session is not None:
                return redirect(target)
            return page("sign_in.html", next=target, error=None)
        address = request.remote_addr or "?"
        wait = brake.wait_for(address)
        if wait > 0:
            response = page("sign_in.html", next=target,
                            error=f"Too many wrong attempts: try again in {int(wait) + 1} s.")
            return response, 429, {"Retry-After": str(int(wait) + 1)}
        given = request.form.get("secret", "")
        if not _accepted(given, ctx, conns.store):
            brake.failed(address)
            return page("sign_in.html", next=target,
                        error="That is not the admin token or the console password."), 401
        brake.succeeded(address)
        cookie, session = sessions.new()  # a new session on every sign-in: no fixation
        g.new_cookie = (cookie, int(ctx.session_seconds))
        g.session = session
        return redirect(target)

    @bp.post("/sign-out")
    def sign_out():
        sessions.end(g.session)
        g.new_cookie = ("", 0)
        return redirect(url_for("console.sign_in"))

    @bp.get("/")
    def home():
        return redirect(url_for("console.connections"))

    # -------------------------------------------------------------- connections

    @bp.get("/connections")
    def connections():
        return page("connections.html", items=conns.list())

    def show(link: str, *, result=None, note=None, status: int = 200):
        info = _get(conns, link)
        service = _service_or_none(conns, info.service)
        snippets = [("invokeurl", conns.snippet(link))]
        if info.service == "zoho":
            snippets.append(("zoho.crm", _crm_snippet(link)))
        return page("connection.html", info=info, service=service, snippets=snippets,
                    state=_state(info, service), result=result, note=note), status

    def noted(link: str, kind: str, text: str):
        """To the connection's page, with a note of what just happened (kept here, so a link
        cannot put words on the page)."""
        note_id = secrets.token_urlsafe(9)
        with ctx._lock:
            _forget_stale(ctx)
            ctx._notes[note_id] = (kind, text, time.monotonic())
        return redirect(url_for("console.connection", link=link, note=note_id))

    @bp.get("/connections/<link>")
    def connection(link):
        with ctx._lock:
            found = ctx._notes.pop(request.args.get("note", ""), None)
        note = {"kind": found[0], "text": found[1]} if found else None
        return show(link, note=note)

    @bp.post("/connections/<link>/test")
    def test(link):
        _get(conns, link)
        started = time.monotonic()
        result = conns.test(link)
        return show(link, result={"ok": result.ok, "message": result.message,
                                  "ms": round((time.monotonic() - started) * 1000)})

    @bp.post("/connections/<link>/refresh")
    def refresh(link):
        _get(conns, link)
        try:
            conns.refresh(link)
            return noted(link, "done", "The access token was renewed.")
        except ConnectionsError as e:
            return noted(link, "problem", str(e))

    @bp.post("/connections/<link>/connect")
    def connect(link):
        info = _get(conns, link)
        return _connect(info.link_name)

    @bp.route("/connections/<link>/revoke", methods=["GET", "POST"])
    def revoke(link):
        info = _get(conns, link)
        if request.method == "GET":
            return page("confirm.html", info=info, action="revoke",
                        question=f"Revoke {info.link_name}? Scripts using it stop working "
                                 "until it is connected again.")
        try:
            conns.revoke(link)
        except ConnectionsError as e:
            return noted(link, "problem", str(e))
        return noted(link, "done", "Revoked: scripts can no longer use it.")

    @bp.route("/connections/<link>/delete", methods=["GET", "POST"])
    def delete(link):
        info = _get(conns, link)
        if request.method == "GET":
            return page("confirm.html", info=info, action="delete",
                        question=f"Delete {info.link_name}? Its credentials are forgotten; "
                                 "scripts naming it fail.")
        conns.delete(link)
        return redirect(url_for("console.connections"))

    @bp.route("/connections/new", methods=["GET", "POST"])
    def new_connection():
        name = request.values.get("service", "")
        service = _service_or_none(conns, name)
        if service is None:
            abort(404, f"no service named {name!r}")
        if request.method == "GET":
            return page("connection_form.html", service=service,
                        values=forms.connection_defaults(service), errors={},
                        redirect_url=_redirect_url(ctx, request))
        values, errors = forms.read_connection(request.form, service, conns)
        if not errors:
            try:
                conns.create(values["link"], service.name, **values["create"])
            except ConnectionsError as e:
                errors[forms.field_of(str(e))] = str(e)
        if errors:
            return page("connection_form.html", service=service, values=values["shown"],
                        errors=errors, redirect_url=_redirect_url(ctx, request)), 400
        return _connect(values["link"])

    def _connect(link: str):
        """OAuth: off to the provider (and back to the callback); else check and store."""
        service = conns.service(conns.get(link).service)
        if not service.needs_browser:
            try:
                conns.connect_direct(link)
            except ConnectionsError as e:
                return noted(link, "problem", str(e))
            return noted(link, "done", "Connected.")
        try:
            authorization = conns.begin_authorization(link, _redirect_url(ctx, request))
        except ConnectionsError as e:
            return noted(link, "problem", str(e))
        with ctx._lock:
            _forget_stale(ctx)
            ctx._pending[_state_of(authorization)] = (authorization, time.monotonic())
        # A page that moves on by itself, not a redirect: the form that got here may only send
        # to this console (CSP form-action 'self'), and browsers hold its redirects to that.
        return page("to_provider.html", url=authorization.url, link=link, service=service)

    @bp.get("/oauth/callback")
    def oauth_callback():
        state = request.args.get("state") or request.args.get("oauth_token") or ""
        with ctx._lock:
            pending = ctx._pending.pop(state, None)
        if pending is None:
            abort(400, "no connection is waiting for this answer from a provider (it may have "
                       "been used already, or be more than 10 minutes old): connect again")
        authorization = pending[0]
        returned = _redirect_url(ctx, request) + ("?" + request.query_string.decode()
                                                  if request.query_string else "")
        try:
            conns.finish_authorization(authorization, returned)
        except ConnectionsError as e:
            return noted(authorization.link, "problem", _provider_said(e, request))
        return noted(authorization.link, "done", "Connected.")

    # -------------------------------------------------------------- services

    @bp.get("/services")
    def services():
        search = request.args.get("q", "").strip()
        auth = request.args.get("auth", "")
        found = [s for s in conns.services(search or None) if not auth or s.auth == auth]
        return page("services.html", services=found, search=search, auth=auth,
                    auth_types=forms.AUTH_LABELS)

    @bp.route("/services/new", methods=["GET", "POST"])
    def new_service():
        redirect_url = _redirect_url(ctx, request)
        if request.method == "GET":
            return page("service_form.html", values=forms.SERVICE_DEFAULTS, errors={},
                        redirect_url=redirect_url, auth_types=forms.AUTH_LABELS)
        values, errors, service, secret = forms.read_service(request.form)
        link = values.get("link_name", "")
        if not errors:
            try:
                conns.add_service(service, client_secret=secret)
            except ConnectionsError as e:
                errors[forms.field_of(str(e))] = str(e)
        if not errors:
            try:
                conns.create(link, service.name,
                             display_name=values.get("connection_name") or None)
            except ConnectionsError as e:
                conns.remove_service(service.name)
                errors[forms.field_of(str(e), "link_name")] = str(e)
        if errors:
            return page("service_form.html", values=values, errors=errors,
                        redirect_url=redirect_url, auth_types=forms.AUTH_LABELS), 400
        if service.auth in ("basic", "apikey"):  # credentials come on the connection's form
            return redirect(url_for("console.credentials", link=link))
        return _connect(link)

    @bp.route("/connections/<link>/credentials", methods=["GET", "POST"])
    def credentials(link):
        info = _get(conns, link)
        service = conns.service(info.service)
        if request.method == "GET":
            return page("credentials.html", info=info, service=service, errors={})
        given, errors = forms.read_credentials(request.form, service)
        if errors:
            return page("credentials.html", info=info, service=service, errors=errors), 400
        conns.set_credentials(link, **given)
        return _connect(link)

    # -------------------------------------------------------------- runs and bindings

    @bp.get("/runs")
    def runs():
        from ..events.queue import RunStore

        status = request.args.get("status") or None
        event = request.args.get("event", "").strip() or None
        number = max(1, request.args.get("page", 1, type=int) or 1)
        with RunStore.open(ctx.home) as store:
            found = store.list(RUNS_PER_PAGE + 1, status=status, event=event,
                               offset=(number - 1) * RUNS_PER_PAGE)
        return page("runs.html", runs=found[:RUNS_PER_PAGE], more=len(found) > RUNS_PER_PAGE,
                    page_number=number, status=status or "", event=event or "")

    @bp.get("/runs/<run_id>")
    def run(run_id):
        from ..events.queue import RunStore

        with RunStore.open(ctx.home) as store:
            found = store.get(run_id)
        if found is None:
            abort(404, f"no run {run_id}")
        return page("run.html", run=found)

    @bp.get("/bindings")
    def bindings():
        from ..events.bindings import BindingError, Bindings

        try:
            found = Bindings.load(ctx.bindings_path).bindings
            problem = None
        except BindingError as e:
            found, problem = (), str(e)
        return page("bindings.html", bindings=found, problem=problem)

    @bp.get("/functions")
    def functions():
        from ..functions.calls import prepare
        from ..functions.http import call_url, curl_example
        from ..functions.store import FunctionsError, FunctionStore

        base = (ctx.public_url or request.host_url).rstrip("/")
        rows = []
        with FunctionStore.open(ctx.home) as store:
            published = store.list()
        for f in published:
            try:
                params = [p.name for p in prepare(f.source, f.entry, f.script_path).params]
                problem = None
            except FunctionsError as e:
                params, problem = [], str(e)
            rows.append({"function": f, "params": params, "problem": problem,
                         "url": call_url(base, f.name),
                         "curl": curl_example(base, f.name, params)})
        return page("functions.html", rows=rows)

    return bp


def console_app(ctx: ConsoleContext):
    """A Flask app of the console alone (what `sluice console` serves)."""
    from flask import Flask, redirect

    app = Flask("sluice-console")
    app.register_blueprint(console_blueprint(ctx))

    @app.get("/")
    def root():
        return redirect("/console/")

    return app


# ---------------------------------------------------------------------------- helpers


def _session_key(store) -> bytes:
    """The key that signs session cookies: made once, sealed in the store."""
    settings, sealed = store.setting(SETTING)
    key = sealed.get("session_key")
    if not key:
        key = secrets.token_urlsafe(32)
        store.save_setting(SETTING, settings or {}, dict(sealed, session_key=key))
    return key.encode()


def _accepted(given: str, ctx: ConsoleContext, store) -> bool:
    if not given:
        return False
    if ctx.admin_token and same_token(given, ctx.admin_token):
        return True
    settings, _ = store.setting(SETTING)
    stored = (settings or {}).get("password_hash")
    return bool(stored) and check_password(given, stored)


def set_password(store, password: str) -> None:
    from .security import hash_password

    settings, sealed = store.setting(SETTING)
    store.save_setting(SETTING, dict(settings or {}, password_hash=hash_password(password)),
                       sealed)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _secure(ctx: ConsoleContext, request) -> bool:
    return request.is_secure or (ctx.public_url or "").lower().startswith("https:")


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a console page, never another site."""
    if target and target.startswith("/console/") and not target.startswith("//") and \
            "\\" not in target:
        return target
    return "/console/connections"


def _redirect_url(ctx: ConsoleContext, request) -> str:
    base = (ctx.public_url or request.host_url).rstrip("/")
    return base + CALLBACK


def _state_of(authorization) -> str:
    pending = authorization._pending
    return getattr(pending, "state", None) or getattr(pending, "request_token", "")


def _forget_stale(ctx: ConsoleContext) -> None:
    """Pending authorizations and notes older than 10 minutes are dropped."""
    now = time.monotonic()
    for table in (ctx._pending, ctx._notes):
        for key, entry in list(table.items()):
            if now - entry[-1] > 600:
                del table[key]


def _provider_said(error, request) -> str:
    """The provider's refusal in words (denied consent, a bad scope, a wrong secret)."""
    code = request.args.get("error")
    if code == "access_denied":
        return "Consent was denied at the provider: nothing was connected."
    if code == "invalid_scope":
        return "The provider refused the scopes asked for: " + str(error)
    return str(error)


def _get(conns, link: str):
    from flask import abort

    from connections import ConnectionsError

    try:
        return conns.get(link)
    except ConnectionsError as e:
        abort(404, str(e))


def _service_or_none(conns, name: str):
    from connections import ConnectionsError

    try:
        return conns.service(name) if name else None
    except ConnectionsError:
        return None


def _state(info, service) -> dict:
    """The status in words, why, and the action that mends it."""
    if info.status == "connected" and info.last_error:
        return {"label": "error", "why": info.last_error, "action": "connect",
                "action_label": "Reconnect"}
    if info.status == "connected":
        return {"label": "connected", "why": "", "action": None, "action_label": ""}
    if info.status == "expired":
        return {"label": "expired", "why": info.last_error or "the authorization has expired",
                "action": "connect", "action_label": "Reconnect"}
    if info.status == "revoked":
        return {"label": "revoked", "why": info.last_error or "the authorization was revoked",
                "action": "connect", "action_label": "Reconnect"}
    needs_credentials = service is not None and service.auth in ("basic", "apikey")
    return {"label": "not connected", "why": info.last_error or "not authorized yet",
            "action": "credentials" if needs_credentials else "connect",
            "action_label": "Enter credentials" if needs_credentials else "Connect"}


def _crm_snippet(link: str) -> str:
    return ('leads = zoho.crm.getRecords("Leads", 1, 200, Map(), "' + link + '");\n'
            'info leads.size();\n')


def _when(stamp: float | None) -> str:
    if not stamp:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def _ago(stamp: float | None) -> str:
    if not stamp:
        return "never"
    seconds = time.time() - stamp
    if seconds < 0:
        minutes = int(-seconds // 60)
        return f"in {minutes} min" if minutes < 120 else f"in {int(-seconds // 3600)} h"
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"
