"""A local OAuth provider and API on 127.0.0.1, for `sluice demo` and for the tests.

The provider is authlib's server side (OAuth 2.0: authorization code with PKCE, refresh with
rotation, client credentials, revocation; OAuth 1.0a: three legs, four signature methods) on a
Flask app served by werkzeug in a thread. The API beside it checks Basic credentials, API keys,
OAuth 1.0a signatures and bearer tokens, and has a small MailChimp (campaigns, audience members)
and the odd endpoints tests need (slow, huge, broken answers). Tests steer it through
`behaviour` (token lifetime, rotation, denial, slowness, failures) and read `counts`.
Nothing here is meant to face a network: it binds to 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth1 import AuthorizationServer as OAuth1Server
from authlib.integrations.flask_oauth1 import ResourceProtector as OAuth1Protector
from authlib.integrations.flask_oauth1 import current_credential
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.integrations.flask_oauth2 import current_token
from authlib.oauth1.rfc5849 import signature as oauth1_signature
from authlib.oauth1.rfc5849.models import TemporaryCredential
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, jsonify, redirect, request
from werkzeug.serving import WSGIRequestHandler, make_server

USER = "alice"

# authlib's server side announces an API change of its own (the code-challenge hook); not ours
warnings.filterwarnings("ignore", message=".*'grant' parameter will become mandatory.*")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def _verify_hmac_sha256(req) -> bool:
    if not req.client_secret:
        return False
    base = oauth1_signature.generate_signature_base_string(req)
    key = (f"{oauth1_signature.escape(req.client_secret)}&"
           f"{oauth1_signature.escape(req.token_secret or '')}")
    expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest())
    return hmac.compare_digest(expected.decode(), req.signature)


OAuth1Server.register_signature_method("HMAC-SHA256", _verify_hmac_sha256)
OAuth1Protector.register_signature_method("HMAC-SHA256", _verify_hmac_sha256)
OAUTH1_METHODS = ["HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1", "PLAINTEXT"]


@dataclass
class Client:
    client_id: str
    client_secret: str | None
    auth_methods: tuple = ("client_secret_basic", "client_secret_post", "none")
    grant_types: tuple = ("authorization_code", "refresh_token", "client_credentials")
    scope: str = "read write offline_access"

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        if not scope:
            return ""
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri.startswith("http://127.0.0.1:")

    def check_client_secret(self, client_secret):
        return self.client_secret is not None and hmac.compare_digest(self.client_secret,
                                                                      client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in self.auth_methods

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in self.grant_types


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str | None
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return None

    def get_auth_time(self):
        return None


@dataclass
class Token:
    access_token: str
    client_id: str
    scope: str
    issued_at: float
    expires_in: float | None
    refresh_token: str | None = None
    user: str | None = USER
    revoked: bool = False

    def check_client(self, client):
        return client.client_id == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in or 0

    def is_expired(self):
        return self.expires_in is not None and time.time() > self.issued_at + self.expires_in

    def is_revoked(self):
        return self.revoked

    def get_user(self):
        return self.user

    def get_client(self):
        return None


@dataclass
class Consumer:
    key: str
    secret: str | None
    rsa_public_key: str | None = None

    def get_default_redirect_uri(self):
        return None

    def get_client_secret(self):
        return self.secret or ""

    def get_rsa_public_key(self):
        return self.rsa_public_key


class TokenCredential(dict):
    def get_oauth_token(self):
        return self["oauth_token"]

    def get_oauth_token_secret(self):
        return self["oauth_token_secret"]

    def get_client_id(self):
        return self["client_id"]

    def get_user_id(self):
        return USER


@dataclass
class Behaviour:
    """What the provider does; tests change these between steps."""

    expires_in: float | None = 3600       # access token lifetime sent (None: not sent)
    rotate_refresh_tokens: bool = True    # a new refresh token on every refresh
    send_refresh_token: bool = True       # a refresh token with the first token
    deny_consent: bool = False
    token_delay: float = 0.0              # seconds the token endpoint waits before answering
    token_failures: int = 0               # the next N token requests answer 503
    gate: threading.Event | None = None   # refreshes wait here until it is set
    gate_abort: bool = False              # once the gate opens: answer 500, rotate nothing
    extra_token_fields: dict = field(default_factory=dict)


class LocalProvider:
    """The provider and the API, on one loopback port."""

    def __init__(self, extend=None):
        """`extend(app, provider)` may add routes (a fake API) before the server starts."""
        self.lock = threading.RLock()
        self.behaviour = Behaviour()
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}
        self.counts: Counter = Counter()
        self.basic_users: dict[str, str] = {}
        self.api_keys: set[str] = set()
        self.seen_headers: list[dict] = []
        self.consumers: dict[str, Consumer] = {}
        self.temporary: dict[str, TemporaryCredential] = {}
        self.oauth1_tokens: dict[str, TokenCredential] = {}
        self.nonces: set = set()
        self.campaigns: dict[str, dict] = {
            "c1": {"id": "c1", "status": "sent", "emails_sent": 1250,
                   "settings": {"title": "Autumn news", "subject_line": "What is new"}}}
        self.members: dict[str, dict] = {}
        self.summaries: list[dict] = []
        self.app = self._build()
        if extend is not None:
            extend(self.app, self)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True,
                                   request_handler=_QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.behaviour.gate is not None:
            self.behaviour.gate.set()
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ setting up

    def add_client(self, client_id: str, client_secret: str | None, **kwargs) -> Client:
        client = Client(client_id, client_secret, **kwargs)
        self.clients[client_id] = client
        return client

    def add_consumer(self, key: str, secret: str | None, rsa_public_key: str | None = None):
        self.consumers[key] = Consumer(key, secret, rsa_public_key)

    def console_code(self, client_id: str, scope: str = "") -> str:
        """An authorization code made with no browser and no redirect, as a provider's console
        makes one (Zoho's Self Client "grant token")."""
        code = "code-" + generate_token(24)
        with self.lock:
            self.codes[code] = Code(code, client_id, None, scope, None, None)
        return code

    def issue_tokens(self, client_id: str, scope: str = "") -> Token:
        """An access and a refresh token for `client_id`, as if it had been authorized."""
        saved = Token("at-" + generate_token(32), client_id, scope, time.time(),
                      self.behaviour.expires_in, "rt-" + generate_token(40))
        with self.lock:
            self.tokens[saved.access_token] = saved
            self.refresh_tokens[saved.refresh_token] = saved
        return saved

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.tokens.values():
                token.issued_at -= 10 ** 6

    def revoke_all(self) -> None:
        with self.lock:
            for token in list(self.tokens.values()):
                token.revoked = True
            self.refresh_tokens.clear()

    def live_refresh_tokens(self) -> set[str]:
        with self.lock:
            return set(self.refresh_tokens)

    def all_secrets(self) -> set[str]:
        """Every token and secret this provider handed out or knows."""
        with self.lock:
            values = set(self.tokens) | set(self.refresh_tokens) | set(self.codes)
            values |= {c.client_secret for c in self.clients.values() if c.client_secret}
            values |= {c.secret for c in self.consumers.values() if c.secret}
            values |= set(self.basic_users.values()) | set(self.api_keys)
            for t in self.oauth1_tokens.values():
                values |= {t["oauth_token"], t["oauth_token_secret"]}
            return {v for v in values if v}

    # ------------------------------------------------------------------ the app

    def _build(self) -> Flask:
        app = Flask("sluice-test-provider")
        app.json.sort_keys = False  # answers keep their order, as most APIs do
        provider = self
        server = AuthorizationServer(app, query_client=self.clients.get,
                                     save_token=self._save_token)
        server.register_token_generator("default", self._generate_token)

        class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

            def save_authorization_code(self, code, req):
                provider.codes[code] = Code(code, req.client.client_id,
                                            req.payload.redirect_uri, req.payload.scope or "",
                                            req.payload.data.get("code_challenge"),
                                            req.payload.data.get("code_challenge_method"))

            def query_authorization_code(self, code, client):
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return USER

        class RefreshTokenGrant(grants.RefreshTokenGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

            @property
            def INCLUDE_NEW_REFRESH_TOKEN(self):
                return provider.behaviour.rotate_refresh_tokens

            def authenticate_refresh_token(self, refresh_token):
                with provider.lock:
                    token = provider.refresh_tokens.get(refresh_token)
                return token if token and not token.revoked else None

            def authenticate_user(self, credential):
                return USER

            def revoke_old_credential(self, credential):
                if provider.behaviour.rotate_refresh_tokens:
                    with provider.lock:
                        provider.refresh_tokens.pop(credential.refresh_token, None)

        class ClientCredentialsGrant(grants.ClientCredentialsGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        class Revocation(RevocationEndpoint):
            CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

            def query_token(self, token_string, token_type_hint):
                with provider.lock:
                    return provider.refresh_tokens.get(token_string) or \
                        provider.tokens.get(token_string)

            def revoke_token(self, token, req):
                provider.counts["revoke"] += 1
                with provider.lock:
                    token.revoked = True
                    provider.refresh_tokens.pop(token.refresh_token, None)

        server.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=False)])
        server.register_grant(RefreshTokenGrant)
        server.register_grant(ClientCredentialsGrant)
        server.register_endpoint(Revocation)

        class Validator(BearerTokenValidator):
            def authenticate_token(self, token_string):
                with provider.lock:
                    return provider.tokens.get(token_string)

        require_bearer = ResourceProtector()
        require_bearer.register_token_validator(Validator())

        oauth1 = OAuth1Server(app, query_client=self.consumers.get)
        oauth1.SUPPORTED_SIGNATURE_METHODS = OAUTH1_METHODS
        for name, hook in self._oauth1_hooks().items():
            oauth1.register_hook(name, hook)
        require_oauth1 = OAuth1Protector(app, query_client=self.consumers.get,
                                         query_token=self._oauth1_token,
                                         exists_nonce=self._exists_nonce)
        require_oauth1.SUPPORTED_SIGNATURE_METHODS = OAUTH1_METHODS

        @app.get("/oauth2/authorize")
        @app.get("/oauth/v2/auth")  # Zoho's paths too, for the built-in zoho service
        def authorize():
            provider.counts["authorize"] += 1
            grant_user = None if provider.behaviour.deny_consent else USER
            return server.create_authorization_response(grant_user=grant_user)

        @app.post("/oauth2/token")
        @app.post("/oauth/v2/token")
        def token():
            grant_type = request.form.get("grant_type", "")
            provider.counts[grant_type] += 1
            b = provider.behaviour
            if grant_type == "refresh_token" and b.gate is not None:
                b.gate.wait(30)
                if b.gate_abort:
                    provider.counts["refresh_aborted"] += 1
                    return jsonify(error="server_error"), 500
            if b.token_delay:
                time.sleep(b.token_delay)
            with provider.lock:
                if b.token_failures > 0:
                    b.token_failures -= 1
                    return "Service Unavailable", 503
            return server.create_token_response()

        @app.post("/oauth2/revoke")
        def revoke():
            return server.create_endpoint_response(RevocationEndpoint.ENDPOINT_NAME)

        @app.get("/api/me")
        @require_bearer()
        def me():
            provider.counts["api"] += 1
            return jsonify(user=USER, client=current_token.client_id,
                           scope=current_token.scope)

        # a small MailChimp: campaigns and audience members, behind the bearer token
        @app.get("/api/3.0/campaigns/<campaign_id>")
        @require_bearer()
        def campaign(campaign_id):
            if campaign_id not in provider.campaigns:
                return jsonify(status=404, title="Resource Not Found",
                               detail=f"The campaign {campaign_id} does not exist"), 404
            return jsonify(provider.campaigns[campaign_id])

        @app.post("/api/3.0/lists/<list_id>/members")
        @require_bearer()
        def add_member(list_id):
            member = request.get_json(silent=True) or {}
            email = member.get("email_address", "")
            members = provider.members.setdefault(list_id, {})
            if email in members:
                return jsonify(status=400, title="Member Exists",
                               detail=f"{email} is already a list member"), 400
            members[email] = dict(member, id=hashlib.md5(email.encode()).hexdigest(),
                                  list_id=list_id)
            return jsonify(members[email])

        @app.post("/api/3.0/summaries")
        @require_bearer()
        def post_summary():
            summary = request.get_json(silent=True)
            if not isinstance(summary, dict):
                return jsonify(status=400, title="Invalid Resource"), 400
            with provider.lock:
                provider.summaries.append(summary)
            return jsonify(dict(summary, received=len(provider.summaries))), 201

        @app.get("/api/me-query")
        def me_query():
            with provider.lock:
                found = provider.tokens.get(request.args.get("access_token", ""))
            if not found or found.is_expired() or found.revoked:
                return jsonify(error="invalid_token"), 401
            return jsonify(user=USER)

        @app.route("/api/basic", methods=["GET", "POST"])
        def basic():
            auth = request.authorization
            if not auth or provider.basic_users.get(auth.username) != auth.password:
                return jsonify(error="unauthorized"), 401, {"WWW-Authenticate": "Basic"}
            return jsonify(user=auth.username)

        @app.get("/api/key")
        def key():
            given = request.headers.get("X-API-Key") or request.args.get("api_key") or ""
            auth = request.authorization
            if auth is not None and auth.type == "basic":
                given = auth.password or auth.username or ""
            if given not in provider.api_keys:
                return jsonify(error="bad key"), 401
            return jsonify(ok=True)

        @app.route("/api/oauth1/me", methods=["GET", "POST"])
        @require_oauth1()
        def oauth1_me():
            return jsonify(user=USER, consumer=current_credential["client_id"])

        @app.route("/api/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        def echo():
            files = {k: [f.filename, f.read().decode("utf-8", "replace"), f.mimetype]
                     for k, f in request.files.items()}
            return jsonify(method=request.method, args=request.args.to_dict(),
                           form=request.form.to_dict(), json=request.get_json(silent=True),
                           body=request.get_data(as_text=True) if not files else "",
                           content_type=request.content_type, files=files,
                           header=request.headers.get("X-Test"))

        @app.route("/api/echo-auth", methods=["GET", "POST"])
        def echo_auth():  # a careless API that repeats the caller's credentials
            return jsonify(authorization=request.headers.get("Authorization"),
                           key=request.headers.get("X-API-Key"), query=request.args.to_dict()), \
                200, {"X-Echo": request.headers.get("Authorization", "")}

        @app.get("/api/status/<int:code>")
        def status(code):
            return jsonify(error={"code": code, "message": "as asked"}), code

        @app.get("/api/text")
        def text():
            return "plain words", 200, {"Content-Type": "text/plain; charset=utf-8"}

        @app.get("/api/latin1")
        def latin1():
            return "caf\u00e9".encode("latin-1"), 200, {"Content-Type":
                                                        "text/plain; charset=iso-8859-1"}

        @app.get("/api/array")
        def array():
            return jsonify([1, "two", {"three": 3}])

        @app.get("/api/badjson")
        def badjson():
            return '{"unfinished": ', 200, {"Content-Type": "application/json"}

        @app.get("/api/deepjson")
        def deepjson():
            return "[" * 100000 + "]" * 100000, 200, {"Content-Type": "application/json"}

        @app.get("/api/file")
        def file():
            return b"%PDF-1.4 binary\x00\x01", 200, {
                "Content-Type": "application/pdf",
                "Content-Disposition": 'attachment; filename="report.pdf"'}

        @app.get("/api/slow")
        def slow():
            time.sleep(float(request.args.get("s", "1")))
            return jsonify(slow=True)

        @app.route("/api/headers", methods=["GET", "POST"])
        def headers():
            provider.seen_headers.append(dict(request.headers))
            return jsonify(names=sorted(request.headers.keys()))

        @app.route("/api/redirect", methods=["GET", "POST"])
        def go_elsewhere():
            return redirect(request.args["to"], code=int(request.args.get("code", 302)))

        @app.get("/api/big")
        def big():
            return "x" * int(request.args.get("n", "1000"))

        @app.post("/oauth1/request_token")
        def request_token():
            provider.counts["oauth1_request_token"] += 1
            return oauth1.create_temporary_credentials_response()

        @app.get("/oauth1/authorize")
        def oauth1_authorize():
            oauth1.check_authorization_request()
            grant_user = None if provider.behaviour.deny_consent else USER
            return oauth1.create_authorization_response(grant_user=grant_user)

        @app.post("/oauth1/access_token")
        def access_token():
            provider.counts["oauth1_access_token"] += 1
            return oauth1.create_token_response()

        return app

    # ------------------------------------------------------------------ OAuth 2.0 internals

    def _generate_token(self, grant_type, client, user=None, scope=None, expires_in=None,
                        include_refresh_token=True):
        b = self.behaviour
        token = {"token_type": "Bearer", "access_token": "at-" + generate_token(32)}
        if b.expires_in is not None:
            token["expires_in"] = b.expires_in
        if scope:
            token["scope"] = scope
        wants_refresh = grant_type != "client_credentials" and include_refresh_token and (
            grant_type != "authorization_code" or b.send_refresh_token)
        if wants_refresh:
            token["refresh_token"] = "rt-" + generate_token(40)
        token.update(b.extra_token_fields)
        return token

    def _save_token(self, token: dict, req) -> None:
        old = getattr(req, "refresh_token", None)
        refresh = token.get("refresh_token") or (old.refresh_token if old is not None and
                                                 not self.behaviour.rotate_refresh_tokens
                                                 else None)
        saved = Token(token["access_token"], req.client.client_id, token.get("scope", ""),
                      time.time(), token.get("expires_in"), refresh)
        with self.lock:
            self.tokens[saved.access_token] = saved
            if refresh:
                self.refresh_tokens[refresh] = saved

    # ------------------------------------------------------------------ OAuth 1.0a internals

    def _oauth1_hooks(self) -> dict:
        provider = self

        def create_temporary_credential(token, client_id, redirect_uri):
            credential = TemporaryCredential(token, client_id=client_id,
                                             oauth_callback=redirect_uri)
            provider.temporary[token["oauth_token"]] = credential
            return credential

        def create_authorization_verifier(credential, grant_user, verifier):
            credential["oauth_verifier"] = verifier
            credential["user_id"] = grant_user

        def create_token_credential(token, temporary_credential):
            credential = TokenCredential(token, client_id=temporary_credential.get_client_id())
            provider.oauth1_tokens[token["oauth_token"]] = credential
            return credential

        return {
            "exists_nonce": self._exists_nonce,
            "create_temporary_credential": create_temporary_credential,
            "get_temporary_credential": lambda token: provider.temporary.get(token),
            "delete_temporary_credential": lambda token: provider.temporary.pop(token, None),
            "create_authorization_verifier": create_authorization_verifier,
            "create_token_credential": create_token_credential,
        }

    def _exists_nonce(self, nonce, timestamp, client_id, token) -> bool:
        key = (nonce, timestamp, client_id, token)
        with self.lock:
            if key in self.nonces:
                return True
            self.nonces.add(key)
            return False

    def _oauth1_token(self, client_id, oauth_token):
        found = self.oauth1_tokens.get(oauth_token)
        return found if found and found["client_id"] == client_id else None
