"""OAuth 1.0a: the three legs (request token, the user's authorization, access token with the
verifier) and the signing of every request, all through authlib's client. HMAC-SHA1, RSA-SHA1
and PLAINTEXT are authlib's; HMAC-SHA256 is registered here from authlib's own base string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth1Auth
from authlib.oauth1 import ClientAuth
from authlib.oauth1.client import OAuth1Client
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from authlib.oauth1.rfc5849.util import escape

from ..errors import AuthFailed, AuthorizationDenied, redact
from ..model import Service
from .oauth2 import TokenEndpointError


def _sign_hmac_sha256(client, request) -> str:
    base_string = generate_signature_base_string(request)
    key = f"{escape(client.client_secret or '')}&{escape(client.token_secret or '')}"
    digest = hmac.new(key.encode("utf-8"), base_string.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


ClientAuth.register_signature_method("HMAC-SHA256", _sign_hmac_sha256)


@dataclass(frozen=True)
class Consumer:
    """The application's credentials: consumer key and secret, or an RSA private key (PEM)."""

    key: str
    secret: str | None
    rsa_key: str | None
    signature_method: str

    def __repr__(self) -> str:
        return f"Consumer(key={self.key!r}, signature_method={self.signature_method!r})"


@dataclass(frozen=True)
class Pending:
    url: str
    request_token: str
    request_token_secret: str
    redirect_uri: str

    def __repr__(self) -> str:
        return f"Pending(redirect_uri={self.redirect_uri!r})"


class _Client(OAuth1Client):
    auth_class = OAuth1Auth

    @staticmethod
    def handle_error(error_type, error_description):
        raise OAuthError(error_type, error_description)


def _client(session, consumer: Consumer, **kwargs) -> _Client:
    return _Client(session, consumer.key, client_secret=consumer.secret,
                   rsa_key=consumer.rsa_key, signature_method=consumer.signature_method, **kwargs)


def authorization(session, service: Service, urls: dict, consumer: Consumer, redirect_uri: str,
                  scopes: tuple[str, ...]) -> Pending:
    """Leg one: get a request token; return the URL where the user authorizes it."""
    oauth = _client(session, consumer, redirect_uri=redirect_uri)
    answer = _call(consumer, [], lambda: oauth.fetch_request_token(
        urls["request_token_url"], params=dict(service.request_token_params) or None))
    if not answer.get("oauth_token"):
        raise TokenEndpointError("the request-token URL's answer has no oauth_token")
    params = dict(service.authorize_params)
    if scopes:
        params["scope"] = service.scope_separator.join(scopes)
    url = oauth.create_authorization_url(urls["authorize_url"], request_token=answer["oauth_token"],
                                         **params)
    return Pending(url=url, request_token=answer["oauth_token"],
                   request_token_secret=answer.get("oauth_token_secret", ""),
                   redirect_uri=redirect_uri)


def verifier_from_callback(pending: Pending, callback_url: str) -> str:
    params = dict(parse_qsl(urlsplit(callback_url.strip()).query))
    if params.get("denied") or params.get("error"):
        raise AuthorizationDenied("the provider did not authorize: "
                                  f"{params.get('error_description') or params.get('error') or 'denied'}")
    if params.get("oauth_token") != pending.request_token:
        raise AuthorizationDenied("the redirect names a different request token than this "
                                  "authorization asked for (a stale or forged redirect); nothing "
                                  "was stored, start again")
    if not params.get("oauth_verifier"):
        raise AuthorizationDenied("the redirect carries no oauth_verifier")
    return params["oauth_verifier"]


def access_token(session, urls: dict, consumer: Consumer, pending: Pending,
                 verifier: str) -> tuple[str, str]:
    """Leg three: trade the authorized request token and its verifier for the access token."""
    oauth = _client(session, consumer, token=pending.request_token,
                    token_secret=pending.request_token_secret)
    answer = _call(consumer, [pending.request_token_secret, verifier],
                   lambda: oauth.fetch_access_token(urls["access_token_url"], verifier=verifier))
    if not answer.get("oauth_token"):
        raise TokenEndpointError("the access-token URL's answer has no oauth_token")
    return answer["oauth_token"], answer.get("oauth_token_secret", "")


def signer(consumer: Consumer, token: str, token_secret: str) -> OAuth1Auth:
    return OAuth1Auth(consumer.key, client_secret=consumer.secret, token=token,
                      token_secret=token_secret, rsa_key=consumer.rsa_key,
                      signature_method=consumer.signature_method)


def _call(consumer: Consumer, hide: list, call) -> dict:
    hide = hide + [consumer.secret, consumer.rsa_key]
    try:
        return call()
    except OAuthError as e:
        text = redact(f"{e.error}: {e.description}", hide)
        status = re.search(r"failed with code (\d{3})", text)
        transient = bool(status) and (status.group(1)[0] == "5" or status.group(1) == "429")
        # authlib puts the provider's whole answer in the description; keep it short
        raise TokenEndpointError(f"the provider refused: {text[:300]}", error=str(e.error),
                                 transient=transient) from None
    except requests.Timeout:
        raise TokenEndpointError("the provider gave no answer in time", transient=True) from None
    except requests.ConnectionError:
        raise TokenEndpointError("cannot connect to the provider", transient=True) from None
    except (ValueError, TypeError) as e:
        raise AuthFailed(f"OAuth 1.0a: {redact(str(e), hide)[:300]}") from None
