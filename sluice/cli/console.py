"""`sluice console`: the Connections console in a browser, on one machine (sluice.console holds
it); `sluice console set-password`: the password admins sign in with."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .common import EXIT_FAILED, EXIT_OK, UsageError, ask_secret, command_help, err, out

ADMIN_TOKEN_ENV = "SLUICE_ADMIN_TOKEN"
PUBLIC_URL_ENV = "SLUICE_PUBLIC_URL"


def cmd_console(args) -> int:
    from connections import Store

    from ..console import ConsoleContext, console_app
    from ..console.security import SETTING

    with Store.open() as store:
        settings, _ = store.setting(SETTING)
    admin_token = os.environ.get(ADMIN_TOKEN_ENV) or None
    if not admin_token and not (settings or {}).get("password_hash"):
        raise UsageError("no way to sign in yet: set a password with `sluice console "
                         f"set-password` (or set {ADMIN_TOKEN_ENV})")
    import waitress

    app = []  # made once the port is known: the OAuth redirect URL names it

    def wsgi(environ, start_response):
        return app[0](environ, start_response)

    server = waitress.create_server(wsgi, host=args.host, port=args.port, threads=8,
                                    channel_timeout=30, ident="sluice")
    port = server.effective_port
    public = os.environ.get(PUBLIC_URL_ENV) or f"http://{_host_for_url(args.host)}:{port}"
    bindings = Path(args.bindings) if args.bindings else Path("scripts") / "events.toml"
    app.append(console_app(ConsoleContext(
        admin_token=admin_token, public_url=public.rstrip("/"), bindings_path=bindings)))
    url = public.rstrip("/") + "/console/"
    out(f"The Connections console is at {url}")
    out(f"Register {public.rstrip('/')}/console/oauth/callback as the redirect URL of OAuth "
        "apps. Ctrl-C stops it.")
    if not args.no_browser and not os.environ.get("SLUICE_NO_BROWSER"):
        import webbrowser

        webbrowser.open(url)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return EXIT_OK


def _host_for_url(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)


def cmd_set_password(args) -> int:
    from connections import Store

    from ..console.app import set_password
    from ..console.security import password_problem

    if args.password_env:
        if args.password_env not in os.environ:
            raise UsageError(f"the environment variable {args.password_env} is not set")
        password = os.environ[args.password_env]
    else:
        password = ask_secret("new console password", required=True) or ""
        again = ask_secret("the same password again", required=True) if sys.stdin.isatty() \
            else password
        if again != password:
            err("sluice console set-password: the two passwords differ; nothing changed")
            return EXIT_FAILED
    problem = password_problem(password)
    if problem:
        raise UsageError(problem)
    with Store.open() as store:
        set_password(store, password)
    out("The console password is set (stored as an scrypt hash).")
    return EXIT_OK


def add_parser(sub, name: str = "console") -> None:
    p = sub.add_parser(name, help=command_help(name),
                       description="Serve the Connections console (pick a service, create and "
                                   "connect connections, see runs) on this machine and open "
                                   "it in the browser. Admins sign in with the console password "
                                   f"or ${ADMIN_TOKEN_ENV}. `sluice serve` serves the same "
                                   "console under /console.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--bindings", metavar="FILE", help="default: scripts/events.toml")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(run=cmd_console)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    s = actions.add_parser("set-password", help="set the password admins sign in with",
                           description="Set the console password (12 characters or more). "
                                       "It is stored as an scrypt hash in the store.")
    s.add_argument("--password-env", metavar="VAR",
                   help="read it from this environment variable instead of a prompt")
    s.set_defaults(run=cmd_set_password)
