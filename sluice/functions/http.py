"""The route of published functions on `sluice serve`:

    GET|POST /functions/<name>/execute     ?zapikey=KEY  or  X-API-Key: KEY  or the runner token
    GET|POST /functions/<name>/actions/execute       the same, at the path Zoho's URLs have

Arguments come from the query string, a form body, a JSON object body, and one `arguments`
parameter holding a JSON object (Zoho's callers send `arguments={"id": "7"}`); later sources
win: query, then body, then `arguments`. `zapikey` and `auth_type` are not arguments.

Who may call: the function's own key, or `Authorization: Bearer $SLUICE_RUNNER_TOKEN` (for any
function). No credentials or a key of no function: 401; the key of another function: 403;
no such function: 404 (with a key of no function a caller learns nothing: 401 comes first).

A call answers 200 with the function's output; 400 when the arguments do not fit; 429 when
the function already runs as many calls as it may, or the server MAX_CALLS calls of all
functions (`Retry-After: 1`); 500 with the script's error (message and line); 504 past its time
limit. A function with a `crmAPIRequest` parameter gets the request itself (params, headers
without credentials, body, method); one that returns `{"crmAPIResponse": {"status_code": 201,
"body": ...}}` answers with that instead of the usual shape. Each call is a run of kind
`function` in the run history, with its arguments, output, info lines, error and duration.
"""

from __future__ import annotations

import hmac
import json
import threading

from .calls import BadArguments, Runner, answer, failure, prepare, runnable_file
from .store import FunctionsError, FunctionStore

KEY_HEADER = "X-API-Key"
# Calls of all functions that may wait for their answers at once. A waiting call holds one of
# the server's HTTP threads, so the server has this many more than it needs for the rest:
# slow functions never leave events, runs or health without a thread.
MAX_CALLS = 24


class FunctionCalls:
    """The published functions as the server sees them: the store, a cache of their prepared
    entries, the concurrency slots of each, and the runner."""

    def __init__(self, server):
        self.server = server  # the events server's App: home, runs, executor, secrets
        self.functions = FunctionStore.open(server.home)
        self.runner = Runner(server.store, server.pool)
        self._entries: dict[str, tuple[float, object, str]] = {}
        self._busy: dict[str, int] = {}
        self._in_flight = 0
        self._lock = threading.Lock()

    def close(self) -> None:
        self.runner.close()
        self.functions.close()

    def entry(self, function):
        """(Entry, runnable file) of a published function, prepared once per publication."""
        cached = self._entries.get(function.name)
        if cached is not None and cached[0] == function.published_at:
            return cached[1], cached[2]
        entry = prepare(function.source, function.entry, function.script_path)
        path = str(runnable_file(self.server.home, function.name, entry.source))
        self._entries[function.name] = (function.published_at, entry, path)
        return entry, path

    def take_slot(self, name: str, cap: int) -> str | None:
        """None when the call may run; else what is full ("function" or "server")."""
        with self._lock:
            busy = self._busy.get(name, 0)
            if busy >= cap:
                return "function"
            if self._in_flight >= MAX_CALLS:
                return "server"
            self._busy[name] = busy + 1
            self._in_flight += 1
            return None

    def give_slot(self, name: str) -> None:
        with self._lock:
            self._busy[name] -= 1
            self._in_flight -= 1

    def runs(self):
        return self.server.store


def arguments_of(request, raw_body_ok: bool = False) -> dict:
    """The caller's arguments; BadArguments when a body or `arguments` is not what it says.
    `raw_body_ok`: a body that is not a JSON object is no error (a function that reads the
    request gets it whole: a CSV, XML, text)."""
    found: dict = {}
    for key in request.args:
        found[key] = request.args.get(key)
    if request.method == "POST":
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key in request.form:
                found[key] = request.form.get(key)
        else:
            body = request.get_data(cache=True)
            if body.strip():
                try:
                    data = json.loads(body)
                except (ValueError, RecursionError):
                    if not raw_body_ok:
                        raise BadArguments("the body is not JSON (send a JSON object, a form, "
                                           "or the arguments in the query string)") from None
                    data = {}
                if not isinstance(data, dict):
                    if not raw_body_ok:
                        raise BadArguments("the JSON body must be an object of arguments")
                    data = {}
                found.update(data)
    packed = found.pop("arguments", None)
    if packed is not None:
        if isinstance(packed, str):
            try:
                packed = json.loads(packed) if packed.strip() else {}
            except (ValueError, RecursionError):
                raise BadArguments("'arguments' is not JSON: send a JSON object, as "
                                   'arguments={"name": "value"}') from None
        if not isinstance(packed, dict):
            raise BadArguments("'arguments' must hold a JSON object, as "
                               'arguments={"name": "value"}')
        found.update(packed)
    return found


HIDDEN_HEADERS = ("authorization", "x-api-key", "cookie", "proxy-authorization")


def request_of(request, key: str | None) -> dict:
    """The request as a function's crmAPIRequest sees it: what was sent, without the key or
    any other credential."""
    params = {k: request.args.get(k) for k in request.args}
    body = ""
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        params.update({k: request.form.get(k) for k in request.form})
    else:
        body = request.get_data(cache=True).decode("utf-8", "replace")
    for name in ("zapikey", "auth_type"):
        params.pop(name, None)
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HIDDEN_HEADERS}
    return {"params": params, "headers": headers, "body": body, "method": request.method,
            "auth_type": "apikey" if key else "token", "user_info": {}}


def register(server, app) -> FunctionCalls:
    """Add the functions route to the server's Flask app; the caller closes what it returns."""
    from flask import jsonify, request

    calls = FunctionCalls(server)

    def reply(status: int, body: dict, headers: dict | None = None):
        response = jsonify(body)
        response.status_code = status
        for k, v in (headers or {}).items():
            response.headers[k] = v
        response.headers["Cache-Control"] = "no-store"
        return response

    def refuse(status: int, code: str, message: str, **details):
        headers = {"WWW-Authenticate": f'ApiKey realm="sluice", header="{KEY_HEADER}"'} \
            if status == 401 else None
        return reply(status, failure(code, message, **details), headers)

    @app.route("/functions/<name>/execute", methods=["GET", "POST"])
    @app.route("/functions/<name>/actions/execute", methods=["GET", "POST"])  # Zoho's path
    def execute_function(name):
        if request.method == "HEAD":  # Flask adds HEAD to GET: a look must not run anything
            return reply(405, failure("METHOD_NOT_ALLOWED", "call it with GET or POST"),
                         {"Allow": "GET, POST"})
        key = request.args.get("zapikey") or request.headers.get(KEY_HEADER)
        if not key and request.mimetype == "application/x-www-form-urlencoded":
            key = request.form.get("zapikey")
        if runner_token(request, server.secrets.runner):
            pass
        elif key:
            owner = calls.functions.owner_of_key(key)
            if owner is None:
                return refuse(401, "INVALID_API_KEY", "the API key is wrong or was rotated")
            if owner != name:
                if calls.functions.get(name) is None:
                    return refuse(404, "NOT_FOUND", f"no published function '{name}'")
                return refuse(403, "NO_PERMISSION",
                              f"this API key is not the key of the function '{name}'")
        else:
            return refuse(401, "AUTHENTICATION_FAILURE",
                          f"send the function's API key (?zapikey=KEY or a {KEY_HEADER} "
                          "header)")
        function = calls.functions.get(name)
        if function is None:
            return refuse(404, "NOT_FOUND", f"no published function '{name}'")
        try:
            entry, script = calls.entry(function)
        except FunctionsError as e:  # the published text no longer runs here (a new Sluice)
            return refuse(500, "FUNCTION_ERROR", str(e))
        try:
            arguments = entry.bind(arguments_of(request, entry.wants_request),
                                   request_of(request, key) if entry.wants_request else None)
        except BadArguments as e:
            return refuse(400, "INVALID_ARGUMENTS", e.message, **e.details)
        full = calls.take_slot(name, function.concurrency)
        if full == "function":
            return reply(429, failure("TOO_MANY_REQUESTS",
                                      f"'{name}' already runs {function.concurrency} call(s), "
                                      "its most at once: try again shortly",
                                      limit=function.concurrency), {"Retry-After": "1"})
        if full == "server":
            return reply(429, failure("TOO_MANY_REQUESTS",
                                      f"the server already runs {MAX_CALLS} function calls, "
                                      "its most at once: try again shortly",
                                      limit=MAX_CALLS), {"Retry-After": "1"})
        try:
            run = calls.runs().new_call(name, script, arguments, _limits(function.limits),
                                        list(function.connections)
                                        if function.connections is not None else None)
            outcome = calls.runner.run_now(run)
        finally:
            calls.give_slot(name)
        own = own_response(outcome.value) if outcome.status == "done" else None
        if own is not None:
            return own
        status, body = answer(outcome, run.id)
        return reply(status, body)

    return calls


def runner_token(request, expected: str | None) -> bool:
    """Whether the request carries `Authorization: Bearer <the runner token>` (or Zoho's
    `Zoho-oauthtoken <token>`)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return bool(expected) and scheme.lower() in ("bearer", "zoho-oauthtoken") and \
        bool(token) and hmac.compare_digest(token.encode(), expected.encode())


RESPONSE_KEY = "crmAPIResponse"
UNSETTABLE_HEADERS = ("content-length", "transfer-encoding", "connection", "set-cookie")


def own_response(value):
    """A function that returns {"crmAPIResponse": {"status_code", "body", "Content-Type",
    "headers"}} answers with that, as Zoho's serverless functions may; None otherwise."""
    from flask import Response

    if not isinstance(value, dict) or set(value) != {RESPONSE_KEY} or \
            not isinstance(value[RESPONSE_KEY], dict):
        return None
    spec = value[RESPONSE_KEY]
    try:
        status = int(spec.get("status_code", 200))
    except (TypeError, ValueError):
        status = 200
    if not 200 <= status <= 599:
        status = 200
    body = spec.get("body", "")
    content_type = spec.get("Content-Type") or spec.get("content_type")
    if isinstance(body, (dict, list)):
        text = json.dumps(body, ensure_ascii=False)
        content_type = content_type or "application/json"
    else:
        text = "" if body is None else str(body)
        content_type = content_type or "text/plain; charset=utf-8"
    response = Response(text, status=status, content_type=str(content_type))
    headers = spec.get("headers")
    for k, v in (headers.items() if isinstance(headers, dict) else ()):
        if str(k).lower() not in UNSETTABLE_HEADERS and "\n" not in f"{k}{v}" and \
                "\r" not in f"{k}{v}":
            response.headers[str(k)] = str(v)
    response.headers["Cache-Control"] = "no-store"
    return response


def _limits(published: dict) -> dict:
    import runtime

    return runtime.Limits(**published).as_dict()


def call_url(base: str, name: str) -> str:
    return f"{base.rstrip('/')}/functions/{name}/execute"


def curl_example(base: str, name: str, params: list[str]) -> str:
    """How a caller calls it: the key in the query string, the arguments as one JSON object."""
    from .calls import REQUEST_PARAMETER

    sample = json.dumps({p: "..." for p in params if p != REQUEST_PARAMETER})
    return (f'curl -X POST "{call_url(base, name)}?auth_type=apikey&zapikey=$KEY" '
            f"--data-urlencode 'arguments={sample}'")

