"""The Connections console in a real browser, against a real server and the local OAuth
provider: sign in, define a custom OAuth 2.0 service, create and connect a connection through the
provider's consent, copy the snippet, run a script through it, see the run, revoke; and what must
be refused: a wrong password, a form without its CSRF token, a cross-site post, a signed-out
visit. Every page and answer is searched for every secret."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "console-admin-token-5b1e7"
RUNNER_TOKEN = "console-runner-token-77c2e"
PASSWORD = "a long console password 42"
CLIENT_ID, CLIENT_SECRET = "console-test-app", "console-client-secret-9d3f"
SCREENSHOTS = os.environ.get("SLUICE_SCREENSHOTS")  # a folder: save the main pages there


def _command() -> list[str]:
    beside = Path(sys.executable).parent / "sluice"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "sluice"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Console:
    """`sluice console` (or `sluice serve`, which serves the same console) in a process of its
    own, with a home of its own."""

    def __init__(self, tmp_path: Path, command: str = "console"):
        self.command = command
        self.home = tmp_path / "home"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, SLUICE_HOME=str(self.home), SLUICE_NO_BROWSER="1",
                        SLUICE_ADMIN_TOKEN=ADMIN_TOKEN, CONSOLE_PASSWORD=PASSWORD,
                        SLUICE_RUNNER_TOKEN=RUNNER_TOKEN,
                        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH",
                                                                              "")]))
        self.env.pop("SLUICE_SECRET_KEY", None)
        self.cwd = tmp_path
        self.process = None

    def sluice(self, *args, expect=0):
        done = subprocess.run(_command() + [str(a) for a in args], capture_output=True,
                              text=True, env=self.env, cwd=self.cwd, timeout=60)
        assert done.returncode == expect, done.stdout + done.stderr
        return done

    def start(self):
        self.process = subprocess.Popen(_command() + [self.command, "--port", str(self.port)],
                                        env=self.env, cwd=self.cwd, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/console/sign-in", timeout=3)
                return self
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        self.stop()
        raise AssertionError("the console did not start: " + self.process.stderr.read())

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def served(tmp_path):
    """`sluice serve` with a binding (event `ping` runs scripts/who.dg) and the console."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "who.dg").write_text('return "not yet";\n')
    (tmp_path / "scripts" / "events.toml").write_text(
        '[[binding]]\nname = "who"\nevent = "ping"\nscript = "who.dg"\n'
        'connections = ["mailchimp"]\n')
    c = Console(tmp_path, "serve")
    c.sluice("console", "set-password", "--password-env", "CONSOLE_PASSWORD")
    c.start()
    yield c
    c.stop()


@pytest.fixture
def console(tmp_path):
    c = Console(tmp_path)
    c.sluice("console", "set-password", "--password-env", "CONSOLE_PASSWORD")
    c.start()
    yield c
    c.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    p = context.new_page()
    yield p
    context.close()


def sign_in(page, console, secret=ADMIN_TOKEN):
    page.goto(console.url + "/console/connections")
    page.get_by_label("Admin token or console password").fill(secret)
    page.get_by_role("button", name="Sign in").click()


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"console-{name}.png"), full_page=True)


def test_the_mailchimp_story_in_the_browser(served, page, provider, tmp_path):
    console = served
    provider.add_client(CLIENT_ID, CLIENT_SECRET)
    seen: list[str] = []
    page.on("response", lambda r: seen.append(_text(r)))

    # a signed-out visit lands on the sign-in page; a wrong password is refused
    page.goto(console.url + "/console/connections")
    assert "/console/sign-in" in page.url
    shot(page, "sign-in")
    page.get_by_label("Admin token or console password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert "not the admin token or the console password" in page.content()
    sign_in(page, console, PASSWORD)
    assert page.url.endswith("/console/connections")
    assert "No connections yet" in page.content()

    # the catalog, searched and filtered by auth type
    page.get_by_role("link", name="Create connection").click()
    page.get_by_label("Search").fill("google")
    page.get_by_label("Auth type").select_option("oauth2")
    page.get_by_role("button", name="Filter").click()
    assert page.locator(".card").count() >= 1
    assert all("OAuth 2.0" in t for t in page.locator(".card .badge").all_inner_texts())
    shot(page, "services")

    # a custom OAuth 2.0 service from the form; a mistake first keeps what was typed
    page.get_by_role("link", name="Custom service").click()
    form = {
        "Service name": "Local MailChimp", "Service link name": "localchimp",
        "Client ID": CLIENT_ID, "Client secret": CLIENT_SECRET,
        "Authorize URL": provider.url + "/oauth2/authorize",
        "Access token URL (OAuth 2.0)": "not a url",
        "Scopes": "read offline_access",
        "Extra authorize parameters": "access_type=offline",
        "API base URL": provider.url + "/api", "Test URL": provider.url + "/api/me",
        "Connection name": "MailChimp", "Connection link name": "mailchimp",
    }
    for label, value in form.items():
        page.get_by_label(label, exact=True).fill(value)
    redirect = page.locator("#redirect-url").inner_text()
    assert redirect == console.url + "/console/oauth/callback"
    shot(page, "custom-service")
    page.get_by_role("button", name="Create and Connect").click()
    assert "an http:// or https:// address" in page.content()
    assert page.get_by_label("Client ID", exact=True).input_value() == CLIENT_ID
    assert page.get_by_label("Client secret", exact=True).input_value() == ""  # never echoed
    page.get_by_label("Client secret", exact=True).fill(CLIENT_SECRET)
    page.get_by_label("Access token URL (OAuth 2.0)").fill(provider.url + "/oauth2/token")
    assert page.get_by_label("Access token URL (OAuth 2.0)").input_value() == \
        provider.url + "/oauth2/token", page.locator("#f-token_url").input_value()
    page.get_by_role("button", name="Create and Connect").click()

    # off to the provider (consent is automatic there) and back, connected
    page.wait_for_url(re.compile(r".*/console/connections/mailchimp\?note=.*"))
    assert provider.counts["authorize"] == 1
    assert "Connected." in page.content()
    assert page.locator(".badge").first.inner_text() == "connected"
    snippet = page.locator("#snippet-1").inner_text()
    assert 'connection: "mailchimp"' in snippet
    page.get_by_role("button", name="Copy").first.click()
    page.get_by_role("button", name="Copied").wait_for(timeout=5000)
    page.get_by_role("button", name="Test").click()
    assert "Test: works" in page.content()
    shot(page, "connection")

    # the snippet's connection works from a script
    script = tmp_path / "who.dg"
    script.write_text(f'me = invokeurl [ url: "{provider.url}/api/me" type: GET '
                      'connection: "mailchimp" ];\ninfo me.get("user");\n')
    assert console.sluice("run", script).stdout.strip() == "alice"

    # an event runs the bound script in the server's workers; the run shows on the runs page
    (tmp_path / "scripts" / "who.dg").write_text(script.read_text() + 'return "done";\n')
    accepted = requests.post(console.url + "/events/ping", json={}, timeout=10,
                             headers={"Authorization": f"Bearer {RUNNER_TOKEN}"})
    assert accepted.status_code == 202
    (run_id,) = accepted.json()["runs"]
    deadline = time.monotonic() + 30
    while requests.get(f"{console.url}/runs/{run_id}", timeout=5, headers={
            "Authorization": f"Bearer {RUNNER_TOKEN}"}).json()["status"] != "done":
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.2)
    page.get_by_role("link", name="Runs").click()
    page.get_by_label("Status").select_option("done")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("tbody tr").count() == 1
    shot(page, "runs")
    page.locator("tbody tr a").first.click()
    assert "alice" in page.content() and '"done"' in page.content()
    page.get_by_role("link", name="Bindings").click()
    assert "mailchimp" in page.locator("tbody").inner_text()

    # revoke, after confirming
    page.goto(console.url + "/console/connections/mailchimp")
    page.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Yes, revoke it").click()
    assert "Revoked" in page.content()
    assert page.locator(".badge").first.inner_text() == "revoked"
    assert page.get_by_role("button", name="Reconnect").count() == 1

    # forged requests: no CSRF token, a cross-site post; both refused, nothing changed
    no_token = page.request.post(console.url + "/console/connections/mailchimp/delete",
                                 form={"x": "1"})
    assert no_token.status == 400
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    cross_site = page.request.post(console.url + "/console/connections/mailchimp/delete",
                                   form={"csrf_token": csrf},
                                   headers={"Origin": "http://evil.example"})
    assert cross_site.status == 403
    page.goto(console.url + "/console/connections")
    assert "mailchimp" in page.content()

    # signing out ends the session; the old cookie opens nothing
    cookies = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    assert "/console/sign-in" in page.url
    replay = requests.get(console.url + "/console/connections", allow_redirects=False,
                          cookies={c["name"]: c["value"] for c in cookies}, timeout=5)
    assert replay.status_code == 302 and "/console/sign-in" in replay.headers["Location"]

    # no page and no answer held a secret
    secrets = [CLIENT_SECRET, ADMIN_TOKEN, RUNNER_TOKEN, PASSWORD, *provider.all_secrets()]
    for text in seen:
        for secret in secrets:
            assert secret not in text


def test_headers_cookie_and_the_runner_token(console, page):
    sign_in(page, console)
    answer = page.request.get(console.url + "/console/connections")
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert answer.headers["x-frame-options"] == "DENY"
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "sluice_console"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # a bearer token (the runner's or the admin's) opens no console page
    for token in (ADMIN_TOKEN, "runner-token"):
        r = requests.get(console.url + "/console/connections", allow_redirects=False,
                         headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert r.status_code == 302


def test_five_wrong_passwords_slow_the_address_down(console):
    with requests.Session() as s:
        statuses = [s.post(console.url + "/console/sign-in", data={"secret": f"wrong{n}"},
                           timeout=5).status_code for n in range(7)]
        assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
        blocked = s.post(console.url + "/console/sign-in", data={"secret": ADMIN_TOKEN},
                         timeout=5)
        assert blocked.status_code == 429 and "Retry-After" in blocked.headers


def test_readable_at_360_pixels(console, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    sign_in(page, console)
    page.goto(console.url + "/console/services")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""[...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 360)
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
        .concat([...document.querySelectorAll('body *')].filter(e => e.scrollWidth > e.clientWidth + 1)
        .map(e => 'scroll:' + e.tagName + '.' + e.className + ' ' + e.scrollWidth + '/' + e.clientWidth))""")
    assert width <= 360, wide
    context.close()


def _text(response) -> str:
    try:
        body = response.text()
    except Exception:  # a redirect or a body the browser did not keep
        body = ""
    return response.url + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items()) \
        + "\n" + body
