"""Basic and API-key connections, and the HTTP client every call goes through: redirects that
leave the origin lose the credentials, big answers are cut off, failures are typed."""

from __future__ import annotations

import pytest

from connections import (HttpClient, HttpError, InvalidDefinition, NotConnected, Service,
                         UnknownConnection, UnknownService)
from connections.http import redact_url
from sluice.demo.provider import LocalProvider


def basic_service(provider) -> Service:
    return Service(name="intranet", auth="basic", api_base_url=provider.url + "/api",
                   check_url=provider.url + "/api/basic")


def key_service(provider, place, name="X-API-Key", prefix="") -> Service:
    return Service(name=f"keyed_{place}", auth="apikey", key_in=place, key_name=name,
                   key_prefix=prefix, api_base_url=provider.url + "/api",
                   check_url=provider.url + "/api/key")


def test_basic_credentials(conns, provider):
    provider.basic_users["ops"] = "pa55-word-77"
    conns.add_service(basic_service(provider))
    info = conns.create("intra", "intranet", username="ops", password="pa55-word-77")
    assert info.status == "connected"
    assert conns.request("intra", "GET", "/basic").json() == {"user": "ops"}
    assert conns.test("intra").ok
    conns.set_credentials("intra", password="wrong-one-123")
    assert conns.request("intra", "GET", "/basic").status_code == 401
    result = conns.test("intra")
    assert not result.ok and result.status_code == 401


@pytest.mark.parametrize("place,name", [("header", "X-API-Key"), ("query", "api_key"),
                                        ("basic", "user"), ("basic", "password")])
def test_api_keys_in_every_place(conns, provider, place, name):
    provider.api_keys.add("key-1234-abcd")
    conns.add_service(key_service(provider, place, name))
    conns.create("k", f"keyed_{place}", api_key="key-1234-abcd")
    assert conns.request("k", "GET", "/key").json() == {"ok": True}
    assert conns.connect_direct("k").status == "connected"


def test_a_wrong_api_key_fails_connect_with_a_clear_status(conns, provider):
    conns.add_service(key_service(provider, "header"))
    conns.create("k", "keyed_header", api_key="not-a-valid-key")
    with pytest.raises(Exception, match="HTTP 401"):
        conns.connect_direct("k")
    assert conns.get("k").status == "error: GET " + provider.url + "/api/key answered HTTP 401"


def test_a_connection_in_error_is_mended_by_a_call_that_works(conns, provider):
    provider.basic_users["ops"] = "right-pass-1"
    conns.add_service(basic_service(provider))
    conns.create("intra", "intranet", username="ops", password="wrong-pass-1")
    with pytest.raises(Exception, match="HTTP 401"):
        conns.connect_direct("intra")
    assert conns.get("intra").status.startswith("error: ")
    conns.store.update("intra", secrets={"username": "ops", "password": "right-pass-1"})
    assert conns.get("intra").status.startswith("error: ")
    assert conns.request("intra", "GET", "/basic").status_code == 200
    info = conns.get("intra")
    assert info.status == "connected" and info.last_error is None


def test_a_connection_without_credentials_is_not_connected(conns, provider):
    conns.add_service(basic_service(provider))
    conns.create("intra", "intranet")
    assert conns.get("intra").status == "not connected"
    with pytest.raises(NotConnected, match="no user name and password"):
        conns.request("intra", "GET", "/basic")


def test_credentials_do_not_follow_a_redirect_to_another_origin(conns, provider):
    other = LocalProvider()
    try:
        provider.api_keys.add("key-1234-abcd")
        conns.add_service(key_service(provider, "header", name="Authorization",
                                      prefix="Key "))
        conns.create("k", "keyed_header", api_key="key-1234-abcd")
        away = f"{provider.url}/api/redirect?to={other.url}/api/headers"
        response = conns.request("k", "GET", away, headers={"Cookie": "session=s3cr3t-cookie"})
        assert response.status_code == 200 and len(response.history) == 1
        assert "Authorization" not in other.seen_headers[0]
        assert "Cookie" not in other.seen_headers[0]
        same = f"{provider.url}/api/redirect?to={provider.url}/api/headers"
        conns.request("k", "GET", same)
        assert provider.seen_headers[-1]["Authorization"] == "Key key-1234-abcd"
    finally:
        other.stop()


def test_a_post_redirected_with_303_becomes_a_get(conns, provider):
    provider.api_keys.add("key-1234-abcd")
    conns.add_service(key_service(provider, "header"))
    conns.create("k", "keyed_header", api_key="key-1234-abcd")
    url = f"{provider.url}/api/redirect?code=303&to={provider.url}/api/echo"
    assert conns.request("k", "POST", url, json={"a": 1}).json()["method"] == "GET"


def test_answers_over_the_size_cap_are_refused(provider):
    client = HttpClient(max_bytes=1000)
    assert len(client.request("GET", provider.url + "/api/big?n=1000").content) == 1000
    with pytest.raises(HttpError, match="more than the limit"):
        client.request("GET", provider.url + "/api/big?n=1001")


def test_unreachable_hosts_and_timeouts_are_typed_errors(provider):
    client = HttpClient(connect_timeout=1, read_timeout=0.2)
    with pytest.raises(HttpError, match="cannot connect"):
        client.request("GET", "http://127.0.0.1:9/nothing?api_key=abc")
    provider.behaviour.token_delay = 1
    with pytest.raises(HttpError, match="no answer in time") as caught:
        client.request("POST", provider.url + "/oauth2/token?token=s3cret")
    assert "s3cret" not in str(caught.value)


def test_redacted_urls_hide_credentials():
    assert redact_url("https://u:p@h.example/x?api_key=K&page=2&access_token=T") == \
        "https://h.example/x?api_key=***&page=2&access_token=***"


def test_unknown_names_are_typed_errors_with_a_hint(conns, provider):
    conns.add_service(basic_service(provider))
    conns.create("intra", "intranet", username="u", password="p")
    with pytest.raises(UnknownConnection, match="did you mean 'intra'"):
        conns.request("intr", "GET", "/basic")
    with pytest.raises(UnknownService):
        conns.create("x", "no_such_service")
    with pytest.raises(InvalidDefinition, match="link name"):
        conns.create("Bad Name", "intranet")
    with pytest.raises(InvalidDefinition, match="--param dc=VALUE"):
        conns.create("mc", "mailchimp")
    with pytest.raises(InvalidDefinition, match="built-in"):
        conns.add_service(Service(name="stripe", auth="basic"))


def test_relative_urls_need_a_base(conns, provider):
    conns.add_service(Service(name="nobase", auth="basic"))
    conns.create("nb", "nobase", username="u", password="p")
    with pytest.raises(InvalidDefinition, match="not a full URL"):
        conns.request("nb", "GET", "/x")


def test_proxies_from_the_environment_are_honoured(monkeypatch, provider):
    import socketserver
    import threading

    seen = []

    class Proxy(socketserver.StreamRequestHandler):
        def handle(self):
            seen.append(self.rfile.readline().decode().strip())
            while self.rfile.readline().strip():
                pass
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\n"
                             b"proxied")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        client = HttpClient()
        assert client.request("GET", "http://api.example.invalid/x?y=1").text == "proxied"
        assert seen == ["GET http://api.example.invalid/x?y=1 HTTP/1.1"]
        # hosts in NO_PROXY are reached directly
        assert client.request("GET", provider.url + "/api/text").text == "plain words"
        assert len(seen) == 1
    finally:
        server.shutdown()
        server.server_close()
