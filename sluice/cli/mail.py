"""`sluice mail ...`: the SMTP server `sendmail` uses. Without one, mail goes to the outbox
folder in $SLUICE_HOME. The password is sealed in the store like a connection's secrets."""

from __future__ import annotations

import json

from ..adapters.mail import SECURITY, SETTING
from .common import (EXIT_OK, UsageError, ask_secret, command_help, guarded, out,
                     secret_from_env, show_help)


def _store():
    from connections import Store

    return Store.open()


def cmd_set(args) -> int:
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: not a port number")
    settings = {"host": args.host, "port": args.port, "security": args.security,
                "username": args.username, "from": args.sender, "timeout": args.timeout}
    password = secret_from_env(args.password_env, "SMTP password")
    if args.username and password is None:
        password = ask_secret(f"SMTP password of {args.username}", required=False)
    with _store() as store:
        store.save_setting(SETTING, {k: v for k, v in settings.items() if v is not None},
                           {"password": password} if password else None)
    out(f"sendmail now goes through {args.host}:{args.port} ({args.security})")
    return EXIT_OK


def cmd_show(args) -> int:
    with _store() as store:
        settings, secrets = store.setting(SETTING)
    if settings is None:
        out("no SMTP server is set up: sendmail writes to the outbox folder "
            f"{store.home / 'outbox'}")
        return EXIT_OK
    shown = dict(settings, password="(set)" if secrets.get("password") else "(none)")
    if args.json:
        out(json.dumps(shown, indent=2))
    else:
        for key, value in shown.items():
            out(f"{key + ':':<10}{value}")
    return EXIT_OK


def cmd_clear(args) -> int:
    with _store() as store:
        removed = store.delete_setting(SETTING)
    out("SMTP settings removed: sendmail writes to the outbox" if removed
        else "no SMTP server was set up")
    return EXIT_OK


def add_parser(sub, name: str = "mail") -> None:
    mail = sub.add_parser(name, help=command_help(name),
                          description="Set the SMTP server `sendmail` sends through. With none, "
                                      "each mail is written as an .eml file to the outbox "
                                      "folder in $SLUICE_HOME.")
    mail.set_defaults(run=lambda args: show_help(mail))
    ms = mail.add_subparsers(dest="action", metavar="ACTION")
    p = ms.add_parser("set", help="send mail through this SMTP server")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=587)
    p.add_argument("--security", choices=SECURITY, default="starttls",
                   help="starttls (default, port 587), ssl (port 465) or none")
    p.add_argument("--username", metavar="U")
    p.add_argument("--password-env", metavar="VAR",
                   help="environment variable with the password (else a hidden prompt)")
    p.add_argument("--from", dest="sender", metavar="ADDRESS",
                   help="the sender when a script gives none of its own")
    p.add_argument("--timeout", type=float, metavar="SECONDS")
    p.set_defaults(run=guarded(cmd_set, "sluice mail"))
    p = ms.add_parser("show", help="show the SMTP settings (never the password)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=guarded(cmd_show, "sluice mail"))
    p = ms.add_parser("clear", help="forget the SMTP server (mail goes to the outbox)")
    p.set_defaults(run=guarded(cmd_clear, "sluice mail"))
