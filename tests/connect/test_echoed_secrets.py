"""A token endpoint or API that echoes what it was sent (the Basic header, the posted form, a
JSON copy) in its error: no form of any secret may reach the store, `show`, `show --json` or the
admin API."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus, unquote_plus

import pytest

from connect_helpers import ROOT_DIR, database_bytes
from connections import AuthFailed, Connections, HttpClient, Service, Store
from sluice.demo.provider import LocalProvider

CLIENT_ID = "echo-client"
# characters that every encoding writes differently
SECRET = 'cs/e+ch"o \\ s3cr=t&x?~'
REFRESH = "rt-echo/refresh+token=77"


def every_form(value: str) -> set[str]:
    """The forms a search looks for: as is, URL-encoded, JSON-escaped, base64 (both
    alphabets), and inside every Basic header a client could send."""
    raw = value.encode()
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1],
             base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
             raw.hex()}
    for pair in (f"{CLIENT_ID}:{value}", f"{quote(CLIENT_ID)}:{quote(value, safe='')}",
                 f"{quote_plus(CLIENT_ID)}:{quote_plus(value)}"):
        basic = base64.b64encode(pair.encode()).decode()
        forms |= {basic, f"Basic {basic}", json.dumps(basic)[1:-1], quote(basic, safe="")}
    return forms


class Echo(BaseHTTPRequestHandler):
    """Answers 400 (or 401 for the API) with everything it got, in several encodings."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
        auth = self.headers.get("authorization", "")
        echoed = (f"got Authorization: {auth!s}; raw basic: {auth.partition(' ')[2]}; "
                  f"form: {body}; decoded: {unquote_plus(body)}; json: "
                  f"{json.dumps({'auth': auth, 'form': unquote_plus(body)})}; "
                  f"url: {quote(auth, safe='')}")
        self._answer(400, {"error": "invalid_client", "error_description": echoed})

    def do_GET(self):
        sent = " ".join(self.headers.values())
        raw = sent.encode()
        self._answer(401, {"message": f"bad credentials: {self.headers.get('authorization')}",
                           "b64": base64.b64encode(b"seen:" + raw).decode(),
                           "b64url": base64.urlsafe_b64encode(b"at offset " + raw).decode(),
                           "quoted": quote(sent, safe=""), "hex": raw.hex()},
                     headers={"x-echo": base64.b64encode(b"h:" + raw).decode()})

    def _answer(self, status, data, headers=None):
        payload = json.dumps(data).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def echo():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def assert_nothing_shown(texts, home):
    data = database_bytes(home)
    for value in (SECRET, REFRESH):
        for form in every_form(value):
            for text in texts:
                assert form not in text, (form, text)
            assert form.encode() not in data, form


def _cli(home, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT_DIR), SLUICE_HOME=str(home))
    done = subprocess.run([sys.executable, "-m", "sluice", "connections", *args], env=env,
                          capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def _admin_api(home, tmp_path) -> list[str]:
    from sluice.events.server import App, Secrets

    bindings = tmp_path / "bindings.toml"
    bindings.write_text("")
    server = App(bindings, home, Secrets({"SLUICE_RUNNER_TOKEN": "runner-tok-1",
                                             "SLUICE_ADMIN_TOKEN": "admin-tok-2"}))
    try:
        client = server.flask.test_client()
        headers = {"Authorization": "Bearer admin-tok-2"}
        return [client.get("/admin/connections", headers=headers).get_data(as_text=True),
                client.get("/admin/connections/bot", headers=headers).get_data(as_text=True)]
    finally:
        server.stop()


@pytest.mark.parametrize("client_auth", ["basic", "body"])
def test_an_echoing_token_endpoint_leaves_no_form_of_the_secret(tmp_path, echo, client_auth,
                                                                 engine):
    home = tmp_path / "home"
    with Connections(Store.open(home), http=HttpClient(read_timeout=5)) as conns:
        conns.add_service(Service(name="echoing", auth="oauth2", grant="client_credentials",
                                  token_url=echo + "/token", client_auth=client_auth,
                                  client_id=CLIENT_ID), client_secret=SECRET)
        conns.create("bot", "echoing")
        with pytest.raises(AuthFailed) as raised:
            conns.connect_direct("bot")
        info = conns.get("bot")
        assert "invalid_client" in info.last_error  # the useful part stays
        texts = [str(raised.value), info.last_error, info.status, json.dumps(info.to_dict()),
                 repr(info)]
    texts += [_cli(home, "show", "bot"), _cli(home, "show", "bot", "--json"),
              _cli(home, "list", "--json"), _cli(home, "connect", "bot")]
    texts += _admin_api(home, tmp_path)
    assert any("***" in t for t in texts)
    assert_nothing_shown(texts, home)


def test_an_echoing_refresh_leaves_no_form_of_the_refresh_token(tmp_path, echo, engine):
    home = tmp_path / "home"
    provider = LocalProvider()
    try:
        with Connections(Store.open(home), http=HttpClient(read_timeout=5)) as conns:
            conns.add_service(Service(name="echoing", auth="oauth2", token_url=echo + "/token",
                                      authorize_url=provider.url + "/oauth2/authorize",
                                      client_auth="body", client_id=CLIENT_ID),
                              client_secret=SECRET)
            conns.create("crm", "echoing")
            with pytest.raises(AuthFailed) as raised:
                conns.connect_with_tokens("crm", refresh_token=REFRESH)
            info = conns.get("crm")
            texts = [str(raised.value), info.last_error or "", info.status,
                     json.dumps(info.to_dict())]
        texts += [_cli(home, "show", "crm", "--json"), _cli(home, "refresh", "crm")]
        assert_nothing_shown(texts, home)
    finally:
        provider.stop()


def test_the_masker_finds_every_encoding():
    from connections.redaction import masker_for

    mask = masker_for([{"client_secret": SECRET, "refresh_token": REFRESH, "short": "abc"}])
    for value in (SECRET, REFRESH):
        for form in every_form(value):
            shown = mask(f"before {form} after")
            assert value not in shown and form not in shown, (form, shown)
            assert shown.startswith("before ") and shown.endswith(" after")
    assert mask("nothing secret here: abc, dGVzdA==") == "nothing secret here: abc, dGVzdA=="


def test_an_api_that_echoes_the_key_in_any_encoding_shows_the_script_none(conns, echo):
    key = "api/key+with=odd chars 0042"
    conns.add_service(Service(name="keyed", auth="apikey", key_name="Authorization",
                              key_prefix="Token", api_base_url=echo))
    conns.create("k", "keyed", api_key=key)
    response = conns.request("k", "GET", "/anything", mask_secrets=True)
    shown = response.text + json.dumps(dict(response.headers))
    assert "***" in shown and "bad credentials" in shown
    raw = key.encode()
    for form in every_form(key) | {base64.b64encode(b"seen:Token " + raw).decode()[8:40]}:
        assert form not in shown, form
    body = json.loads(response.text)
    for name in ("b64", "b64url"):
        decoded = base64.b64decode(body[name] + "==", altchars=b"-_" if name == "b64url"
                                   else None) if "***" not in body[name] else b""
        assert raw not in decoded
