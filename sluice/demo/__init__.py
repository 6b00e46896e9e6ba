"""`sluice demo`: the whole story offline, on 127.0.0.1, in one command.

It starts the local OAuth provider and API (sluice/demo/provider.py), makes a throwaway store, adds a
custom "MailChimp" service and a connection to it, authorizes the connection (the demo plays the
browser and the consent is given automatically), runs the example scripts that read a campaign and
add an audience member through the connection, shows the snippet a script would use, and cleans
up. Each step is printed as it happens; `say` is the printer (the CLI passes print).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

CLIENT_ID = "sluice-demo-app"
LINK = "mailchimp"


def scripts_folder() -> Path:
    """The example scripts: installed inside the package, or the source tree's scripts/."""
    package = Path(__file__).resolve().parents[1]  # sluice/
    for candidate in (package / "scripts", package.parent / "scripts"):
        if (candidate / "mailchimp_campaign.dg").is_file():
            return candidate
    raise FileNotFoundError("the example scripts are missing from the Sluice installation")


def run_demo(say=print, *, keep: bool = False) -> int:
    import secrets as random_secrets

    import requests

    import runtime
    from connections import Connections, LoopbackListener, Service, Store

    from .provider import LocalProvider
    from ..adapters.web import ConnectionsWeb

    home = Path(tempfile.mkdtemp(prefix="sluice-demo-"))
    provider = LocalProvider()
    client_secret = random_secrets.token_urlsafe(24)
    provider.add_client(CLIENT_ID, client_secret)
    conns = Connections(Store.open(home))
    web = ConnectionsWeb(conns)
    api = provider.url + "/api/3.0"
    try:
        say(f"1. A local OAuth 2.0 provider and a small MailChimp API are running at "
            f"{provider.url}")
        say(f"   (a throwaway store is in {home}; your own connections are not touched)")

        conns.add_service(Service(
            name="mailchimp_demo", title="MailChimp (local demo)", auth="oauth2",
            client_id=CLIENT_ID, authorize_url=provider.url + "/oauth2/authorize",
            token_url=provider.url + "/oauth2/token", revoke_url=provider.url + "/oauth2/revoke",
            scopes=("read", "write", "offline_access"), api_base_url=api,
            check_url=api + "/campaigns/c1"), client_secret=client_secret)
        say("2. Custom service added: sluice connections add-service mailchimp_demo --auth oauth2 "
            "--client-id ... --client-secret-env ... --authorize-url ... --token-url ...")

        conns.create(LINK, "mailchimp_demo", display_name="MailChimp")
        say(f"3. Connection created: sluice connections create {LINK} --service mailchimp_demo")

        listener = LoopbackListener(0)
        authorization = conns.begin_authorization(LINK, listener.redirect_uri)
        say(f"4. Authorizing (sluice connections connect {LINK}). The authorization URL, with "
            "state and a PKCE challenge:")
        say(f"   {authorization.url}")
        say("   The demo opens it as a browser would; the local provider consents at once and "
            f"redirects to {listener.redirect_uri}")
        browser = _browse(requests, authorization.url)
        info = listener.wait(lambda url: conns.finish_authorization(authorization, url),
                             timeout=30)
        browser.join(10)
        say(f"   {info.link_name}: {info.status} (scopes: {' '.join(info.scopes)}; refresh "
            f"token stored: {'yes' if info.has_refresh_token else 'no'}; every secret sealed "
            "in the store)")

        services = runtime.Services.standard(web=web)
        engine = runtime.Runtime(services=services)
        shown: list[str] = []
        folder = scripts_folder()
        for number, (name, args, what) in enumerate((
                ("mailchimp_campaign.dg", {"campaignId": "c1", "apiBase": api},
                 "reads a campaign"),
                ("mailchimp_subscribe.dg", {"listId": "l1", "email": "Ann@Example.com",
                                            "firstName": "Ann", "apiBase": api},
                 "adds an audience member"),
        ), start=5):
            source = (folder / name).read_text(encoding="utf-8")
            say(f"{number}. Running scripts/{name}, which {what} through connection: "
                f"\"{LINK}\":")
            result = engine.run(source, args, filename=name,
                                on_info=lambda line: say(f"   info: {line}"))
            if not result.ok:
                say(f"   {result.error.render()}")
                return 1
            value = runtime_text(result.value)
            shown.append(value)
            say(f"   returned: {value}")

        secrets_seen = [s for s in provider.all_secrets() if any(s in t for t in shown)]
        say("7. The scripts named the connection and never saw a token: "
            + ("no secret appears in their output." if not secrets_seen
               else "A SECRET APPEARED IN THE OUTPUT (this is a bug)."))
        say(f"8. The snippet for a script (sluice connections snippet {LINK}):")
        for line in conns.snippet(LINK).splitlines():
            say(f"   {line}")
        if keep:
            say(f"The store is kept: SLUICE_HOME={home} sluice connections list")
        else:
            say("Done; the provider is stopped and the throwaway store removed.")
        return 0 if not secrets_seen else 1
    finally:
        web.close()
        provider.stop()
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def runtime_text(value) -> str:
    from runtime.values import to_text

    return to_text(value)


def _browse(requests, url: str):
    import threading

    def go():
        try:
            requests.get(url, timeout=20)
        except requests.RequestException:
            pass  # the listener reports what went wrong

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread

