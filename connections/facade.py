"""`Connections`: the one object a program (or the runtime, through sluice) talks to.

    conns = Connections(Store.open())
    conns.create("crm", "zoho", client_id=..., client_secret=...)
    ... authorize (flows.py, or `sluice connections connect crm`) ...
    conns.request("crm", "GET", "https://www.zohoapis.com/crm/v8/Leads").json()

Everything it returns or raises is safe to show: `get` and `list` give ConnectionInfo (no secret),
errors are the typed ones of errors.py with the secrets taken out.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from . import catalog
from .errors import (AuthFailed, ConnectionExpired, ConnectionsError, ForeignHost,
                     InvalidDefinition,
                     SecretKeyError, UnknownConnection, UnknownService, reconnect_hint)
from .model import (CONNECTED, EXPIRED, LINK_NAME, NOT_CONNECTED, REVOKED, ConnectionInfo,
                    Service, fill)
from .store import ConnectionRow, Store
from .tokens import Renewal, TokenKeeper, is_due, not_connected

if TYPE_CHECKING:
    import requests

    from .auth import oauth2
    from .http import HttpClient

# How often at most `last used` is written for one connection (a write per call would be waste).
TOUCH_EVERY = 60.0


@dataclass(frozen=True)
class TestResult:
    ok: bool
    message: str
    status_code: int | None = None


class Connections:
    def __init__(self, store: Store | None = None, *, http: HttpClient | None = None,
                 clock=time.time, sleep=time.sleep, lease_seconds: float = 90.0):
        self.store = store if store is not None else Store.open()
        self._http = http
        self.clock = clock
        self.tokens = TokenKeeper(self.store, lambda: self.http.session, clock=clock,
                                  sleep=sleep, lease_seconds=lease_seconds)
        self._touched: dict[str, float] = {}
        self._origins: dict[tuple, tuple] = {}
        self._service_cache: dict[str, Service] = {}
        self._touch_guard = threading.Lock()

    @property
    def http(self) -> "HttpClient":
        """The HTTP client, made on first use (listing connections needs none)."""
        if self._http is None:
            from .http import HttpClient

            self._http = HttpClient()
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ services

    def services(self, search: str | None = None) -> list[Service]:
        """Built-in services, then custom ones; only those matching `search` when given."""
        found = list(catalog.builtin_services().values()) + self._custom_services()
        return [s for s in found if not search or s.matches(search)]

    def _custom_services(self) -> list[Service]:
        return [self._parsed(d) for d in self.store.custom_services()]

    def _parsed(self, definition: str) -> Service:
        """A custom service from its stored JSON, parsed once per text (calls look services up
        all the time; the store stays the source of truth)."""
        service = self._service_cache.get(definition)
        if service is None:
            service = Service.from_dict(json.loads(definition))
            self._service_cache[definition] = service
        return service

    def service(self, name: str) -> Service:
        wanted = name.lower()
        definition = self.store.custom_service(wanted)
        if definition is not None:
            return self._parsed(definition)
        found = catalog.find_builtin(wanted)
        if found is None:
            raise UnknownService(f"no service named {name}: see `sluice connections services`")
        return found

    def add_service(self, service: Service, *, client_secret: str | None = None,
                    rsa_key: str | None = None, replace: bool = False) -> Service:
        service.validate()
        if catalog.find_builtin(service.name):
            raise InvalidDefinition(f"{service.name} is a built-in service: give yours another "
                                    "name")
        exists = any(s.name == service.name for s in self._custom_services())
        if exists and not replace:
            raise InvalidDefinition(f"a custom service named {service.name} already exists")
        secrets = {k: v for k, v in (("client_secret", client_secret), ("rsa_key", rsa_key)) if v}
        self.store.save_service(service.to_dict(), secrets)
        return service

    def remove_service(self, name: str) -> None:
        users = self.store.connections_of(name)
        if users:
            raise InvalidDefinition(f"service {name} is used by {', '.join(users)}: delete "
                                    "those connections first")
        if not self.store.delete_service(name):
            raise UnknownService(f"no custom service named {name}")

    # ------------------------------------------------------------------ connections

    def create(self, link: str, service: str, *, display_name: str | None = None,
               scopes=None, params: dict | None = None, client_id: str | None = None,
               client_secret: str | None = None, username: str | None = None,
               password: str | None = None, api_key: str | None = None) -> ConnectionInfo:
        """A new connection. Basic and API-key connections given their credentials are
        connected at once; OAuth ones wait for `connect`."""
        if not LINK_NAME.match(link or ""):
            raise InvalidDefinition(f"link name {link!r}: use lowercase letters, digits and _, "
                                    "starting with a letter (at most 50)")
        svc = self.service(service)
        params = {str(k): str(v) for k, v in (params or {}).items()}
        missing = [p for p in svc.placeholders
                   if p not in params and p not in svc.defaults and p not in svc.token_fields]
        if missing:
            raise InvalidDefinition(f"service {svc.name} needs " + ", ".join(
                f"--param {p}=VALUE" for p in missing))
        secrets: dict = {}
        if client_secret:
            secrets["client_secret"] = client_secret
        status = NOT_CONNECTED
        if svc.auth == "basic":
            if username is not None or password is not None:
                secrets.update(username=username or "", password=password or "")
                status = CONNECTED
        elif svc.auth == "apikey":
            if api_key:
                secrets["api_key"] = api_key
                status = CONNECTED
        elif username or password or api_key:
            raise InvalidDefinition(f"service {svc.name} uses {svc.auth}: a user name, password "
                                    "or API key has no place in it")
        now = self.clock()
        row = ConnectionRow(link_name=link, display_name=display_name or link,
                            service=svc.name, client_id=client_id,
                            scopes=tuple(scopes) if scopes else svc.scopes, params=params,
                            status=status, created_at=now, updated_at=now)
        self.store.insert(row, secrets)
        return self.get(link)

    def get(self, link: str) -> ConnectionInfo:
        return self._info(self._row(link))

    def list(self) -> list[ConnectionInfo]:
        return [self._info(r) for r in self.store.connections()]

    def delete(self, link: str) -> None:
        if not self.store.delete(link):
            raise UnknownConnection(f"no connection named {link}", link=link)

    def _row(self, link: str) -> ConnectionRow:
        row = self.store.connection(link)
        if row is None:
            known = [r.link_name for r in self.store.connections()]
            hint = _did_you_mean(link, known)
            raise UnknownConnection(f"no connection named {link!r}{hint}", link=link)
        return row

    def _info(self, row: ConnectionRow) -> ConnectionInfo:
        try:
            auth = self.service(row.service).auth
        except UnknownService:
            auth = "?"
        has_refresh = False
        if row.sealed is not None and self.store.key_problem is None:
            try:
                has_refresh = bool(self.store.secrets(row).get("refresh_token"))
            except SecretKeyError:
                pass
        status, last_error = row.status, row.last_error
        if status.startswith("error") or last_error:
            # stored masked already; masked again for rows written by an older Sluice
            mask = self.store.masker(row.link_name)
            status, last_error = mask(status), last_error and mask(last_error)
        return ConnectionInfo(
            link_name=row.link_name, display_name=row.display_name, service=row.service,
            auth=auth, status=status, scopes=row.scopes, params=row.params,
            created_at=row.created_at, updated_at=row.updated_at,
            last_used_at=row.last_used_at, expires_at=row.expires_at,
            last_error=last_error, has_refresh_token=has_refresh, client_id=row.client_id)

    def snippet(self, link: str) -> str:
        """The invokeurl code a script uses with this connection, as Zoho shows it."""
        row = self._row(link)
        service = self.service(row.service)
        url = service.check_url or service.api_base_url or "https://"
        try:
            url = fill(url, self._values(row, service))
        except InvalidDefinition:
            pass
        return ("response = invokeurl\n[\n"
                f'    url: "{url}"\n'
                "    type: GET\n"
                f'    connection: "{row.link_name}"\n'
                "];\ninfo response;\n")

    # ------------------------------------------------------------------ pieces of a connection

    def _values(self, row: ConnectionRow, service: Service) -> dict:
        return dict(service.defaults, **row.params)

    def _client(self, row: ConnectionRow, service: Service, secrets: dict):
        from .auth import oauth1, oauth2

        client_id = row.client_id or service.client_id
        if not client_id:
            raise InvalidDefinition(
                f"connection {row.link_name}: service {service.name} needs your app's client id "
                f"and secret: sluice connections create {row.link_name} --service "
                f"{service.name} --client-id ID --client-secret-env VAR (after deleting it), or "
                "a custom service with them (sluice connections add-service)")
        client_secret = secrets.get("client_secret")
        rsa_key = None
        if client_secret is None or service.auth == "oauth1":
            service_secrets = self.store.service_secrets(service.name) if not service.builtin \
                else {}
            if client_secret is None:
                client_secret = service_secrets.get("client_secret")
            rsa_key = secrets.get("rsa_key") or service_secrets.get("rsa_key")
        if service.auth == "oauth1":
            return oauth1.Consumer(key=client_id, secret=client_secret, rsa_key=rsa_key,
                                   signature_method=service.signature_method)
        return oauth2.ClientCredentials(client_id=client_id, client_secret=client_secret)

    def _endpoints(self, row: ConnectionRow, service: Service) -> "oauth2.Endpoints":
        from .auth import oauth2

        values = self._values(row, service)
        token_url = fill(service.token_url, values)
        return oauth2.Endpoints(
            authorize_url=fill(service.authorize_url, values), token_url=token_url,
            refresh_url=fill(service.refresh_url, values) if service.refresh_url else token_url,
            revoke_url=fill(service.revoke_url, values))

    def _oauth1_urls(self, row: ConnectionRow, service: Service) -> dict:
        values = self._values(row, service)
        return {k: fill(getattr(service, k), values)
                for k in ("request_token_url", "authorize_url", "access_token_url")}

    def _renewal(self, row: ConnectionRow, service: Service, secrets: dict) -> Renewal:
        return Renewal(service=service, endpoints=self._endpoints(row, service),
                       client=self._client(row, service, secrets), scopes=row.scopes)

    def _secrets(self, row: ConnectionRow) -> dict:
        from .secrets import DamagedSecrets

        try:
            return self.store.secrets(row)
        except SecretKeyError as e:
            if isinstance(e, DamagedSecrets):
                # the row's own blob is bad; a wrong or stale key is this process's problem,
                # and must not mark a connection that works for everyone else
                self.store.update(row.link_name, status="error: its secrets cannot be decrypted",
                                  last_error=str(e))
            raise SecretKeyError(f"connection {row.link_name}: {e}", link=row.link_name) from None

    # ------------------------------------------------------------------ using a connection

    def auth(self, link: str):
        """A requests auth callable for `link`, with a token fresh enough to use now."""
        row = self._row(link)
        service = self.service(row.service)
        return self._auth(row, service, self._secrets(row))[0]

    def _auth(self, row: ConnectionRow, service: Service, secrets: dict):
        """(auth callable, row, secrets it came from). Renews an OAuth 2.0 token that is due."""
        from .auth import apikey, basic, oauth1, oauth2

        link = row.link_name
        if row.status == REVOKED:
            raise not_connected(link, "revoked")
        if row.status == EXPIRED:
            reason = row.last_error or "the provider refused its grant"
            raise ConnectionExpired(f"connection {link} has expired ({reason}); "
                                    f"{reconnect_hint(link)}", link=link)
        if service.auth == "basic":
            return basic.basic_auth(link, secrets), row, secrets
        if service.auth == "apikey":
            return apikey.api_key_auth(link, service, secrets), row, secrets
        if service.auth == "oauth1":
            if not secrets.get("oauth_token"):
                raise not_connected(link, "not connected")
            consumer = self._client(row, service, secrets)
            return oauth1.signer(consumer, secrets["oauth_token"],
                                 secrets.get("oauth_token_secret", "")), row, secrets
        token = secrets.get("access_token")
        if not token and service.grant != "client_credentials":
            raise not_connected(link, "not connected")
        if not token or is_due(row, self.clock()):
            row, secrets = self.tokens.renew(link, self._renewal(row, service, secrets),
                                             seen_generation=row.generation)
        return oauth2.TokenAuth(secrets["access_token"], service), row, secrets

    def request(self, link: str, method: str, url: str, *, mask_secrets: bool = False,
                **kwargs) -> "requests.Response":
        """Send a request authenticated as connection `link` and return the response (any
        status). A URL with no scheme and host is taken relative to the service's API base.
        After a 401 an OAuth 2.0 token is renewed once and the request sent again. With
        `mask_secrets`, any of the connection's secrets the answer carries back (an echoing
        server) is replaced by *** in its text and headers."""
        from .auth import oauth2

        row = self._row(link)
        service = self.service(row.service)
        url = self._absolute(url, row, service)
        self._check_origin(url, row, service)
        secrets = self._secrets(row)
        used = [secrets]
        auth, row, secrets = self._auth(row, service, secrets)
        used.append(secrets)
        response = self.http.request(method, url, auth=auth, **kwargs)
        if response.status_code == 401 and service.auth == "oauth2" and (
                secrets.get("refresh_token") or service.grant == "client_credentials"):
            row, secrets = self.tokens.renew(link, self._renewal(row, service, secrets),
                                             seen_generation=row.generation, force=True)
            used.append(secrets)
            auth = oauth2.TokenAuth(secrets["access_token"], service)
            response = self.http.request(method, url, auth=auth, **kwargs)
        if mask_secrets:
            _mask(response, used)
        if row.status.startswith("error") and response.status_code < 400:
            # whatever went wrong (a lost key since restored, a refused check) is mended
            self.store.update(link, status=CONNECTED, last_error=None)
        self._touch(link)
        return response

    def _absolute(self, url: str, row: ConnectionRow, service: Service) -> str:
        if urlsplit(url).scheme:
            return url
        if not service.api_base_url:
            raise InvalidDefinition(f"{url!r} is not a full URL, and service {service.name} "
                                    "has no API base URL to take it from")
        base = fill(service.api_base_url, self._values(row, service))
        return urljoin(base.rstrip("/") + "/", url.lstrip("/"))

    def origins(self, row: ConnectionRow, service: Service) -> frozenset:
        """The origins its credentials may go to: those of the service's URLs, filled (kept
        per service object and parameters: every call asks)."""
        key = (service.name, tuple(sorted(row.params.items())))
        cached = self._origins.get(key)
        if cached is not None and cached[0] is service:
            return cached[1]
        found = self._find_origins(row, service)
        if len(self._origins) > 1024:
            self._origins.clear()
        self._origins[key] = (service, found)
        return found

    def _find_origins(self, row: ConnectionRow, service: Service) -> frozenset:
        from .http import origin
        from .model import URL_FIELDS

        values = dict(self._values(row, service))
        found = set()
        for name in URL_FIELDS:
            try:
                url = fill(getattr(service, name), values)
            except InvalidDefinition:
                continue  # a placeholder not known yet (a token field before the token)
            if url and urlsplit(url).scheme in ("http", "https"):
                found.add(origin(url))
        return frozenset(found)

    def _check_origin(self, url: str, row: ConnectionRow, service: Service) -> None:
        from .http import origin

        scheme, host, port = origin(url)
        if (scheme, host, port) in self.origins(row, service) or (
                scheme in ("http", "https") and service.allows_host(host, port)):
            return
        own = sorted(f"{s}://{h}" + (f":{p}" if p not in (80, 443) else "")
                     for s, h, p in self.origins(row, service))
        where = f"{scheme}://{host}" + (f":{port}" if port not in (80, 443, None) else "")
        raise ForeignHost(
            f"connection {row.link_name} sends its credentials only to "
            f"{', '.join(own) or 'the hosts of its service (it names none)'}, not to {where}: "
            "call that host "
            f"without connection:, or list it among the allowed hosts of service {service.name}",
            link=row.link_name)

    def _touch(self, link: str) -> None:
        now = self.clock()
        with self._touch_guard:
            if now - self._touched.get(link, float("-inf")) < TOUCH_EVERY:
                return
            self._touched[link] = now
        self.store.touch(link, now)

    # ------------------------------------------------------------------ authorizing

    def begin_authorization(self, link: str, redirect_uri: str):
        """Start the browser part of OAuth: returns an Authorization whose `url` the user opens;
        pass it and the URL the provider redirects to to `finish_authorization`."""
        from .flows import begin

        row = self._row(link)
        service = self.service(row.service)
        return begin(self, row, service, redirect_uri)

    def finish_authorization(self, authorization, callback_url: str) -> ConnectionInfo:
        from .flows import finish

        return finish(self, authorization, callback_url)

    def connect_direct(self, link: str) -> ConnectionInfo:
        """Connect what needs no browser: a client-credentials token, or Basic / API-key
        credentials checked against the service's check URL when it has one."""
        from .auth import apikey, basic, oauth2

        row = self._row(link)
        service = self.service(row.service)
        secrets = self._secrets(row)
        if service.needs_browser:
            raise InvalidDefinition(f"connection {link} ({service.auth}) is authorized in a "
                                    f"browser: sluice connections connect {link}")
        if service.auth == "oauth2":
            renewal = self._renewal(row, service, secrets)
            try:
                token = oauth2.client_credentials(self.http.session, service, renewal.endpoints,
                                                  renewal.client, row.scopes)
            except oauth2.TokenEndpointError as e:
                self.store.update(link, status=f"error: {e}", last_error=str(e))
                raise
            self.tokens.save(link, secrets, token, service)
            return self.get(link)
        if service.auth == "basic":
            basic.basic_auth(link, secrets)
        else:
            apikey.api_key_auth(link, service, secrets)
        if service.check_url:
            result = self.test(link)
            if not result.ok:
                self.store.update(link, status=f"error: {result.message}",
                                  last_error=result.message)
                raise AuthFailed(f"connection {link}: {result.message}", link=link)
        self.store.update(link, status=CONNECTED, last_error=None)
        return self.get(link)

    def connect_with_code(self, link: str, code: str) -> ConnectionInfo:
        """Trade an authorization code made outside Sluice for tokens, with no browser and no
        redirect: the "grant token" of Zoho's Self Client, or a code a provider's console
        shows."""
        from .auth import oauth2

        row, service, secrets = self._oauth2_row(link)
        pending = oauth2.Pending(url="", state="", redirect_uri=None, code_verifier=None)
        try:
            token = oauth2.exchange_code(self.http.session, service, self._endpoints(row, service),
                                         self._client(row, service, secrets), pending, code)
        except ConnectionsError as e:
            self.store.update(link, last_error=str(e))
            raise
        kept = {k: v for k, v in secrets.items() if k == "client_secret"}
        self.tokens.save(link, kept, token, service)
        return self.get(link)

    def connect_with_tokens(self, link: str, *, access_token: str | None = None,
                            refresh_token: str | None = None,
                            expires_in: float | None = None) -> ConnectionInfo:
        """Store tokens obtained elsewhere. With a refresh token alone, an access token is
        fetched with it at once (which also proves it works)."""
        from .auth import oauth2

        if not access_token and not refresh_token:
            raise InvalidDefinition("give an access token, a refresh token, or both")
        row, service, secrets = self._oauth2_row(link)
        kept = {k: v for k, v in secrets.items() if k == "client_secret"}
        if access_token:
            token = oauth2.Token(access_token=access_token, refresh_token=refresh_token,
                                 expires_in=expires_in, scope=None, fields={})
            self.tokens.save(link, kept, token, service)
            return self.get(link)
        row = self.store.update(link, secrets=dict(kept, refresh_token=refresh_token),
                                new_tokens=True, status=NOT_CONNECTED, last_error=None,
                                failures=0, retry_at=None, expires_at=None, lifetime=None)
        self.tokens.renew(link, self._renewal(row, service, self._secrets(row)),
                          seen_generation=row.generation, force=True)
        return self.get(link)

    def _oauth2_row(self, link: str):
        row = self._row(link)
        service = self.service(row.service)
        if service.auth != "oauth2":
            raise InvalidDefinition(f"connection {link} uses {service.auth}: only OAuth 2.0 "
                                    "connections take codes and tokens")
        return row, service, self._secrets(row)

    def set_credentials(self, link: str, **values) -> ConnectionInfo:
        """Replace stored credentials (username, password, api_key, client_secret) of `link`."""
        allowed = {"username", "password", "api_key", "client_secret"}
        bad = set(values) - allowed
        if bad:
            raise ValueError(f"not a credential: {', '.join(sorted(bad))}")
        row = self._row(link)
        secrets = dict(self._secrets(row), **{k: v for k, v in values.items() if v is not None})
        service = self.service(row.service)
        status = row.status
        if service.auth in ("basic", "apikey"):
            status = CONNECTED if (secrets.get("api_key") or secrets.get("username")
                                   or secrets.get("password")) else NOT_CONNECTED
        self.store.update(link, secrets=secrets, status=status, last_error=None)
        return self.get(link)

    # ------------------------------------------------------------------ maintenance

    def refresh(self, link: str) -> ConnectionInfo:
        """Renew an OAuth 2.0 access token now."""
        row = self._row(link)
        service = self.service(row.service)
        if service.auth != "oauth2":
            raise InvalidDefinition(f"connection {link} uses {service.auth}: it has no token "
                                    "to refresh")
        if row.status in (REVOKED, EXPIRED):
            self._auth(row, service, {})  # raises the matching error
        secrets = self._secrets(row)
        if not secrets.get("access_token") and service.grant != "client_credentials":
            raise not_connected(link, "not connected")
        self.tokens.renew(link, self._renewal(row, service, secrets),
                          seen_generation=row.generation, force=True)
        return self.get(link)

    def revoke(self, link: str) -> ConnectionInfo:
        """Ask the provider to revoke the grant (when the service has a revoke URL), then
        forget the tokens. The connection stays, with status `revoked`."""
        from .auth import oauth2

        row = self._row(link)
        service = self.service(row.service)
        secrets = self._secrets(row)
        problem = None
        if service.auth == "oauth2" and service.revoke_url:
            token, hint = (secrets.get("refresh_token"), "refresh_token") \
                if secrets.get("refresh_token") else (secrets.get("access_token"), "access_token")
            if token:
                try:
                    oauth2.revoke(self.http.session, service, self._endpoints(row, service),
                                  self._client(row, service, secrets), token, hint)
                except oauth2.TokenEndpointError as e:
                    problem = f"the provider's revoke URL failed ({e}); the tokens were " \
                              "forgotten here anyway"
        kept = {k: v for k, v in secrets.items() if k in ("client_secret",)}
        self.store.update(link, secrets=kept, status=REVOKED, last_error=problem,
                          expires_at=None, lifetime=None, failures=0, retry_at=None)
        return self.get(link)

    def test(self, link: str) -> TestResult:
        """Check the connection works: a GET of the service's check URL when it has one, else
        a token fresh enough to use."""
        row = self._row(link)
        service = self.service(row.service)
        try:
            if not service.check_url:
                self.auth(link)
                return TestResult(True, "credentials are in place (the service has no check "
                                        "URL to try them on)")
            url = fill(service.check_url, self._values(self._row(link), service))
            response = self.request(link, "GET", url)
        except ConnectionsError as e:
            return TestResult(False, str(e))
        if response.ok:
            return TestResult(True, f"GET {_path(url)} answered HTTP {response.status_code}",
                              response.status_code)
        return TestResult(False, f"GET {_path(url)} answered HTTP {response.status_code}",
                          response.status_code)


_TEXTUAL = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "html")


def _mask(response, secrets_used: list[dict]) -> None:
    """Replace the secrets in `secrets_used`, in every form (redaction.py), in the response's
    text and headers. A binary body (a file) is left alone."""
    maskers = {}
    for secrets in secrets_used:
        masker = _masker(tuple(sorted(secrets.items())))
        if masker:
            maskers[id(masker)] = masker
    if not maskers:
        return
    kind = response.headers.get("content-type", "").lower()
    content = response.content
    if content and (not kind or any(t in kind for t in _TEXTUAL)):
        for masker in maskers.values():
            content = masker.scrub(content)
        response._content = content
    headers = "\n".join(response.headers.values()).encode("utf-8", "surrogateescape")
    found = [m for m in maskers.values() if m.touches(headers)]
    if not found:
        return
    for name, header in list(response.headers.items()):
        masked = header
        for masker in found:
            masked = masker(masked)
        if masked != header:
            response.headers[name] = masked


@functools.lru_cache(maxsize=256)
def _masker(items: tuple):
    """A masker for a connection's secrets; an API key is also looked for as the user name
    or password of Basic credentials, which base64 detection covers."""
    from .redaction import masker_for

    return masker_for([dict(items)])


def _path(url: str) -> str:
    from .http import redact_url

    return redact_url(url)


def _did_you_mean(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return " (see `sluice connections list`)" if known else \
        " (there are no connections yet: `sluice connections create`)"

