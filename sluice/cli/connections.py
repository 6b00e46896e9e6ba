"""`sluice connections ...`: set up services and connections, authorize them, look after them.

Everything works without a prompt when its secrets come from environment variables
(`--client-secret-env`, `--password-env`, `--api-key-env`); otherwise a hidden prompt asks (or,
with no terminal, one line of standard input is read). Nothing printed holds a secret: messages
come from the connections package, which keeps secrets out of them, and every value this command
read as a secret is masked again before anything is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .common import (EXIT_FAILED, EXIT_OK, EXIT_USAGE, SECRETS, UsageError, ask_secret,
                     command_help, err, guarded, key_values, out, secret_from_env, show_help,
                     when)


def _open():
    from connections import Connections

    return Connections()


# ---------------------------------------------------------------------------- commands


def cmd_services(args) -> int:
    with _open() as conns:
        services = conns.services(args.search)
    if args.json:
        out(json.dumps([dict(s.to_dict(), builtin=s.builtin, placeholders=s.placeholders)
                        for s in services], indent=2))
        return EXIT_OK
    if not services:
        out(f"no service matches {args.search!r}")
        return EXIT_FAILED
    width = max(len(s.name) for s in services)
    for s in services:
        kind = s.auth + (" (client credentials)" if s.grant == "client_credentials"
                         and s.auth == "oauth2" else "")
        origin = "" if s.builtin else "  [custom]"
        out(f"{s.name.ljust(width)}  {kind:<30} {s.title or s.name}{origin}")
    return EXIT_OK


def cmd_add_service(args) -> int:
    from connections import Service

    definition = {
        "name": args.name, "auth": args.auth, "title": args.title or args.name,
        "client_id": args.client_id, "authorize_url": args.authorize_url,
        "token_url": args.token_url, "refresh_url": args.refresh_url,
        "revoke_url": args.revoke_url, "request_token_url": args.request_token_url,
        "access_token_url": args.access_token_url, "api_base_url": args.api_base_url,
        "check_url": args.check_url,
    }
    if args.auth == "oauth1" and args.access_token_url is None and args.token_url:
        definition["access_token_url"] = args.token_url
        definition["token_url"] = None
    optional = {"signature_method": args.signature_method, "grant": args.grant,
                "client_auth": args.client_auth, "scope_separator": args.scope_separator,
                "key_in": args.key_in, "key_name": args.key_name, "key_prefix": args.key_prefix,
                "token_in": args.token_in, "token_name": args.token_name,
                "token_prefix": args.token_prefix}
    definition.update({k: v for k, v in optional.items() if v is not None})
    if args.scope:
        definition["scopes"] = _scopes(args.scope)
    if args.param:
        definition["authorize_params"] = key_values(args.param, "--param")
    if args.token_param:
        definition["token_params"] = key_values(args.token_param, "--token-param")
    if args.no_pkce:
        definition["pkce"] = False
    if args.allowed_host:
        definition["allowed_hosts"] = args.allowed_host
    definition = {k: v for k, v in definition.items() if v is not None}
    service = Service.from_dict(definition)

    client_secret = rsa_key = None
    if args.rsa_key_file:
        try:
            with open(args.rsa_key_file, encoding="utf-8") as f:
                rsa_key = SECRETS.add(f.read())
        except OSError as e:
            raise UsageError(f"--rsa-key-file {args.rsa_key_file}: {e.strerror}") from None
    if args.auth in ("oauth1", "oauth2"):
        client_secret = secret_from_env(args.client_secret_env, "client secret")
        needs_secret = not (args.auth == "oauth1" and args.signature_method == "RSA-SHA1")
        if client_secret is None and needs_secret:
            client_secret = ask_secret(f"client secret of {args.name}",
                                       required=service.grant == "client_credentials"
                                       or args.auth == "oauth1")
    elif args.client_secret_env:
        raise UsageError(f"a {args.auth} service has no client secret: the credentials belong "
                         "to each connection (sluice connections create)")
    with _open() as conns:
        conns.add_service(service, client_secret=client_secret, rsa_key=rsa_key,
                          replace=args.replace)
    out(f"service {service.name} ({service.auth}) saved")
    if service.needs_browser:
        err("register this redirect URL with the provider: "
            f"{_redirect_uri(None)}  (or the port you give connect --port)")
    return EXIT_OK


def _scopes(values: list[str]) -> list[str]:
    """--scope may repeat, and one value may hold several scopes separated by spaces."""
    return [s for value in values for s in value.split() if s]


def cmd_remove_service(args) -> int:
    with _open() as conns:
        conns.remove_service(args.name)
    out(f"service {args.name} removed")
    return EXIT_OK


def cmd_create(args) -> int:
    with _open() as conns:
        service = conns.service(args.service)
        password = api_key = None
        if service.auth == "basic":
            password = secret_from_env(args.password_env, "password")
            if password is None and args.username is not None:
                password = ask_secret(f"password of {args.username}", required=False) or ""
        elif service.auth == "apikey":
            api_key = secret_from_env(args.api_key_env, "API key")
            if api_key is None:
                api_key = ask_secret(f"API key for {args.link}", required=True)
        elif args.username or args.password_env or args.api_key_env:
            raise UsageError(f"service {service.name} uses {service.auth}: --username, "
                             "--password-env and --api-key-env do not apply")
        client_secret = secret_from_env(args.client_secret_env, "client secret")
        info = conns.create(args.link, service.name, display_name=args.display_name,
                            scopes=_scopes(args.scope) if args.scope else None,
                            params=key_values(args.param, "--param"),
                            client_id=args.client_id, client_secret=client_secret,
                            username=args.username, password=password, api_key=api_key)
    out(f"connection {info.link_name} created ({info.service}, {info.auth}): {info.status}")
    if info.status != "connected":
        err(f"next: sluice connections connect {info.link_name}")
    return EXIT_OK


def _redirect_uri(port: int | None) -> str:
    from connections import redirect_uri
    from connections.flows import DEFAULT_PORT

    return redirect_uri(DEFAULT_PORT if port is None else port)


def cmd_connect(args) -> int:
    from connections import LoopbackListener

    code = secret_from_env(args.code_env, "authorization code")
    access = secret_from_env(args.access_token_env, "access token")
    refresh = secret_from_env(args.refresh_token_env, "refresh token")
    if code and (access or refresh):
        raise UsageError("--code-env trades a code for tokens: give it, or tokens, not both")
    if args.expires_in is not None and not access:
        raise UsageError("--expires-in goes with --access-token-env")
    with _open() as conns:
        if code:
            info = conns.connect_with_code(args.link, code)
            out(_connected_line(info))
            return EXIT_OK
        if access or refresh:
            info = conns.connect_with_tokens(args.link, access_token=access,
                                             refresh_token=refresh, expires_in=args.expires_in)
            out(_connected_line(info))
            return EXIT_OK
        info = conns.get(args.link)
        service = conns.service(info.service)
        if not service.needs_browser:
            info = conns.connect_direct(args.link)
            out(_connected_line(info))
            return EXIT_OK
        if args.paste:
            authorization = conns.begin_authorization(args.link, _redirect_uri(args.port))
            err(f"Open this URL in a browser and authorize {args.link}:")
            out(authorization.url)
            _maybe_open_browser(authorization.url, args.no_browser)
            err("Then paste the whole URL the browser was sent to (it starts with "
                f"{authorization.redirect_uri}):")
            pasted = sys.stdin.readline().strip()
            if not pasted:
                raise UsageError("no URL pasted")
            info = conns.finish_authorization(authorization, pasted)
        else:
            listener = LoopbackListener(args.port if args.port is not None
                                        else _default_port())
            authorization = conns.begin_authorization(args.link, listener.redirect_uri)
            err(f"Open this URL in a browser and authorize {args.link} "
                f"(waiting on {listener.redirect_uri}):")
            out(authorization.url)
            _maybe_open_browser(authorization.url, args.no_browser)
            info = listener.wait(lambda url: conns.finish_authorization(authorization, url),
                                 timeout=args.timeout)
    out(_connected_line(info))
    return EXIT_OK


def _default_port() -> int:
    from connections.flows import DEFAULT_PORT

    return DEFAULT_PORT


def _maybe_open_browser(url: str, disabled: bool) -> None:
    if disabled:
        return
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        return
    import webbrowser

    try:
        webbrowser.open(url)
    except webbrowser.Error:
        pass


def _connected_line(info) -> str:
    details = []
    if info.scopes:
        details.append("scopes: " + " ".join(info.scopes))
    if info.expires_at:
        details.append("token valid until " + when(info.expires_at))
    return f"{info.link_name}: {info.status}" + (f" ({'; '.join(details)})" if details else "")


def cmd_list(args) -> int:
    with _open() as conns:
        infos = conns.list()
        problem = conns.store.key_problem
    if args.json:
        out(json.dumps([i.to_dict() for i in infos], indent=2))
    elif not infos:
        out("no connections yet: sluice connections create LINK --service NAME")
    else:
        rows = [("LINK", "SERVICE", "AUTH", "STATUS", "LAST USED")]
        rows += [(i.link_name, i.service, i.auth, i.status, when(i.last_used_at))
                 for i in infos]
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        for r in rows:
            out("  ".join(r[c].ljust(widths[c]) for c in range(4)) + "  " + r[4])
    if problem:
        err(f"warning: {problem}")
    return EXIT_OK


def cmd_show(args) -> int:
    with _open() as conns:
        info = conns.get(args.link)
    data = info.to_dict()
    if args.json:
        out(json.dumps(data, indent=2))
        return EXIT_OK
    for key, value in data.items():
        if isinstance(value, list):
            value = " ".join(value) or "-"
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
        elif value is None:
            value = "-"
        out(f"{key + ':':<19}{value}")
    return EXIT_OK


def cmd_snippet(args) -> int:
    with _open() as conns:
        print(SECRETS.mask(conns.snippet(args.link)), end="")
    return EXIT_OK


def cmd_refresh(args) -> int:
    with _open() as conns:
        info = conns.refresh(args.link)
    out(_connected_line(info))
    return EXIT_OK


def cmd_revoke(args) -> int:
    with _open() as conns:
        info = conns.revoke(args.link)
    out(f"{info.link_name}: {info.status}")
    if info.last_error:
        err(f"warning: {info.last_error}")
    return EXIT_OK


def cmd_delete(args) -> int:
    with _open() as conns:
        conns.delete(args.link)
    out(f"connection {args.link} deleted")
    return EXIT_OK


def cmd_test(args) -> int:
    with _open() as conns:
        result = conns.test(args.link)
    out(f"{args.link}: {'ok' if result.ok else 'FAILED'}: {result.message}")
    return EXIT_OK if result.ok else EXIT_FAILED


def cmd_redirect_url(args) -> int:
    out(_redirect_uri(args.port))
    return EXIT_OK


def cmd_rotate_key(args) -> int:
    from connections import Store
    from connections.secrets import KEY_ENV

    new_key = secret_from_env(args.new_key_env, "new key")
    with Store.open() as store:
        if args.discard_unreadable:
            lost = store.discard_unreadable()
            out(f"now using the current key; {len(lost)} lost their secrets"
                + (f": {', '.join(lost)}" if lost else ""))
            return EXIT_OK
        kid = store.rotate_key(new_key)
    out(f"every secret is now encrypted with the new key (id {kid})")
    if args.new_key_env and os.environ.get(KEY_ENV):  # a key file was rewritten in place
        err(f"now set {KEY_ENV} to the value of {args.new_key_env}")
    return EXIT_OK


def cmd_recover(args) -> int:
    from connections.store import recover

    result = recover()
    saved = ", ".join(f"{result.saved[t]} {t}" for t in ("connections", "services", "settings"))
    out(f"recovered {saved}")
    lost = [f"{n} of {t}" for t, n in result.lost.items() if n]
    if lost:
        err(f"warning: unreadable rows were left behind: {', '.join(lost)}")
    out(f"the damaged file is kept as {result.damaged_copy}")
    return EXIT_OK


# ---------------------------------------------------------------------------- parser


def add_parser(sub, name: str = "connections") -> None:
    conn = sub.add_parser(
        name, help=command_help(name),
        description="Connections are named credentials for third-party services. An admin\n"
                    "creates one once; scripts use it by its link name:\n"
                    "    invokeurl [ url: \"...\" type: GET connection: \"LINK\" ]\n"
                    "Secrets are encrypted at rest (key: $SLUICE_SECRET_KEY, else the file\n"
                    "$SLUICE_HOME/secret.key) and never printed. The store is\n"
                    "$SLUICE_HOME/sluice.db (default: the user data folder).",
        epilog="Typical use:\n"
               "  sluice connections services --search google\n"
               "  sluice connections add-service myapi --auth oauth2 --client-id ID "
               "--client-secret-env SECRET \\\n"
               "      --authorize-url https://.../authorize --token-url https://.../token "
               "--scope read\n"
               "  sluice connections create crm --service myapi\n"
               "  sluice connections connect crm          (prints the URL to open)\n"
               "  sluice connections snippet crm",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    conn.set_defaults(run=lambda args: show_help(conn))
    cs = conn.add_subparsers(dest="action", metavar="ACTION")

    p = cs.add_parser("services", help="list built-in and custom services")
    p.add_argument("--search", metavar="TEXT", help="only services whose name or title has TEXT")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(run=guarded(cmd_services))

    p = cs.add_parser("add-service", help="define a custom service",
                      description="Define a custom service. With no --client-secret-env, an "
                                  "OAuth service's client secret is asked for at a hidden "
                                  "prompt (or read as one line of standard input).")
    p.add_argument("name", metavar="NAME", help="lowercase letters, digits and _")
    p.add_argument("--auth", required=True, choices=["oauth2", "oauth1", "basic", "apikey"])
    p.add_argument("--title", help="a display name")
    p.add_argument("--client-id", metavar="ID", help="OAuth client id (OAuth 1.0a: consumer key)")
    p.add_argument("--client-secret-env", metavar="VAR",
                   help="environment variable holding the client (consumer) secret")
    p.add_argument("--authorize-url", metavar="U")
    p.add_argument("--token-url", metavar="U", help="OAuth 2.0 token URL")
    p.add_argument("--refresh-url", metavar="U", help="refresh URL, when not the token URL")
    p.add_argument("--revoke-url", metavar="U")
    p.add_argument("--request-token-url", metavar="U", help="OAuth 1.0a request-token URL")
    p.add_argument("--access-token-url", metavar="U", help="OAuth 1.0a access-token URL")
    p.add_argument("--signature-method",
                   choices=["HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1", "PLAINTEXT"])
    p.add_argument("--rsa-key-file", metavar="F", help="PEM private key for RSA-SHA1")
    p.add_argument("--grant", choices=["authorization_code", "client_credentials"])
    p.add_argument("--scope", action="append", metavar="S", help="a default scope (repeatable)")
    p.add_argument("--scope-separator", metavar="SEP", help="between scopes (default: space)")
    p.add_argument("--client-auth", choices=["basic", "body"],
                   help="send client credentials in a Basic header or in the body "
                        "(default: basic)")
    p.add_argument("--no-pkce", action="store_true", help="do not send a PKCE challenge")
    p.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="an extra authorization parameter (access_type=offline, ...)")
    p.add_argument("--token-param", action="append", metavar="KEY=VALUE",
                   help="an extra token-request parameter")
    p.add_argument("--key-name", metavar="NAME", help="API key: header or query parameter name")
    p.add_argument("--key-in", choices=["header", "query", "basic"], help="API key: where")
    p.add_argument("--key-prefix", metavar="TEXT", help="API key: text before the key")
    p.add_argument("--token-in", choices=["header", "query"],
                   help="OAuth 2.0: where the access token goes (default: header)")
    p.add_argument("--token-name", metavar="NAME",
                   help="OAuth 2.0: header (default Authorization) or query parameter name")
    p.add_argument("--token-prefix", metavar="TEXT",
                   help="OAuth 2.0: text before the token (default Bearer)")
    p.add_argument("--api-base-url", metavar="U", help="base of relative URLs in requests")
    p.add_argument("--check-url", metavar="U", help="a GET that succeeds when connected")
    p.add_argument("--allowed-host", metavar="H", action="append",
                   help="another host its credentials may go to (api.example.com, "
                        "*.example.com, host:port; repeat for more)")
    p.add_argument("--replace", action="store_true", help="replace a custom service")
    p.set_defaults(run=guarded(cmd_add_service))

    p = cs.add_parser("remove-service", help="remove a custom service no connection uses")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(run=guarded(cmd_remove_service))

    p = cs.add_parser("create", help="create a connection to a service",
                      description="Create a connection. Basic and API-key connections are "
                                  "connected at once; OAuth ones then need `connect`.")
    p.add_argument("link", metavar="LINK", help="the link name scripts use (lowercase)")
    p.add_argument("--service", required=True, metavar="NAME")
    p.add_argument("--display-name", metavar="TEXT")
    p.add_argument("--scope", action="append", metavar="S",
                   help="a scope (repeatable; default: the service's)")
    p.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="a value for a URL placeholder, e.g. dc=us6 or shop=acme")
    p.add_argument("--username", metavar="U", help="Basic auth user name")
    p.add_argument("--password-env", metavar="VAR", help="environment variable with the password")
    p.add_argument("--api-key-env", metavar="VAR", help="environment variable with the API key")
    p.add_argument("--client-id", metavar="ID",
                   help="your app's client id, for a built-in OAuth service")
    p.add_argument("--client-secret-env", metavar="VAR",
                   help="environment variable with your app's client secret")
    p.set_defaults(run=guarded(cmd_create))

    p = cs.add_parser("connect", help="authorize a connection",
                      description="OAuth: prints the authorization URL alone on a line (and "
                                  "opens a browser when there is one), waits for the redirect "
                                  "on http://127.0.0.1:PORT/callback, checks it and stores the "
                                  "tokens; or takes a code or tokens made elsewhere "
                                  "(--code-env, --access-token-env, --refresh-token-env). "
                                  "Client credentials, Basic, API key: checks and stores "
                                  "without a browser.")
    p.add_argument("link", metavar="LINK")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--port", type=int, metavar="P", help="loopback port (default 8765)")
    p.add_argument("--paste", action="store_true",
                   help="no listener: paste the URL the browser was redirected to")
    p.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                   help="how long to wait for the redirect (default 300)")
    p.add_argument("--code-env", metavar="VAR",
                   help="OAuth 2.0 without a browser: trade the authorization code in this "
                        "environment variable for tokens (e.g. a Zoho Self Client grant token)")
    p.add_argument("--access-token-env", metavar="VAR",
                   help="OAuth 2.0: store the access token in this environment variable")
    p.add_argument("--refresh-token-env", metavar="VAR",
                   help="OAuth 2.0: store the refresh token in this environment variable (alone: "
                        "an access token is fetched with it now)")
    p.add_argument("--expires-in", type=float, metavar="SECONDS",
                   help="with --access-token-env: how long the access token is valid")
    p.set_defaults(run=guarded(cmd_connect))

    for name, help_text, fn in (("list", "list connections", cmd_list),
                                ("show", "show one connection (never its secrets)", cmd_show)):
        p = cs.add_parser(name, help=help_text)
        if name == "show":
            p.add_argument("link", metavar="LINK")
        p.add_argument("--json", action="store_true", help="print as JSON")
        p.set_defaults(run=guarded(fn))

    for name, help_text, fn in (
            ("snippet", "print the invokeurl code that uses a connection", cmd_snippet),
            ("refresh", "renew an OAuth 2.0 access token now", cmd_refresh),
            ("revoke", "revoke the grant at the provider and forget the tokens", cmd_revoke),
            ("delete", "delete a connection", cmd_delete),
            ("test", "check that a connection works", cmd_test)):
        p = cs.add_parser(name, help=help_text)
        p.add_argument("link", metavar="LINK")
        p.set_defaults(run=guarded(fn))

    p = cs.add_parser("redirect-url", help="print the redirect URL to register with a provider")
    p.add_argument("--port", type=int, metavar="P", help="the port connect will use")
    p.set_defaults(run=guarded(cmd_redirect_url))

    p = cs.add_parser("rotate-key", help="re-encrypt every secret under a new key",
                      description="Re-encrypt every stored secret under a new key in one "
                                  "transaction. With a key file, a new file replaces it. With "
                                  "SLUICE_SECRET_KEY, give the new key with --new-key-env and "
                                  "set SLUICE_SECRET_KEY to it afterwards.")
    p.add_argument("--new-key-env", metavar="VAR", help="environment variable with the new key")
    p.add_argument("--discard-unreadable", action="store_true",
                   help="the old key is lost: adopt the current one and drop the secrets it "
                        "cannot open (those connections must be connected again)")
    p.set_defaults(run=guarded(cmd_rotate_key))

    p = cs.add_parser("recover", help="save what can be read of a damaged store",
                      description="Copy every row that can still be read from a damaged store "
                                  "into a new one, which takes its place. The damaged file is "
                                  "kept beside it. Stop every other sluice process first.")
    p.set_defaults(run=guarded(cmd_recover))
