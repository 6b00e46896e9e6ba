"""`sluice app list`: the functions of an app (a folder of .dg files whose functions call each
other; see sluice.app), each with its file, its signature and the functions it calls."""

from __future__ import annotations

import json

from .common import EXIT_FAILED, EXIT_OK, command_help, out, show_help


def cmd_list(args) -> int:
    from runtime.app import places

    from .scripts import script_app

    folder = args.folder or "."
    app = script_app(f"{folder}/_", args.app)
    rows = []
    for f in app.functions():
        calls = [{"call": call, "file": [g.where for g in found]}
                 for call, found in app.calls_of(f)]
        rows.append({"function": f.call_name, "name": f.name, "namespace": f.namespace,
                     "file": f.file.filename, "line": f.line, "signature": f.signature(),
                     "second_tier": bool(f.file.tier), "calls": calls})
    broken = [f.filename for f in app.broken_files()]
    duplicates = [places(g) for g in app.duplicates()]
    if args.json:
        out(json.dumps({"functions": rows, "duplicates": duplicates,
                        "unparsed_files": broken}, indent=2))
        return EXIT_FAILED if duplicates else EXIT_OK
    if not rows:
        out(f"no functions in the app of {folder}")
    for row in rows:
        out(f"{row['signature']}  {row['file']}:{row['line']}" +
            ("  (outside the app's folder)" if row["second_tier"] else ""))
        shown = []
        for call in row["calls"]:
            where = call["file"]
            shown.append(f"{call['call']} ({', '.join(where)})" if len(where) > 1 else
                         call["call"] if where else f"{call['call']} (defined nowhere)")
        out(f"    calls: {', '.join(shown) if shown else '-'}")
    for name in broken:
        out(f"not read: {name} has a syntax error")
    for group in duplicates:
        out(f"defined more than once: {group}")
    return EXIT_FAILED if duplicates else EXIT_OK


def add_parser(sub, name: str = "app") -> None:
    app = sub.add_parser(name, help=command_help(name),
                         description="An app is a folder of .dg files whose functions call "
                                     "each other (standalone.f, thisapp.f, thisapp.Ns.f).")
    app.set_defaults(run=lambda args: show_help(app))
    actions = app.add_subparsers(dest="action", metavar="ACTION")
    p = actions.add_parser("list", help="each function: its file, signature and the functions "
                                        "it calls")
    p.add_argument("folder", nargs="?", metavar="DIR",
                   help="a folder of the app (default: the current one)")
    p.add_argument("--app", action="append", metavar="DIR",
                   help="the app's folder(s), instead of sluice.toml's or DIR")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(run=cmd_list)
