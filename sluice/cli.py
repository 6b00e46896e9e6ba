"""The `sluice` command line. Exit codes: 0 ok, 1 a script (or check) failed, 2 usage error."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SCRIPT_SUFFIX = ".dg"


class UsageError(Exception):
    pass


# ---------------------------------------------------------------------------- helpers


def script_files(paths: list[str]) -> list[Path]:
    """The .dg files named, and those inside the folders named (sorted, each once)."""
    found: list[Path] = []
    seen = set()
    for name in paths:
        path = Path(name)
        if path.is_dir():
            candidates = sorted(p for p in path.rglob(f"*{SCRIPT_SUFFIX}") if p.is_file())
        elif path.is_file():
            candidates = [path]
        else:
            raise UsageError(f"{name}: no such file or folder")
        for p in candidates:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                found.append(p)
    return found


def read_script(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise OSError(f"not UTF-8 text (byte {e.start})") from None


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves either the old file or the new one."""
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# ---------------------------------------------------------------------------- commands


def cmd_check(args) -> int:
    import dsl

    files = script_files(args.paths)
    results = []
    for path in files:
        entry = {"file": str(path), "ok": True}
        try:
            dsl.parse(read_script(path), str(path))
        except dsl.DelugeSyntaxError as e:
            entry.update(ok=False, error=e.to_dict())
            if not args.json:
                print(e.render())
        except OSError as e:
            entry.update(ok=False, error={"file": str(path), "line": 0, "column": 0,
                                          "message": f"cannot read: {e.strerror or e}"})
            if not args.json:
                print(f"{path}: cannot read: {e.strerror or e}")
        results.append(entry)
    failed = sum(1 for r in results if not r["ok"])
    if args.json:
        print(json.dumps({"checked": len(results), "failed": failed, "files": results}, indent=2))
    else:
        if not files:
            print(f"no {SCRIPT_SUFFIX} files found")
        elif failed:
            print(f"{plural(failed, 'file')} with errors, {len(files) - failed} ok "
                  f"(checked {plural(len(files), 'file')})")
        else:
            print(f"all {plural(len(files), 'file')} ok")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_fmt(args) -> int:
    import dsl
    from dsl.fmt import format_script

    if args.paths == ["-"]:
        text = sys.stdin.read()
        try:
            formatted = format_script(dsl.parse(text, "<stdin>"))
        except dsl.DelugeSyntaxError as e:
            print(e.render(), file=sys.stderr)
            return EXIT_FAILED
        if args.check:
            return EXIT_OK if formatted == text else EXIT_FAILED
        sys.stdout.write(formatted)
        return EXIT_OK

    files = script_files(args.paths)
    changed, errors = [], 0
    for path in files:
        try:
            text = read_script(path)
            formatted = format_script(dsl.parse(text, str(path)))
        except dsl.DelugeSyntaxError as e:
            print(e.render(), file=sys.stderr)
            errors += 1
            continue
        except OSError as e:
            print(f"{path}: cannot read: {e.strerror or e}", file=sys.stderr)
            errors += 1
            continue
        if formatted == text:
            continue
        changed.append(path)
        if args.check:
            print(f"would reformat {path}")
        else:
            write_atomically(path, formatted)
            print(f"reformatted {path}")
    verb = "would be reformatted" if args.check else "reformatted"
    unchanged = len(files) - len(changed) - errors
    summary = f"{plural(len(changed), 'file')} {verb}, {unchanged} unchanged"
    if errors:
        summary += f", {plural(errors, 'file')} with errors"
    print(summary)
    if errors or (args.check and changed):
        return EXIT_FAILED
    return EXIT_OK


def parse_arg_value(text: str):
    """`--arg n=5` gives the number 5, `--arg ok=true` true, `--arg tags=["a"]` a list;
    anything that is not JSON is text (`--arg name=Ann`, `--arg id=00123`)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def run_arguments(args) -> dict:
    values: dict = {}
    if args.args_json:
        try:
            data = sys.stdin.read() if args.args_json == "-" else \
                Path(args.args_json).read_text(encoding="utf-8")
            loaded = json.loads(data)
        except OSError as e:
            raise UsageError(f"--args-json {args.args_json}: {e.strerror or e}") from None
        except ValueError as e:
            raise UsageError(f"--args-json {args.args_json}: not JSON ({e})") from None
        if not isinstance(loaded, dict):
            raise UsageError("--args-json must hold a JSON object: {\"name\": value, ...}")
        values.update(loaded)
    for item in args.arg or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--arg {item}: expected NAME=VALUE")
        values[name.strip()] = parse_arg_value(text)
    return values


def cmd_run(args) -> int:
    import dsl
    import runtime
    from runtime.values import to_text

    path = Path(args.file)
    try:
        source = read_script(path)
    except FileNotFoundError:
        raise UsageError(f"{args.file}: no such file") from None
    except OSError as e:
        raise UsageError(f"{args.file}: cannot read: {e.strerror or e}") from None
    values = run_arguments(args)
    try:
        limits = runtime.Limits.parse(args.limit or [])
    except ValueError as e:
        raise UsageError(str(e)) from None
    services = build_services(timezone=args.timezone)
    services.crm = crm_backend(args)
    on_info = None if args.json else (lambda line: print(line, flush=True))
    engine = runtime.Runtime(code_cache=code_cache_dir())
    try:
        result = engine.run(source, values, limits=limits, services=services,
                            filename=str(path), on_info=on_info)
    finally:
        services.web.close()
    if args.crm_export:
        write_atomically(Path(args.crm_export),
                         json.dumps(services.crm.export(), indent=2, ensure_ascii=False) + "\n")
    if not args.json:
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return EXIT_OK if result.ok else EXIT_FAILED
    if not result.ok:
        error = result.error
        if isinstance(error, (dsl.DelugeSyntaxError, runtime.StaticErrors)):
            print(error.render(), file=sys.stderr)
        else:
            statement = getattr(error, "statement", "")
            print(f"{path}: {error.render()}" + (f"\n    {statement}" if statement else ""),
                  file=sys.stderr)
        return EXIT_FAILED
    if result.value is not None:
        print(to_text(result.value))
    return EXIT_OK


def crm_backend(args):
    """The backend of zoho.crm.* for this run: --crm local (seeded by --crm-data) or zoho;
    --crm-data/--crm-export imply local, --crm-connection zoho; with none of them, the choice
    saved by `sluice crm use`."""
    from .crm import ConfiguredCrm, open_backend

    backend = args.crm
    if backend is None:
        if args.crm_data or args.crm_export:
            backend = "local"
        elif args.crm_connection:
            backend = "zoho"
        else:
            return ConfiguredCrm()
    if backend == "zoho":
        if args.crm_data or args.crm_export:
            raise UsageError("--crm-data and --crm-export are for the local backend "
                             "(--crm local)")
        return open_backend("zoho", args.crm_connection)
    if args.crm_connection:
        raise UsageError("--crm-connection goes with --crm zoho")
    crm = open_backend("local")
    if args.crm_data:
        try:
            crm.load_file(args.crm_data)
        except ValueError as e:
            raise UsageError(f"--crm-data {e}") from None
    return crm


def code_cache_dir() -> str:
    """Where compiled scripts are kept between runs: $SLUICE_CACHE_DIR, or the user's cache."""
    base = os.environ.get("SLUICE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "sluice")
    return base


def build_services(timezone: str | None = None):
    """The services a script run from the command line gets: the standard tasks, HTTP through
    the connections in $SLUICE_HOME, and mail through its SMTP settings (or its outbox)."""
    import runtime

    from .mail import StoredMail
    from .web import ConnectionsWeb

    if timezone:
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(timezone)
        except Exception:
            raise UsageError(f"--timezone {timezone}: not a time zone name "
                             "(such as Europe/Paris)") from None
    return runtime.Services.standard(timezone=timezone, web=ConnectionsWeb(), mail=StoredMail())


def cmd_builtins(args) -> int:
    from runtime.builtins import all_builtins

    entries = all_builtins()
    if args.name:
        wanted = args.name.lower()
        entries = [b for b in entries if wanted in b.name.lower()]
    if args.json:
        print(json.dumps([{"name": b.name, "on": b.on.split() or None, "signature": b.signature,
                           "doc": b.doc} for b in entries], indent=2))
        return EXIT_OK
    if not entries:
        print(f"no built-in matches {args.name!r}")
        return EXIT_FAILED
    width = max(len(b.signature) for b in entries)
    for b in entries:
        print(f"{b.signature.ljust(width)}  {b.doc}")
    return EXIT_OK


def cmd_repl(args) -> int:
    import runtime

    from .repl import Session, _link_names_from_store, interact

    try:
        limits = runtime.Limits.parse(args.limit or [])
    except ValueError as e:
        raise UsageError(str(e)) from None
    session = Session(services=build_services(timezone=args.timezone), limits=limits,
                      connections=_link_names_from_store)
    return interact(session)


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(lambda line: print(line, flush=True), keep=args.keep)


def cmd_version(args) -> int:
    print(f"sluice {__version__}")
    return EXIT_OK


# ---------------------------------------------------------------------------- parser


CONNECTIONS_HELP = "set up and look after connections to services"
MAIL_HELP = "the SMTP server sendmail uses"
CRM_HELP = "choose where zoho.crm.* goes (local store or Zoho); load and export local records"
ADMIN_COMMANDS = ("connections", "mail", "crm", "events", "trigger", "serve", "runs")


def build_parser(with_admin: bool = True) -> argparse.ArgumentParser:
    """The command line. Without `with_admin`, `connections` and `mail` are listed but their
    actions are not built: that saves a run of a script most of its parser's start-up."""
    parser = argparse.ArgumentParser(
        prog="sluice",
        description="Run Deluge-style scripts anywhere, with named connections to "
                    "third-party services.",
    )
    parser.add_argument("--version", action="version", version=f"sluice {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="report syntax errors in .dg scripts",
                           description="Parse each script and report the first syntax error "
                                       "of each file as file:line:col: message.")
    check.add_argument("paths", nargs="+", metavar="PATH", help="a .dg file or a folder of them")
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.set_defaults(run=cmd_check)

    fmt = sub.add_parser("fmt", help="format .dg scripts canonically",
                         description="Rewrite scripts in the canonical layout (4-space indents, "
                                     "one statement per line, comments kept). '-' formats "
                                     "standard input to standard output.")
    fmt.add_argument("paths", nargs="+", metavar="PATH", help="a .dg file, a folder, or -")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; exit 1 if any file would be reformatted")
    fmt.set_defaults(run=cmd_fmt)

    run = sub.add_parser("run", help="run a .dg script",
                         description="Run a script: each info line is printed as it comes, then "
                                     "the return value. Arguments reach the script as variables "
                                     "(and input.<name>), or as the parameters of its first "
                                     "function when it has no statements of its own.")
    run.add_argument("file", metavar="FILE", help="the .dg script")
    run.add_argument("--arg", action="append", metavar="NAME=VALUE",
                     help="an argument (VALUE is read as JSON when it is JSON, else as text)")
    run.add_argument("--args-json", metavar="FILE",
                     help="arguments as a JSON object in FILE ('-': standard input)")
    run.add_argument("--limit", action="append", metavar="NAME=VALUE",
                     help="change a limit: statements, depth, time (seconds), invokeurl "
                          "(calls), http_timeout (seconds), response_size (bytes), info_size, "
                          "collection_size, text_size; 0 lifts it")
    run.add_argument("--timezone", metavar="ZONE",
                     help="the time zone of dates, e.g. Asia/Kolkata (default: the machine's)")
    run.add_argument("--json", action="store_true",
                     help="print one JSON object: return, info, error, stats")
    run.add_argument("--crm", choices=["local", "zoho"],
                     help="where zoho.crm.* and zoho.creator.* go: an offline record store in "
                          "$SLUICE_HOME/crm.db, or the Zoho API through a connection "
                          "(default: the choice of `sluice crm use`)")
    run.add_argument("--crm-data", metavar="FILE",
                     help="replace the local records with this JSON file first "
                          "(implies --crm local)")
    run.add_argument("--crm-export", metavar="FILE",
                     help="write the local records to this JSON file after (implies --crm local)")
    run.add_argument("--crm-connection", metavar="LINK",
                     help="the connection to call Zoho with (implies --crm zoho; default: zoho)")
    run.set_defaults(run=cmd_run)

    builtins = sub.add_parser("builtins", help="list the built-in functions and methods",
                              description="Every built-in: how it is called and what it does.")
    builtins.add_argument("name", nargs="?", help="only those whose name contains this")
    builtins.add_argument("--json", action="store_true", help="print as JSON")
    builtins.set_defaults(run=cmd_builtins)

    from . import cli_events

    if with_admin:
        from . import cli_connections, cli_crm, cli_mail

        cli_connections.add_parser(sub)
        cli_mail.add_parser(sub)
        cli_crm.add_parser(sub)
        cli_events.add_parsers(sub)
    else:  # listed for --help; built only when one of them is the command
        sub.add_parser("connections", help=CONNECTIONS_HELP)
        sub.add_parser("mail", help=MAIL_HELP)
        sub.add_parser("crm", help=CRM_HELP)
        for name, text in (("events", cli_events.EVENTS_HELP),
                           ("trigger", cli_events.TRIGGER_HELP),
                           ("serve", cli_events.SERVE_HELP), ("runs", cli_events.RUNS_HELP)):
            sub.add_parser(name, help=text)

    repl = sub.add_parser("repl", help="try Deluge interactively",
                          description="An interactive prompt: statements run as you enter them, "
                                      "expressions show their value, variables and functions "
                                      "stay. Tab completes; :help lists the commands. With no "
                                      "terminal, entries are read from standard input.")
    repl.add_argument("--limit", action="append", metavar="NAME=VALUE",
                      help="a limit for each entry, as for run")
    repl.add_argument("--timezone", metavar="ZONE", help="the time zone of dates")
    repl.set_defaults(run=cmd_repl)

    demo = sub.add_parser("demo", help="see a script call an API through a connection, offline",
                          description="Start a local OAuth provider and API on 127.0.0.1, set "
                                      "up a service and a connection to it in a throwaway store, "
                                      "authorize it, run the example MailChimp scripts through "
                                      "it, and clean up. Needs no network.")
    demo.add_argument("--keep", action="store_true",
                      help="keep the throwaway store and print where it is")
    demo.set_defaults(run=cmd_demo)

    version = sub.add_parser("version", help="print the version")
    version.set_defaults(run=cmd_version)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(with_admin=bool(argv) and argv[0] in ADMIN_COMMANDS)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args)
    except UsageError as e:
        command = " ".join(filter(None, (args.command, getattr(args, "action", None))))
        print(f"sluice {command}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_FAILED
    except Exception as e:  # a bug of ours: say so plainly; SLUICE_DEBUG=1 shows the traceback
        if os.environ.get("SLUICE_DEBUG"):
            raise
        print(f"sluice {args.command}: internal error ({type(e).__name__}); this is a bug in "
              "Sluice: run again with SLUICE_DEBUG=1 to see where, and report it",
              file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
