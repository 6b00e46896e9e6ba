"""`sluice crm ...`: choose the backend of `zoho.crm.*` and `zoho.creator.*` for every run (a
run's own `--crm` still wins), and load or export the local record store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..crm import BACKENDS, DEFAULT_CONNECTION, forget_choice, save_choice, saved_choice
from .common import EXIT_OK, UsageError, command_help, guarded, out, show_help, write_atomically


def cmd_use(args) -> int:
    if args.backend == "local" and args.connection:
        raise UsageError("--connection goes with `sluice crm use zoho`")
    save_choice(args.backend, args.connection)
    if args.backend == "local":
        out("zoho.crm.* and zoho.creator.* now use the local record store")
    else:
        out("zoho.crm.* and zoho.creator.* now call Zoho through connection "
            f"'{args.connection or DEFAULT_CONNECTION}'")
    return EXIT_OK


def cmd_show(args) -> int:
    from ..crm.local import LocalCrm

    choice = saved_choice() or {}
    counts = LocalCrm.open().counts()
    if args.json:
        out(json.dumps({"backend": choice.get("backend"),
                        "connection": choice.get("connection"), "local_records": counts},
                       indent=2))
        return EXIT_OK
    backend = choice.get("backend")
    if backend is None:
        out("backend:  none chosen (each run needs --crm local or --crm zoho)")
    elif backend == "zoho":
        out(f"backend:  zoho, through connection '{choice.get('connection')}'")
    else:
        out("backend:  local")
    if counts:
        out("local records:")
        for name, count in counts.items():
            out(f"  {name:<24}{count}")
    else:
        out("local records: none (load some with `sluice crm load FILE`)")
    return EXIT_OK


def cmd_forget(args) -> int:
    out("CRM backend choice removed" if forget_choice() else "no CRM backend was chosen")
    return EXIT_OK


def cmd_load(args) -> int:
    from ..crm.local import LocalCrm

    try:
        total = LocalCrm.open().load_file(args.file)
    except ValueError as e:
        raise UsageError(str(e)) from None
    out(f"loaded {total} records from {args.file} into the local record store")
    return EXIT_OK


def cmd_export(args) -> int:
    from ..crm.local import LocalCrm

    text = json.dumps(LocalCrm.open().export(), indent=2, ensure_ascii=False) + "\n"
    if args.file in (None, "-"):
        sys.stdout.write(text)
    else:
        write_atomically(Path(args.file), text)
        out(f"wrote the local records to {args.file}")
    return EXIT_OK


def add_parser(sub, name: str = "crm") -> None:
    crm = sub.add_parser(name, help=command_help(name),
                         description="Where zoho.crm.* and zoho.creator.* go when a run does not "
                                     "say (--crm): the local record store in $SLUICE_HOME/crm.db, "
                                     "or the Zoho APIs through a connection.")
    crm.set_defaults(run=lambda args: show_help(crm))
    cs = crm.add_subparsers(dest="action", metavar="ACTION")
    p = cs.add_parser("use", help="choose the backend of every run that does not give --crm")
    p.add_argument("backend", choices=BACKENDS)
    p.add_argument("--connection", metavar="LINK",
                   help=f"with zoho: the connection to call Zoho with (default: "
                        f"{DEFAULT_CONNECTION})")
    p.set_defaults(run=guarded(cmd_use, "sluice crm"))
    p = cs.add_parser("show", help="the chosen backend and the local store's record counts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=guarded(cmd_show, "sluice crm"))
    p = cs.add_parser("forget", help="forget the chosen backend")
    p.set_defaults(run=guarded(cmd_forget, "sluice crm"))
    p = cs.add_parser("load", help="replace the local records with a JSON file of fixtures")
    p.add_argument("file")
    p.set_defaults(run=guarded(cmd_load, "sluice crm"))
    p = cs.add_parser("export", help="write the local records as JSON (to a file, or stdout)")
    p.add_argument("file", nargs="?")
    p.set_defaults(run=guarded(cmd_export, "sluice crm"))
