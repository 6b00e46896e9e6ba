"""OAuth 1.0a three-legged against the local provider, with each signature method."""

from __future__ import annotations

import pytest
import requests

from connections import AuthorizationDenied, LoopbackListener, Service
from connect_helpers import authorize

CONSUMER_KEY, CONSUMER_SECRET = "consumer-key-1", "consumer-secret-8d2e"


def oauth1_service(provider, method="HMAC-SHA1", name="local1") -> Service:
    return Service(name=name, auth="oauth1", client_id=CONSUMER_KEY, signature_method=method,
                   request_token_url=provider.url + "/oauth1/request_token",
                   authorize_url=provider.url + "/oauth1/authorize",
                   access_token_url=provider.url + "/oauth1/access_token",
                   api_base_url=provider.url + "/api")


def rsa_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public.decode()


@pytest.mark.parametrize("method", ["HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT", "RSA-SHA1"])
def test_three_legs_then_signed_requests(conns, provider, method):
    if method == "RSA-SHA1":
        private, public = rsa_pair()
        provider.add_consumer(CONSUMER_KEY, None, rsa_public_key=public)
        conns.add_service(oauth1_service(provider, method), rsa_key=private)
    else:
        provider.add_consumer(CONSUMER_KEY, CONSUMER_SECRET)
        conns.add_service(oauth1_service(provider, method), client_secret=CONSUMER_SECRET)
    conns.create("tw", "local1")
    info = authorize(conns, "tw")
    assert info.status == "connected" and info.auth == "oauth1"
    response = conns.request("tw", "GET", "/oauth1/me", params={"q": "a b&c"})
    assert response.status_code == 200, response.text
    assert response.json() == {"user": "alice", "consumer": CONSUMER_KEY}
    response = conns.request("tw", "POST", "/oauth1/me", data={"note": "signed body ✓"})
    assert response.status_code == 200, response.text
    assert provider.counts["oauth1_access_token"] == 1


def test_a_wrong_consumer_secret_is_refused_at_the_first_leg(conns, provider):
    provider.add_consumer(CONSUMER_KEY, CONSUMER_SECRET)
    conns.add_service(oauth1_service(provider), client_secret="wrong-secret-0000")
    conns.create("tw", "local1")
    with pytest.raises(Exception, match="refused") as caught:
        conns.begin_authorization("tw", "http://127.0.0.1:8765/callback")
    assert "wrong-secret-0000" not in str(caught.value)


def test_denied_authorization(conns, provider):
    provider.add_consumer(CONSUMER_KEY, CONSUMER_SECRET)
    provider.behaviour.deny_consent = True
    conns.add_service(oauth1_service(provider), client_secret=CONSUMER_SECRET)
    conns.create("tw", "local1")
    with pytest.raises(AuthorizationDenied):
        authorize(conns, "tw")
    assert conns.get("tw").status == "not connected"


def test_a_redirect_for_another_request_token_is_refused(conns, provider):
    provider.add_consumer(CONSUMER_KEY, CONSUMER_SECRET)
    conns.add_service(oauth1_service(provider), client_secret=CONSUMER_SECRET)
    conns.create("tw", "local1")
    listener = LoopbackListener(0)
    authorization = conns.begin_authorization("tw", listener.redirect_uri)
    forged = f"{listener.redirect_uri}?oauth_token=other&oauth_verifier=v"
    with pytest.raises(AuthorizationDenied, match="different request token"):
        conns.finish_authorization(authorization, forged)
    answer = requests.get(authorization.url, allow_redirects=False, timeout=5)
    assert conns.finish_authorization(authorization, answer.headers["location"]).status == \
        "connected"
