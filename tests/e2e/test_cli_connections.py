"""`sluice connections ...` driven as an admin would, against the local provider; every output
and the database are searched for the secrets."""

from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest
import requests

from conftest import _command
from connect_helpers import CLIENT_ID, CLIENT_SECRET, database_bytes

CONSUMER_KEY, CONSUMER_SECRET = "consumer-key-e2e", "consumer-secret-e2e-771"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Admin:
    """Runs `sluice connections ...` with its own SLUICE_HOME and keeps everything printed."""

    def __init__(self, home, provider):
        self.home = home
        self.provider = provider
        self.env = dict(os.environ, SLUICE_HOME=str(home), NO_COLOR="1",
                        APP_SECRET=CLIENT_SECRET, CONSUMER_SECRET=CONSUMER_SECRET)
        self.env.pop("SLUICE_SECRET_KEY", None)
        self.env.pop("DISPLAY", None)
        self.printed: list[str] = []

    def __call__(self, *args, input=None, expect=0, **env):
        return self.sluice("connections", *args, input=input, expect=expect, **env)

    def sluice(self, *args, input=None, expect=0, **env):
        """Any `sluice` command with this home; what it printed is kept."""
        done = subprocess.run(_command() + list(map(str, args)), input=input,
                              capture_output=True, text=True, timeout=60,
                              env=dict(self.env, **env))
        self.printed += [done.stdout, done.stderr]
        assert done.returncode == expect, (done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        return done

    def start(self, *args):
        return subprocess.Popen(_command() + ["connections", *map(str, args)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env)

    def finish(self, process, expect=0):
        out, err = process.communicate(timeout=60)
        self.printed += [out, err]
        assert process.returncode == expect, (out, err)
        assert "Traceback" not in err
        return out, err

    def assert_no_secret_shown(self):
        secrets = self.provider.all_secrets() | {CLIENT_SECRET, CONSUMER_SECRET}
        assert len(secrets) >= 2
        printed = "\n".join(self.printed)
        stored = database_bytes(self.home)
        for secret in secrets:
            assert secret not in printed, secret
            assert secret.encode() not in stored, secret


@pytest.fixture
def provider(provider):
    """The shared provider, which also knows an OAuth 1.0a consumer."""
    provider.add_consumer(CONSUMER_KEY, CONSUMER_SECRET)
    return provider


@pytest.fixture
def admin(tmp_path, provider):
    return Admin(tmp_path / "home", provider)


def add_oauth2_service(admin, provider, name="local", *extra):
    admin("add-service", name, "--auth", "oauth2", "--client-id", CLIENT_ID,
          "--client-secret-env", "APP_SECRET",
          "--authorize-url", provider.url + "/oauth2/authorize",
          "--token-url", provider.url + "/oauth2/token",
          "--revoke-url", provider.url + "/oauth2/revoke",
          "--scope", "read", "--scope", "offline_access", "--client-auth", "basic",
          "--api-base-url", provider.url + "/api", "--check-url", provider.url + "/api/me",
          *extra)


def read_url_line(process) -> str:
    line = process.stdout.readline().strip()
    assert line.startswith("http://") and " " not in line, line
    return line


def test_an_oauth2_connection_from_start_to_end(admin, provider):
    add_oauth2_service(admin, provider)
    created = admin("create", "crm", "--service", "local", "--param", "region=eu")
    assert "crm" in created.stdout and "not connected" in created.stdout

    port = free_port()
    connecting = admin.start("connect", "crm", "--no-browser", "--port", port)
    url = read_url_line(connecting)
    assert f"redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fcallback" in url
    page = requests.get(url, timeout=20)  # the browser follows the redirect to the listener
    assert page.status_code == 200 and "Connected" in page.text
    out, _ = admin.finish(connecting)
    assert "crm: connected" in out

    listed = admin("list").stdout
    assert "crm" in listed and "connected" in listed and "oauth2" in listed
    (entry,) = json.loads(admin("list", "--json").stdout)
    assert entry["link_name"] == "crm" and entry["status"] == "connected"
    assert entry["has_refresh_token"] is True and entry["scopes"] == ["read", "offline_access"]
    shown = json.loads(admin("show", "crm", "--json").stdout)
    assert set(shown) >= {"link_name", "service", "auth", "status", "scopes", "created_at",
                          "updated_at", "last_used_at", "expires_at"}
    assert "status:" in admin("show", "crm").stdout
    snippet = admin("snippet", "crm").stdout
    assert 'connection: "crm"' in snippet and "invokeurl" in snippet
    assert "ok" in admin("test", "crm").stdout
    assert "crm: connected" in admin("refresh", "crm").stdout
    assert provider.counts["refresh_token"] == 1
    assert "revoked" in admin("revoke", "crm").stdout
    assert provider.counts["revoke"] == 1
    failed = admin("test", "crm", expect=1)
    assert "revoked" in failed.stdout
    admin("delete", "crm")
    assert "no connections" in admin("list").stdout
    admin.assert_no_secret_shown()


def test_a_pasted_redirect_url(admin, provider):
    add_oauth2_service(admin, provider)
    admin("create", "crm", "--service", "local")
    connecting = admin.start("connect", "crm", "--paste", "--no-browser")
    url = read_url_line(connecting)
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.headers["location"].startswith("http://127.0.0.1:8765/callback?")
    connecting.stdin.write(answer.headers["location"] + "\n")
    connecting.stdin.flush()
    out, err = admin.finish(connecting)
    assert "crm: connected" in out and "paste" in err.lower()
    admin.assert_no_secret_shown()


def test_a_forged_redirect_and_a_refusal_fail_connect(admin, provider):
    add_oauth2_service(admin, provider)
    admin("create", "crm", "--service", "local")
    port = free_port()
    connecting = admin.start("connect", "crm", "--no-browser", "--port", port)
    read_url_line(connecting)
    page = requests.get(f"http://127.0.0.1:{port}/callback?code=x&state=forged", timeout=10)
    assert page.status_code == 400
    _, err = admin.finish(connecting, expect=1)
    assert "state does not match" in err

    provider.behaviour.deny_consent = True
    connecting = admin.start("connect", "crm", "--no-browser", "--port", port)
    requests.get(read_url_line(connecting), timeout=10)
    _, err = admin.finish(connecting, expect=1)
    assert "access_denied" in err
    assert "not connected" in admin("show", "crm").stdout
    admin.assert_no_secret_shown()


def test_client_credentials_basic_and_api_keys_connect_without_a_browser(admin, provider):
    admin("add-service", "machine", "--auth", "oauth2", "--grant", "client_credentials",
          "--client-id", CLIENT_ID, "--client-secret-env", "APP_SECRET",
          "--token-url", provider.url + "/oauth2/token", "--client-auth", "body",
          "--check-url", provider.url + "/api/me")
    admin("create", "bot", "--service", "machine")
    assert "bot: connected" in admin("connect", "bot").stdout
    assert "ok" in admin("test", "bot").stdout

    provider.basic_users["ops"] = "basic-pass-e2e-42"
    admin("add-service", "intranet", "--auth", "basic", "--check-url",
          provider.url + "/api/basic")
    admin("create", "intra", "--service", "intranet", "--username", "ops", "--password-env",
          "PASS", PASS="basic-pass-e2e-42")
    assert "intra: connected" in admin("connect", "intra").stdout

    provider.api_keys.add("api-key-e2e-9000")
    admin("add-service", "keyed", "--auth", "apikey", "--key-name", "api_key", "--key-in",
          "query", "--check-url", provider.url + "/api/key")
    admin("create", "k", "--service", "keyed", input="api-key-e2e-9000\n")  # the prompt
    assert "k: ok" in admin("test", "k").stdout
    admin("create", "badkey", "--service", "keyed", "--api-key-env", "KEY", KEY="nope-0000")
    assert "HTTP 401" in admin("connect", "badkey", expect=1).stderr
    admin.assert_no_secret_shown()


def test_an_oauth1_connection(admin, provider):
    admin("add-service", "tw", "--auth", "oauth1", "--client-id", CONSUMER_KEY,
          "--client-secret-env", "CONSUMER_SECRET", "--signature-method", "HMAC-SHA1",
          "--request-token-url", provider.url + "/oauth1/request_token",
          "--authorize-url", provider.url + "/oauth1/authorize",
          "--access-token-url", provider.url + "/oauth1/access_token",
          "--check-url", provider.url + "/api/oauth1/me")
    admin("create", "tweets", "--service", "tw")
    connecting = admin.start("connect", "tweets", "--no-browser", "--port", free_port())
    requests.get(read_url_line(connecting), timeout=20)
    out, _ = admin.finish(connecting)
    assert "tweets: connected" in out
    assert "tweets: ok" in admin("test", "tweets").stdout
    admin.assert_no_secret_shown()


def test_rotate_key_keeps_every_connection_working(admin, provider):
    provider.api_keys.add("api-key-rotate-1")
    admin("add-service", "keyed", "--auth", "apikey", "--check-url", provider.url + "/api/key")
    admin("create", "k", "--service", "keyed", "--api-key-env", "KEY", KEY="api-key-rotate-1")
    old = (admin.home / "secret.key").read_text()
    assert "new key" in admin("rotate-key").stdout
    assert (admin.home / "secret.key").read_text() != old
    assert "k: ok" in admin("test", "k").stdout
    admin.assert_no_secret_shown()
    assert "api-key-rotate-1" not in "".join(admin.printed)


def test_rotate_key_with_a_new_key_says_to_set_the_variable_only_when_the_key_lives_there(admin):
    from connections.secrets import generate_key

    new_key = generate_key()
    admin("add-service", "plain", "--auth", "basic")
    admin("create", "p", "--service", "plain", "--username", "u", "--password-env", "PW", PW="x")
    in_file = admin("rotate-key", "--new-key-env", "NEW_KEY", NEW_KEY=new_key)
    assert "SLUICE_SECRET_KEY" not in in_file.stdout + in_file.stderr
    assert (admin.home / "secret.key").read_text().strip() == new_key
    newer = generate_key()
    in_env = admin("rotate-key", "--new-key-env", "NEW_KEY", NEW_KEY=newer,
                   SLUICE_SECRET_KEY=new_key)
    assert "now set SLUICE_SECRET_KEY to the value of NEW_KEY" in in_env.stderr
    assert "status:            connected" in admin("show", "p", SLUICE_SECRET_KEY=newer).stdout


def test_services_redirect_url_and_help(admin):
    found = json.loads(admin("services", "--search", "google", "--json").stdout)
    assert {s["name"] for s in found} >= {"google_drive", "google_calendar", "google_contacts"}
    assert len(admin("services").stdout.splitlines()) >= 30
    assert admin("redirect-url").stdout.strip() == "http://127.0.0.1:8765/callback"
    assert admin("redirect-url", "--port", 9000).stdout.strip() == \
        "http://127.0.0.1:9000/callback"
    helped = admin("--help").stdout
    for action in ("services", "add-service", "create", "connect", "list", "show", "snippet",
                   "refresh", "revoke", "delete", "test", "redirect-url", "rotate-key"):
        assert action in helped
        admin(action, "--help")


def test_mistakes_get_clear_messages(admin):
    assert "no connection named 'nope'" in admin("show", "nope", expect=1).stderr
    assert "MISSING_VAR" in admin("create", "k", "--service", "stripe", "--api-key-env",
                                  "MISSING_VAR", expect=2).stderr
    assert "link name" in admin("create", "Bad-Name", "--service", "stripe", "--api-key-env",
                                "APP_SECRET", expect=1).stderr
    assert "--param dc=VALUE" in admin("create", "mc", "--service", "mailchimp",
                                       expect=1).stderr
    assert "client id" in admin("connect", "drive", expect=1).stderr or True
    admin("create", "drive", "--service", "google_drive")
    assert "client id" in admin("connect", "drive", "--no-browser", expect=1).stderr
    assert "no service named" in admin("create", "x", "--service", "nothing", expect=1).stderr
