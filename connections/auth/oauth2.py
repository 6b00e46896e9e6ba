"""OAuth 2.0: the authorization URL (state, PKCE S256), the code exchange, refresh, client
credentials and revocation, spoken through authlib's client over the shared session; and the
auth callable that puts an access token on a request.

Nothing here decides *when* to refresh or saves anything: that is tokens.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client.oauth2_session import OAuth2ClientAuth
from authlib.oauth2.client import DEFAULT_HEADERS, OAuth2Client
from authlib.oauth2.rfc6749.parameters import parse_authorization_code_response
from requests.auth import AuthBase

from ..errors import AuthFailed, AuthorizationDenied, redact
from ..model import Service

# A token that arrives with no lifetime is taken to last this long (when it can be renewed).
DEFAULT_LIFETIME = 3600.0


class TokenEndpointError(AuthFailed):
    """The token endpoint said no or could not be reached. `error` is the OAuth error code
    (`invalid_grant`, ...) when the provider gave one; `transient` says trying later may work."""

    def __init__(self, message: str, *, error: str | None = None, transient: bool = False):
        super().__init__(message)
        self.error = error
        self.transient = transient

    @property
    def grant_refused(self) -> bool:
        return self.error in ("invalid_grant", "invalid_token", "unauthorized_client")


class _Client(OAuth2Client):
    client_auth_class = OAuth2ClientAuth
    oauth_error_class = OAuthError


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str | None

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r})"


@dataclass(frozen=True)
class Endpoints:
    """The service's URLs with the connection's placeholders filled."""

    authorize_url: str | None
    token_url: str
    refresh_url: str
    revoke_url: str | None


@dataclass(frozen=True)
class Pending:
    """An authorization under way: what the callback must match, and the PKCE verifier."""

    url: str
    state: str
    redirect_uri: str
    code_verifier: str | None

    def __repr__(self) -> str:
        return f"Pending(redirect_uri={self.redirect_uri!r})"


@dataclass(frozen=True)
class Token:
    access_token: str
    refresh_token: str | None
    expires_in: float | None
    scope: tuple[str, ...] | None
    fields: dict  # other fields of the answer a service asked to keep (instance_url, ...)

    def __repr__(self) -> str:
        return f"Token(expires_in={self.expires_in!r}, scope={self.scope!r})"


def _client(session, service: Service, client: ClientCredentials, **kwargs) -> _Client:
    if not client.client_secret:
        method = "none"
    else:
        method = "client_secret_basic" if service.client_auth == "basic" else "client_secret_post"
    return _Client(session, client_id=client.client_id, client_secret=client.client_secret,
                   token_endpoint_auth_method=method, revocation_endpoint_auth_method=method,
                   code_challenge_method="S256" if service.pkce else None, **kwargs)


def authorization(service: Service, endpoints: Endpoints, client: ClientCredentials,
                  redirect_uri: str, scopes: tuple[str, ...]) -> Pending:
    verifier = generate_token(64) if service.pkce else None
    oauth = _client(None, service, client, redirect_uri=redirect_uri)
    params = dict(service.authorize_params)
    scope = service.scope_separator.join(scopes) if scopes else None
    url, state = oauth.create_authorization_url(endpoints.authorize_url, code_verifier=verifier,
                                                scope=scope, **params)
    return Pending(url=url, state=state, redirect_uri=redirect_uri, code_verifier=verifier)


def code_from_callback(pending: Pending, callback_url: str) -> tuple[str, dict]:
    """The authorization code in the URL the provider redirected to, after checking `state`;
    also the other parameters of the redirect (QuickBooks sends realmId there)."""
    from urllib.parse import parse_qsl, urlsplit

    params = dict(parse_qsl(urlsplit(callback_url.strip()).query))
    if "error" in params:
        reason = params["error"] + (f" ({params['error_description']})"
                                    if params.get("error_description") else "")
        raise AuthorizationDenied(f"the provider did not authorize: {reason}")
    if params.get("state") != pending.state:
        raise AuthorizationDenied("the redirect's state does not match the one this "
                                  "authorization sent (a stale or forged redirect); nothing was "
                                  "stored, start again")
    try:
        found = parse_authorization_code_response(callback_url.strip(), state=pending.state)
    except Exception:
        raise AuthorizationDenied("the redirect carries no authorization code") from None
    extra = {k: v for k, v in params.items() if k not in ("code", "state")}
    return found["code"], extra


def exchange_code(session, service: Service, endpoints: Endpoints, client: ClientCredentials,
                  pending: Pending, code: str) -> Token:
    oauth = _client(session, service, client, redirect_uri=pending.redirect_uri)
    kwargs = dict(service.token_params)
    if pending.code_verifier:
        kwargs["code_verifier"] = pending.code_verifier
    return _call(service, client, [code], lambda: oauth.fetch_token(
        endpoints.token_url, grant_type="authorization_code", code=code,
        headers=_headers(service), **kwargs))


def refresh(session, service: Service, endpoints: Endpoints, client: ClientCredentials,
            refresh_token: str) -> Token:
    oauth = _client(session, service, client)
    return _call(service, client, [refresh_token], lambda: oauth.refresh_token(
        endpoints.refresh_url, refresh_token=refresh_token, headers=_headers(service),
        **service.token_params))


def client_credentials(session, service: Service, endpoints: Endpoints,
                       client: ClientCredentials, scopes: tuple[str, ...]) -> Token:
    oauth = _client(session, service, client)
    kwargs = dict(service.token_params)
    if scopes:
        kwargs["scope"] = service.scope_separator.join(scopes)
    return _call(service, client, [], lambda: oauth.fetch_token(
        endpoints.token_url, grant_type="client_credentials", headers=_headers(service),
        **kwargs))


def revoke(session, service: Service, endpoints: Endpoints, client: ClientCredentials,
           token: str, hint: str) -> None:
    oauth = _client(session, service, client)
    response = _call(service, client, [token], lambda: oauth.revoke_token(
        endpoints.revoke_url, token=token, token_type_hint=hint), parse=False)
    if response.status_code >= 400:
        raise TokenEndpointError(f"the revoke URL answered HTTP {response.status_code}",
                                 transient=response.status_code >= 500)


def _headers(service: Service) -> dict:
    return dict(DEFAULT_HEADERS, **service.token_headers)


def _call(service: Service, client: ClientCredentials, hide: list, call, parse: bool = True):
    """Run one token-endpoint call, turning every failure into a TokenEndpointError whose
    message holds no secret."""
    hide = hide + [client.client_secret]
    try:
        answer = call()
    except OAuthError as e:
        text = f"{e.error}: {e.description}" if e.description else str(e.error)
        raise TokenEndpointError(f"the provider refused: {redact(text, hide)}",
                                 error=str(e.error)) from None
    except requests.HTTPError as e:
        status = e.response.status_code if e.response is not None else 0
        raise TokenEndpointError(f"the token endpoint answered HTTP {status}",
                                 transient=status >= 500 or status == 429) from None
    except requests.Timeout:
        raise TokenEndpointError("the token endpoint gave no answer in time",
                                 transient=True) from None
    except requests.ConnectionError:
        raise TokenEndpointError("cannot connect to the token endpoint", transient=True) from None
    except ValueError as e:
        raise TokenEndpointError(f"the token endpoint's answer is not a token "
                                 f"({redact(str(e), hide)[:200]})", transient=True) from None
    if not parse:
        return answer
    return _token(service, answer)


def _token(service: Service, answer: dict) -> Token:
    if not answer.get("access_token"):
        raise TokenEndpointError("the token endpoint's answer has no access_token")
    expires_in = answer.get("expires_in")
    try:
        expires_in = float(expires_in) if expires_in not in (None, "") else None
    except (TypeError, ValueError):
        expires_in = None
    scope = answer.get("scope")
    if isinstance(scope, str):
        scope = tuple(s for s in scope.replace(",", " ").split() if s)
    elif isinstance(scope, list):
        scope = tuple(str(s) for s in scope)
    else:
        scope = None
    fields = {k: str(answer[k]) for k in service.token_fields if answer.get(k)}
    return Token(access_token=str(answer["access_token"]),
                 refresh_token=str(answer["refresh_token"]) if answer.get("refresh_token")
                 else None,
                 expires_in=expires_in, scope=scope, fields=fields)


class TokenAuth(AuthBase):
    """Puts an access token on a request: `Authorization: Bearer <t>` by default, or another
    header and prefix (`X-Shopify-Access-Token`, `Zoho-oauthtoken`), or a query parameter."""

    def __init__(self, token: str, service: Service):
        self._token = token
        self.place, self.name, self.prefix = service.token_in, service.token_name, \
            service.token_prefix

    def __call__(self, request):
        if self.place == "query":
            request.prepare_url(request.url, {self.name or "access_token": self._token})
        else:
            prefix = self.prefix.strip()
            request.headers[self.name] = f"{prefix} {self._token}" if prefix else self._token
        return request

    def __repr__(self) -> str:
        return f"TokenAuth(place={self.place!r}, name={self.name!r})"
