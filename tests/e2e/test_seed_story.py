"""The seed story, as a user lives it: a custom "MailChimp" service (OAuth 2.0) on the local
provider, a connection authorized through the browser flow, and the example scripts in scripts/
getting a campaign and posting a member through it with `sluice run`."""

from __future__ import annotations

import json

import pytest
import requests

from connect_helpers import CLIENT_ID, database_bytes
from test_cli_connections import free_port, read_url_line

from conftest import ROOT


def sluice_run(admin, *args, expect=0):
    return admin.sluice("run", *args, expect=expect)


def test_mailchimp_through_a_connection(admin, provider):
    admin("add-service", "mailchimp_oauth", "--title", "MailChimp", "--auth", "oauth2",
          "--client-id", CLIENT_ID, "--client-secret-env", "APP_SECRET",
          "--authorize-url", provider.url + "/oauth2/authorize",
          "--token-url", provider.url + "/oauth2/token", "--scope", "read",
          "--scope", "offline_access", "--api-base-url", provider.url + "/api/3.0")
    admin("create", "mailchimp", "--service", "mailchimp_oauth")
    connecting = admin.start("connect", "mailchimp", "--no-browser", "--port", free_port())
    requests.get(read_url_line(connecting), timeout=20)
    admin.finish(connecting)
    api = provider.url + "/api/3.0"

    got = sluice_run(admin, ROOT / "scripts" / "mailchimp_campaign.dg", "--arg", "campaignId=c1",
                     "--arg", f"apiBase={api}", "--json")
    summary = json.loads(got.stdout)["return"]
    assert summary == {"id": "c1", "title": "Autumn news", "subject": "What is new",
                       "emails_sent": 1250, "status": "sent"}

    missing = sluice_run(admin, ROOT / "scripts" / "mailchimp_campaign.dg", "--arg",
                         "campaignId=nope", "--arg", f"apiBase={api}")
    assert "no campaign nope" in missing.stdout

    posted = sluice_run(admin, ROOT / "scripts" / "mailchimp_subscribe.dg", "--arg", "listId=l1",
                        "--arg", "email= Ann@Example.com ", "--arg", "firstName=Ann",
                        "--arg", f"apiBase={api}", "--json")
    result = json.loads(posted.stdout)["return"]
    assert result["code"] == 200
    assert result["member"]["email_address"] == "ann@example.com"
    assert provider.members["l1"]["ann@example.com"]["merge_fields"] == {"FNAME": "Ann"}

    again = sluice_run(admin, ROOT / "scripts" / "mailchimp_subscribe.dg", "--arg", "listId=l1",
                       "--arg", "email=ann@example.com", "--arg", "firstName=Ann",
                       "--arg", f"apiBase={api}")
    assert "MailChimp refused ann@example.com" in again.stdout and "Member Exists" in again.stdout

    # the provider drops the access token: one refresh, one retry, the script never knows
    provider.expire_access_tokens()
    sluice_run(admin, ROOT / "scripts" / "mailchimp_campaign.dg", "--arg", "campaignId=c1",
               "--arg", f"apiBase={api}")
    assert provider.counts["refresh_token"] == 1

    # revoked at the provider: the run fails with the command that mends it
    provider.revoke_all()
    provider.expire_access_tokens()
    failed = sluice_run(admin, ROOT / "scripts" / "mailchimp_campaign.dg", "--arg",
                        "campaignId=c1", "--arg", f"apiBase={api}", expect=1)
    assert "sluice connections connect mailchimp" in failed.stderr
    assert "expired" in admin("show", "mailchimp").stdout
    admin.assert_no_secret_shown()


def test_sendmail_without_smtp_goes_to_the_outbox(admin):
    done = sluice_run(admin, ROOT / "scripts" / "welcome_mail.dg", "--arg", "email=ann@example.com",
                      "--arg", "name=Ann", "--arg", "manager=bo@example.com")
    assert "welcome mail sent to ann@example.com" in done.stdout
    assert "no SMTP server is set up" in done.stderr
    (mail,) = (admin.home / "outbox").glob("*.eml")
    text = mail.read_text()
    assert "To: ann@example.com" in text and "Cc: bo@example.com" in text
    assert "Subject: Welcome, Ann" in text


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"mailer" and auth_data.password == b"smtp-pass-5150"
        return AuthResult(success=ok, handled=False)

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port(),
                            authenticator=authenticator, auth_require_tls=False)
    controller.start()
    controller.received = received
    yield controller
    controller.stop()


def test_sendmail_through_a_real_smtp_server(admin, smtp_server):
    from email import message_from_bytes

    from conftest import _command

    import subprocess

    def mail(*args, **env):
        done = subprocess.run(_command() + ["mail", *args], capture_output=True, text=True,
                              timeout=30, env=dict(admin.env, **env))
        admin.printed += [done.stdout, done.stderr]
        assert done.returncode == 0, done.stderr
        return done.stdout

    mail("set", "--host", "127.0.0.1", "--port", str(smtp_server.port), "--security", "none",
         "--username", "mailer", "--password-env", "PW", PW="smtp-pass-5150")
    assert "password: (set)" in mail("show")
    done = sluice_run(admin, ROOT / "scripts" / "welcome_mail.dg", "--arg",
                      "email=ann@example.com", "--arg", "name=Ann", "--arg",
                      "manager=bo@example.com")
    assert "welcome mail sent" in done.stdout and "outbox" not in done.stderr
    (envelope,) = smtp_server.received
    assert sorted(envelope.rcpt_tos) == ["ann@example.com", "bo@example.com"]
    message = message_from_bytes(envelope.content)
    assert message["Subject"] == "Welcome, Ann"
    html = next(p for p in message.walk() if p.get_content_type() == "text/html")
    assert "<p>Hello Ann,</p>" in html.get_payload(decode=True).decode()

    mail("set", "--host", "127.0.0.1", "--port", str(smtp_server.port), "--security", "none",
         "--username", "mailer", "--password-env", "PW", PW="wrong-pass-0000")
    failed = sluice_run(admin, ROOT / "scripts" / "welcome_mail.dg", "--arg",
                        "email=ann@example.com", "--arg", "name=Ann", "--arg",
                        "manager=bo@example.com", expect=1)
    assert "refused the user name or password" in failed.stderr
    printed = "".join(admin.printed)
    stored = database_bytes(admin.home)
    for secret in ("smtp-pass-5150", "wrong-pass-0000"):
        assert secret not in printed and secret.encode() not in stored
