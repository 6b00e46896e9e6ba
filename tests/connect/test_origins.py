"""A connection's credentials go only to its service's origins (API base, token and other URLs
of the service, and the hosts it lists): not to another host a script names, and not along a
redirect, from the API or from the token endpoint."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connect_helpers import CLIENT_ID
from connections import ConnectionsError, Service

KEY, SECRET = "key-origin-5150", "client-secret-origin-8080"


class Recorder:
    """A loopback server that records every request; /redirect-to?url=... answers 307."""

    def __init__(self, host: str):
        self.seen: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                recorder.seen.append({"path": self.path, "headers": dict(self.headers),
                                      "body": body.decode(errors="replace")})
                if "/redirect-to/" in self.path:
                    self.send_response(307)
                    self.send_header("location",
                                     "http://" + self.path.partition("/redirect-to/")[2])
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                payload = json.dumps({"access_token": "at-from-recorder-1",
                                      "token_type": "bearer", "expires_in": 3600,
                                      "ok": True}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_port}"
        self.netloc = f"{host}:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def leaked(self, *secrets) -> list[str]:
        text = json.dumps(self.seen)
        return [s for s in secrets if s in text] + [
            "authorization" for r in self.seen if "Authorization" in r["headers"]
            or "X-API-Key" in r["headers"]]


@pytest.fixture
def own():
    r = Recorder("127.0.0.1")
    yield r
    r.stop()


@pytest.fixture
def other():
    r = Recorder("127.0.0.2")  # another host of the loopback network: another origin
    yield r
    r.stop()


def keyed(base: str, **changes) -> Service:
    return Service(name="keyed", auth="apikey", api_base_url=base + "/api", **changes)


def test_a_call_to_another_host_is_refused_and_sends_nothing(conns, own, other):
    conns.add_service(keyed(own.url))
    conns.create("k", "keyed", api_key=KEY)
    assert conns.request("k", "GET", "/items").json()["ok"]  # its own origin works
    assert own.seen[-1]["headers"]["X-API-Key"] == KEY
    for url in (other.url + "/steal", other.url.replace("127.0.0.2", "localhost") + "/steal",
                "http://127.0.0.1:9/steal", own.url.replace("http:", "https:") + "/x"):
        with pytest.raises(ConnectionsError, match="only to") as raised:
            conns.request("k", "GET", url)
        assert KEY not in str(raised.value)
    assert other.seen == []


def test_a_service_may_list_more_hosts(conns, own, other):
    conns.add_service(keyed(own.url, allowed_hosts=("127.0.0.2",)))
    conns.create("k", "keyed", api_key=KEY)
    assert conns.request("k", "GET", other.url + "/fine").status_code == 200
    assert other.seen[-1]["headers"]["X-API-Key"] == KEY
    with pytest.raises(ConnectionsError, match="only to"):
        conns.request("k", "GET", "http://127.0.0.3:1/no")


def test_the_api_key_does_not_follow_a_redirect_to_another_origin(conns, own, other):
    conns.add_service(keyed(own.url))
    conns.create("k", "keyed", api_key=KEY)
    conns.request("k", "GET", f"/redirect-to/{other.netloc}/landing")
    assert [r["path"] for r in other.seen] == ["/landing"]
    assert other.leaked(KEY) == []


@pytest.mark.parametrize("client_auth", ["basic", "body"])
def test_the_token_endpoint_is_not_followed_to_another_origin(conns, own, other, client_auth):
    conns.add_service(Service(name="machine", auth="oauth2", grant="client_credentials",
                              client_id=CLIENT_ID, client_auth=client_auth,
                              token_url=f"{own.url}/redirect-to/{other.netloc}/token",
                              api_base_url=own.url + "/api"), client_secret=SECRET)
    conns.create("bot", "machine")
    with pytest.raises(ConnectionsError):
        conns.connect_direct("bot")
    assert other.seen == []
    assert SECRET not in json.dumps(conns.get("bot").to_dict())


def test_services_of_the_catalog_send_nothing_elsewhere(conns):
    conns.create("gc", "google_contacts", client_id="id-1", client_secret="secret-google-1")
    with pytest.raises(ConnectionsError, match="only to"):
        conns.request("gc", "GET", "https://evil.example/people")
