"""OAuth 2.0 against the local provider: authorization code with state and PKCE, refresh before
expiry and after a 401, rotation, refused grants, back-off, timeouts, client credentials."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connections import (AuthFailed, AuthorizationDenied, ConnectionExpired, Connections,
                         HttpClient, LoopbackListener, NotConnected, Service, StoreError)
from connections.auth.oauth2 import DEFAULT_LIFETIME, TokenAuth
from connections.tokens import margin
from connect_helpers import CLIENT_ID, CLIENT_SECRET, authorize, browse, oauth2_service


def secrets_of(conns, link):
    return conns.store.secrets(conns.store.connection(link))


# ---------------------------------------------------------------------------- authorization


def test_authorization_code_flow_sends_state_and_pkce_and_stores_tokens(conns, provider):
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    listener = LoopbackListener(0)
    authorization = conns.begin_authorization("crm", listener.redirect_uri)
    query = parse_qs(urlsplit(authorization.url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 20
    assert query["redirect_uri"] == [listener.redirect_uri]
    assert query["scope"] == ["read offline_access"]
    pages = []
    browse(authorization.url, pages).join(0)
    info = listener.wait(lambda url: conns.finish_authorization(authorization, url), timeout=10)
    assert info.status == "connected" and info.has_refresh_token
    assert info.scopes == ("read", "offline_access")
    assert info.expires_at == pytest.approx(conns.clock() + 3600)
    assert conns.request("crm", "GET", "/me").json()["user"] == "alice"


def test_the_code_exchange_fails_without_the_right_pkce_verifier(conns, provider):
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    listener = LoopbackListener(0)
    authorization = conns.begin_authorization("crm", listener.redirect_uri)
    forged = dataclasses.replace(authorization, _pending=dataclasses.replace(
        authorization._pending, code_verifier="x" * 64))
    browse(authorization.url, [])
    with pytest.raises(AuthFailed, match="invalid_grant"):
        listener.wait(lambda url: conns.finish_authorization(forged, url), timeout=10)
    assert conns.get("crm").status == "not connected"


def test_a_redirect_with_the_wrong_state_is_refused_and_nothing_is_stored(conns, provider):
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    listener = LoopbackListener(0)
    authorization = conns.begin_authorization("crm", listener.redirect_uri)
    pages = []
    browser = browse(listener.redirect_uri + "?code=abc&state=forged", pages)
    with pytest.raises(AuthorizationDenied, match="state does not match"):
        listener.wait(lambda url: conns.finish_authorization(authorization, url), timeout=10)
    browser.join(10)
    assert pages[0].status_code == 400 and "state does not match" in pages[0].text
    assert conns.get("crm").status == "not connected"
    assert secrets_of(conns, "crm") == {}
    assert provider.counts["authorization_code"] == 0


def test_denied_consent_is_reported(conns, provider):
    provider.behaviour.deny_consent = True
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    with pytest.raises(AuthorizationDenied, match="access_denied"):
        authorize(conns, "crm")
    info = conns.get("crm")
    assert info.status == "not connected" and "access_denied" in info.last_error


def test_a_pasted_redirect_url_works_like_the_listener(conns, provider):
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    authorization = conns.begin_authorization("crm", "http://127.0.0.1:8765/callback")
    answer = requests.get(authorization.url, allow_redirects=False, timeout=5)
    info = conns.finish_authorization(authorization, answer.headers["location"])
    assert info.status == "connected"


def test_waiting_for_a_redirect_gives_up(conns, provider):
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    listener = LoopbackListener(0)
    conns.begin_authorization("crm", listener.redirect_uri)
    with pytest.raises(AuthorizationDenied, match="no redirect reached"):
        listener.wait(lambda url: None, timeout=0.3)


def test_a_public_client_without_secret_uses_pkce_alone(conns, provider):
    provider.add_client("public-app", None, auth_methods=("none",))
    conns.add_service(oauth2_service(provider, client_id="public-app"))
    conns.create("crm", "local")
    assert authorize(conns, "crm").status == "connected"
    assert conns.request("crm", "GET", "/me").status_code == 200


# ---------------------------------------------------------------------------- the token lifecycle


def test_a_token_is_refreshed_before_it_expires_not_after_a_failure(connected, provider, clock):
    clock.advance(3600 - 59)  # inside the 60 s margin of a one-hour token
    assert connected.request("crm", "GET", "/me").status_code == 200
    assert provider.counts["refresh_token"] == 1
    assert provider.counts["api"] == 1  # no 401 was needed


def test_the_refresh_margin_scales_with_the_lifetime(conns, provider, clock):
    assert margin(3600) == 60 and margin(30) == 3 and margin(None) == 60
    provider.behaviour.expires_in = 30
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    authorize(conns, "crm")
    clock.advance(20)
    conns.request("crm", "GET", "/me")
    assert provider.counts["refresh_token"] == 0
    clock.advance(8)
    conns.request("crm", "GET", "/me")
    assert provider.counts["refresh_token"] == 1


def test_a_401_refreshes_once_and_retries_once(connected, provider):
    provider.expire_access_tokens()
    response = connected.request("crm", "GET", "/me")
    assert response.status_code == 200
    assert provider.counts["refresh_token"] == 1


def test_a_second_401_is_returned_not_looped(connected, provider, monkeypatch):
    # The provider keeps refusing the new token too: one refresh, one retry, then the 401.
    from sluice.demo.provider import Token

    monkeypatch.setattr(Token, "is_expired", lambda self: True)
    response = connected.request("crm", "GET", "/me")
    assert response.status_code == 401
    assert provider.counts["refresh_token"] == 1


def test_a_rotated_refresh_token_is_saved_and_the_old_one_is_dead(connected, provider, clock):
    before = secrets_of(connected, "crm")["refresh_token"]
    clock.advance(3600)
    connected.request("crm", "GET", "/me")
    after = secrets_of(connected, "crm")["refresh_token"]
    assert after != before
    assert provider.live_refresh_tokens() == {after}


def test_new_tokens_are_saved_before_they_are_used(connected, provider, clock, monkeypatch):
    clock.advance(3600)
    real_update = connected.store.update

    def failing_update(link, **kwargs):
        if kwargs.get("new_tokens"):
            raise StoreError("the store could not save: database or disk is full")
        return real_update(link, **kwargs)

    monkeypatch.setattr(connected.store, "update", failing_update)
    with pytest.raises(StoreError, match="disk is full"):
        connected.request("crm", "GET", "/me")
    assert provider.counts["api"] == 0  # the unsaved token was never used


def test_an_answer_without_a_refresh_token_keeps_the_stored_one(connected, provider, clock):
    provider.behaviour.rotate_refresh_tokens = False
    before = secrets_of(connected, "crm")["refresh_token"]
    for _ in range(2):
        clock.advance(3600)
        assert connected.request("crm", "GET", "/me").status_code == 200
    assert secrets_of(connected, "crm")["refresh_token"] == before
    assert provider.counts["refresh_token"] == 2


def test_a_token_without_a_lifetime_gets_the_default_one(conns, provider):
    provider.behaviour.expires_in = None
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    info = authorize(conns, "crm")
    assert info.expires_at == pytest.approx(conns.clock() + DEFAULT_LIFETIME)


def test_a_token_that_cannot_be_renewed_is_used_until_refused(conns, provider, clock):
    provider.behaviour.expires_in = None
    provider.behaviour.send_refresh_token = False
    conns.add_service(oauth2_service(provider), client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    assert authorize(conns, "crm").expires_at is None
    clock.advance(10 ** 6)
    assert conns.request("crm", "GET", "/me").status_code == 200
    provider.revoke_all()
    assert conns.request("crm", "GET", "/me").status_code == 401  # nothing to renew with


def test_a_revoked_grant_marks_the_connection_expired_and_says_how_to_reconnect(
        connected, provider, clock):
    provider.revoke_all()
    clock.advance(3600)
    with pytest.raises(ConnectionExpired, match="sluice connections connect crm"):
        connected.request("crm", "GET", "/me")
    info = connected.get("crm")
    assert info.status == "expired" and "invalid_grant" in info.last_error
    calls = provider.counts["refresh_token"]
    with pytest.raises(ConnectionExpired, match="sluice connections connect crm"):
        connected.request("crm", "GET", "/me")
    assert provider.counts["refresh_token"] == calls  # not asked again
    assert authorize(connected, "crm").status == "connected"  # reconnecting mends it


def test_failures_back_off_instead_of_hammering_the_provider(connected, provider, clock):
    provider.behaviour.token_failures = 100
    clock.advance(3600 + 1)  # the token is past its expiry: nothing to fall back on
    with pytest.raises(AuthFailed, match="HTTP 503"):
        connected.request("crm", "GET", "/me")
    assert provider.counts["refresh_token"] == 1
    with pytest.raises(AuthFailed, match="next try in"):
        connected.request("crm", "GET", "/me")
    assert provider.counts["refresh_token"] == 1
    clock.advance(2.5)
    with pytest.raises(AuthFailed):
        connected.request("crm", "GET", "/me")
    assert provider.counts["refresh_token"] == 2
    info = connected.get("crm")
    assert info.status == "connected" and "503" in info.last_error
    provider.behaviour.token_failures = 0
    clock.advance(10)
    assert connected.request("crm", "GET", "/me").status_code == 200
    assert connected.get("crm").last_error is None


def test_a_failed_early_refresh_keeps_using_the_valid_token(connected, provider, clock):
    provider.behaviour.token_failures = 1
    clock.advance(3600 - 30)  # due, but not expired
    assert connected.request("crm", "GET", "/me").status_code == 200
    assert provider.counts["refresh_token"] == 1


def test_a_provider_that_does_not_answer_in_time_loses_nothing(connected, provider, clock):
    provider.behaviour.token_delay = 1.5
    slow = Connections(connected.store, clock=clock, http=HttpClient(read_timeout=0.3))
    before = secrets_of(connected, "crm")
    clock.advance(3600 + 1)
    with pytest.raises(AuthFailed, match="no answer in time"):
        slow.request("crm", "GET", "/me")
    assert secrets_of(connected, "crm") == before
    assert connected.get("crm").status == "connected"


def test_refresh_and_revoke(connected, provider):
    before = secrets_of(connected, "crm")["access_token"]
    assert connected.refresh("crm").status == "connected"
    assert secrets_of(connected, "crm")["access_token"] != before
    info = connected.revoke("crm")
    assert info.status == "revoked" and provider.counts["revoke"] == 1
    assert "access_token" not in secrets_of(connected, "crm")
    assert provider.live_refresh_tokens() == set()
    with pytest.raises(NotConnected, match="revoked"):
        connected.request("crm", "GET", "/me")


# ---------------------------------------------------------------------------- other shapes


def test_client_credentials_ask_anew_instead_of_refreshing(conns, provider, clock):
    conns.add_service(oauth2_service(provider, grant="client_credentials", authorize_url=None),
                      client_secret=CLIENT_SECRET)
    conns.create("app", "local")
    info = conns.connect_direct("app")
    assert info.status == "connected" and not info.has_refresh_token
    assert conns.request("app", "GET", "/me").status_code == 200
    clock.advance(3600)
    assert conns.request("app", "GET", "/me").status_code == 200
    provider.expire_access_tokens()
    assert conns.request("app", "GET", "/me").status_code == 200
    assert provider.counts["client_credentials"] == 3


def test_client_credentials_work_without_connecting_first(conns, provider):
    conns.add_service(oauth2_service(provider, grant="client_credentials", authorize_url=None),
                      client_secret=CLIENT_SECRET)
    conns.create("app", "local")
    assert conns.request("app", "GET", "/me").status_code == 200
    assert conns.get("app").status == "connected"


def test_a_wrong_client_secret_is_an_error_with_no_secret_in_it(conns, provider):
    conns.add_service(oauth2_service(provider, grant="client_credentials", authorize_url=None),
                      client_secret="not-the-secret-123")
    conns.create("app", "local")
    with pytest.raises(AuthFailed, match="invalid_client") as caught:
        conns.connect_direct("app")
    assert "not-the-secret-123" not in str(caught.value)
    assert conns.get("app").status.startswith("error: ")


def test_the_token_can_go_in_a_query_parameter(conns, provider):
    conns.add_service(oauth2_service(provider, token_in="query", token_name="access_token"),
                      client_secret=CLIENT_SECRET)
    conns.create("crm", "local")
    authorize(conns, "crm")
    assert conns.request("crm", "GET", "/me-query").json() == {"user": "alice"}


def test_token_placement_follows_the_service():
    from requests import Request

    zoho = Service(name="z", auth="oauth2", token_url="https://x/t", authorize_url="https://x/a",
                   token_prefix="Zoho-oauthtoken")
    shop = Service(name="s", auth="oauth2", token_url="https://x/t", authorize_url="https://x/a",
                   token_name="X-Shopify-Access-Token", token_prefix="")
    prepared = Request("GET", "https://api.example/x", auth=TokenAuth("t1", zoho)).prepare()
    assert prepared.headers["Authorization"] == "Zoho-oauthtoken t1"
    prepared = Request("GET", "https://api.example/x", auth=TokenAuth("t2", shop)).prepare()
    assert prepared.headers["X-Shopify-Access-Token"] == "t2"
    assert "t2" not in repr(TokenAuth("t2", shop))


def test_fields_of_the_token_answer_fill_the_api_base_url(conns, provider):
    provider.behaviour.extra_token_fields = {"instance_url": provider.url}
    conns.add_service(oauth2_service(provider, api_base_url="{instance_url}/api",
                                     token_fields=("instance_url",)),
                      client_secret=CLIENT_SECRET)
    conns.create("sf", "local")
    info = authorize(conns, "sf")
    assert info.params == {"instance_url": provider.url}
    assert conns.request("sf", "GET", "me").json()["user"] == "alice"


def test_client_id_and_secret_can_belong_to_the_connection(conns, provider):
    conns.add_service(oauth2_service(provider, client_id=None))
    conns.create("crm", "local", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert authorize(conns, "crm").status == "connected"


def test_a_built_in_service_needs_the_apps_client_id(conns):
    conns.create("drive", "google_drive")
    with pytest.raises(Exception, match="client id"):
        conns.begin_authorization("drive", "http://127.0.0.1:8765/callback")


def test_reprs_errors_and_logs_hold_no_secret(connected, provider, clock, caplog):
    caplog.set_level("DEBUG")
    connected.add_service(oauth2_service(provider, name="inquery", token_in="query",
                                         token_name="access_token"),
                          client_secret=CLIENT_SECRET)
    connected.create("q", "inquery")
    authorize(connected, "q")
    assert connected.request("q", "GET", "/me-query").status_code == 200
    texts = [repr(connected.get("crm")), repr(connected.list()), connected.snippet("crm"),
             repr(connected.store.connection("crm")), repr(connected.auth("crm"))]
    provider.revoke_all()
    clock.advance(3600)
    with pytest.raises(ConnectionExpired) as caught:
        connected.request("crm", "GET", "/me")
    texts.append(str(caught.value))
    texts.append(repr(connected.get("crm")))
    # the client side's logs (the provider's own logs, in this process too, are not ours)
    ours = ("connections", "urllib3", "requests", "authlib.integrations", "authlib.oauth2.client",
            "authlib.oauth1.client", "authlib.oauth2.rfc7636", "authlib.common")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(ours))
    texts.append(logged)
    assert "/api/me-query?access_token=***" in logged  # the log does show requests
    joined = "\n".join(texts)
    for secret in provider.all_secrets() | {CLIENT_SECRET}:
        assert secret not in joined
