"""Services and connections as plain values.

A *service* says how to authenticate with a provider: its auth type, endpoints, scopes and quirks.
It is built in (connections/catalog/services.toml) or custom (added by an admin, kept in the
store). A *connection* is one authorized use of a service under a link name, the lowercase
identifier scripts name in `invokeurl [ ... connection: "link" ]`.

URLs may hold placeholders such as `{dc}`, `{shop}` or `{tenant}`, filled per connection from its
parameters (`--param dc=us6`), from the service's defaults, or from fields of the token answer
(`instance_url`, `api_domain`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import InvalidDefinition

AUTH_TYPES = ("oauth2", "oauth1", "basic", "apikey")
GRANTS = ("authorization_code", "client_credentials")
CLIENT_AUTH = ("basic", "body")
SIGNATURE_METHODS = ("HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1", "PLAINTEXT")
KEY_PLACES = ("header", "query", "basic")
TOKEN_PLACES = ("header", "query")

NOT_CONNECTED, CONNECTED, EXPIRED, REVOKED = "not connected", "connected", "expired", "revoked"

LINK_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}\Z")
SERVICE_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}\Z")
ALLOWED_HOST = re.compile(r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?\Z")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

URL_FIELDS = ("authorize_url", "token_url", "refresh_url", "revoke_url", "request_token_url",
              "access_token_url", "api_base_url", "check_url")


@dataclass(frozen=True)
class Service:
    name: str
    auth: str
    title: str = ""
    builtin: bool = False
    aliases: tuple[str, ...] = ()
    client_id: str | None = None
    # OAuth 2.0
    authorize_url: str | None = None
    token_url: str | None = None
    refresh_url: str | None = None
    revoke_url: str | None = None
    grant: str = "authorization_code"
    scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    authorize_params: dict = field(default_factory=dict)
    token_params: dict = field(default_factory=dict)
    token_headers: dict = field(default_factory=dict)
    client_auth: str = "basic"  # RFC 6749 2.3.1: every server must take the Basic header
    pkce: bool = True
    token_in: str = "header"
    token_name: str = "Authorization"
    token_prefix: str = "Bearer"
    token_fields: tuple[str, ...] = ()
    # OAuth 1.0a (authorize_url is shared with OAuth 2.0)
    request_token_url: str | None = None
    access_token_url: str | None = None
    signature_method: str = "HMAC-SHA1"
    request_token_params: dict = field(default_factory=dict)
    # API key
    key_in: str = "header"
    key_name: str = "X-API-Key"
    key_prefix: str = ""
    # all
    api_base_url: str | None = None
    # hosts beyond those of the URLs above to which its credentials may go ("*.example.com")
    allowed_hosts: tuple[str, ...] = ()
    check_url: str | None = None
    defaults: dict = field(default_factory=dict)
    notes: str = ""

    @classmethod
    def from_dict(cls, data: dict, *, builtin: bool = False) -> "Service":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        name = data.get("name", "?")
        if unknown:
            raise InvalidDefinition(f"service {name}: unknown field(s) {', '.join(unknown)}")
        values = dict(data, builtin=builtin)
        for key in ("aliases", "scopes", "token_fields", "allowed_hosts"):
            if key in values:
                values[key] = tuple(values[key])
        for key in ("authorize_params", "token_params", "token_headers",
                    "request_token_params", "defaults"):
            if key in values:
                values[key] = {str(k): str(v) for k, v in dict(values[key]).items()}
        service = cls(**values)
        service.validate()
        return service

    def to_dict(self) -> dict:
        """The definition as JSON-ready data, leaving out what equals the default."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING \
                else f.default
            if f.name in ("name", "auth") or value != default:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        out.pop("builtin", None)
        return out

    def validate(self) -> None:
        def bad(message):
            raise InvalidDefinition(f"service {self.name}: {message}")

        if not SERVICE_NAME.match(self.name or ""):
            bad("a service name is lowercase letters, digits and _ (starting with a letter)")
        if self.auth not in AUTH_TYPES:
            bad(f"auth is {self.auth!r}, want one of {', '.join(AUTH_TYPES)}")
        for name in URL_FIELDS:
            url = getattr(self, name)
            if url is None:
                continue
            probe = PLACEHOLDER.sub("x", url)
            if probe.startswith("x/") or probe == "x":  # "{instance_url}/services/..."
                continue
            parts = urlsplit(probe)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                bad(f"{name} {url!r} is not an http(s) URL")
        if self.auth == "oauth2":
            if self.grant not in GRANTS:
                bad(f"grant is {self.grant!r}, want one of {', '.join(GRANTS)}")
            if not self.token_url:
                bad("an OAuth 2.0 service needs a token URL")
            if self.grant == "authorization_code" and not self.authorize_url:
                bad("the authorization code grant needs an authorize URL")
            if self.client_auth not in CLIENT_AUTH:
                bad(f"client_auth is {self.client_auth!r}, want basic or body")
            if self.token_in not in TOKEN_PLACES:
                bad(f"token_in is {self.token_in!r}, want header or query")
        elif self.auth == "oauth1":
            for name in ("request_token_url", "authorize_url", "access_token_url"):
                if not getattr(self, name):
                    bad(f"an OAuth 1.0a service needs {name.replace('_', ' ')}")
            if self.signature_method not in SIGNATURE_METHODS:
                bad(f"signature method {self.signature_method!r}, want one of "
                    f"{', '.join(SIGNATURE_METHODS)}")
        elif self.auth == "apikey":
            if self.key_in not in KEY_PLACES:
                bad(f"key_in is {self.key_in!r}, want header, query or basic")
            if self.key_in != "basic" and not self.key_name:
                bad("an API key service needs the name of its header or query parameter")
        if not self.scope_separator:
            bad("the scope separator is empty")
        for host in self.allowed_hosts:
            if not ALLOWED_HOST.match(host or ""):
                bad(f"allowed host {host!r}: want a host name, *.domain, or host:port")

    @property
    def refresh_endpoint(self) -> str | None:
        return self.refresh_url or self.token_url

    @property
    def placeholders(self) -> list[str]:
        """Names of the placeholders in its URLs, in order of first use."""
        seen: dict[str, None] = {}
        for name in URL_FIELDS:
            for found in PLACEHOLDER.findall(getattr(self, name) or ""):
                seen.setdefault(found, None)
        return list(seen)

    @property
    def needs_browser(self) -> bool:
        return self.auth == "oauth1" or (self.auth == "oauth2"
                                         and self.grant == "authorization_code")

    def allows_host(self, host: str, port: int | None) -> bool:
        """Whether `allowed_hosts` lets credentials go to `host` (any scheme)."""
        host = host.lower()
        for entry in self.allowed_hosts:
            name, _, wanted_port = entry.lower().partition(":")
            if wanted_port and int(wanted_port) != port:
                continue
            if name == host or (name.startswith("*.") and host.endswith(name[1:])):
                return True
        return False

    def matches(self, text: str) -> bool:
        text = text.lower()
        return any(text in s.lower() for s in (self.name, self.title, *self.aliases))


def fill(url: str | None, values: dict) -> str | None:
    """`url` with its placeholders filled from `values`; a missing value is an error."""
    if url is None:
        return None

    def one(m):
        key = m.group(1)
        if key not in values or values[key] in (None, ""):
            raise InvalidDefinition(f"the URL {url} needs a value for {{{key}}}: give it with "
                                    f"--param {key}=VALUE")
        return str(values[key])

    return PLACEHOLDER.sub(one, url)


@dataclass(frozen=True)
class ConnectionInfo:
    """What anyone may see of a connection: everything but its secrets."""

    link_name: str
    display_name: str
    service: str
    auth: str
    status: str
    scopes: tuple[str, ...]
    params: dict
    created_at: float
    updated_at: float
    last_used_at: float | None = None
    expires_at: float | None = None
    last_error: str | None = None
    has_refresh_token: bool = False
    client_id: str | None = None

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["scopes"] = list(self.scopes)
        for key in ("created_at", "updated_at", "last_used_at", "expires_at"):
            out[key] = iso_time(out[key])
        return out


def iso_time(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    from datetime import datetime, timezone

    return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="seconds")
