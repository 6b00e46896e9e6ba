"""`sluice check`, `fmt`, `run`, `builtins` and `version`: the commands about scripts."""

from __future__ import annotations

import os
import sys

from .. import __version__
from .common import (EXIT_FAILED, EXIT_OK, SCRIPT_SUFFIX, UsageError, command_help,
                     limit_help, plural, read_script, script_files, shown_path,
                     write_atomically)


def read_script_within(path: str, limits) -> str:
    """The script, refused (LimitExceeded) past the `source` limit before it is read whole."""
    from runtime.limits import LimitExceeded, check_source

    size = os.stat(path).st_size
    if limits.source and size > limits.source + 3:  # too long, byte order mark or not
        raise LimitExceeded("source", f"The script is {size:,} bytes long; a script may be at "
                                      f"most {int(limits.source):,} bytes (limit source)")
    source = read_script(path)
    check_source(source, limits)
    return source


def command_limits(args):
    import runtime

    try:
        return runtime.Limits.parse(args.limit or [])
    except ValueError as e:
        raise UsageError(str(e)) from None


def cmd_check(args) -> int:
    """Each file is refused for what `sluice run` would refuse it for (runtime.problems: the
    same parser and static analysis), every error of it listed; --strict adds style warnings."""
    import json

    import dsl
    import runtime

    limits = command_limits(args)
    files = script_files(args.paths)
    apps = _AppsOfFiles(args.paths, args.app)
    results = []
    for path in files:
        entry = {"file": str(path), "ok": True}
        try:
            source = read_script_within(path, limits)
        except runtime.LimitExceeded as e:
            entry.update(ok=False, error={"file": str(path), "line": 0, "column": 0,
                                          "message": e.message, "code": "limit"})
            entry["errors"] = [entry["error"]]
            if not args.json:
                print(f"{path}: {e.message}")
            results.append(entry)
            continue
        except OSError as e:
            entry.update(ok=False, error={"file": str(path), "line": 0, "column": 0,
                                          "message": f"cannot read: {e.strerror or e}",
                                          "code": "unreadable"})
            entry["errors"] = [entry["error"]]
            if not args.json:
                print(f"{path}: cannot read: {e.strerror or e}")
            results.append(entry)
            continue
        problems = runtime.problems(source, str(path), limits, app=apps.of(path))
        entry["errors"] = [p.to_dict() for p in problems]
        if problems:
            entry.update(ok=False, error=dict(problems[0].to_dict(), file=str(path)))
            if not args.json:
                print(runtime.StaticErrors(problems, str(path), source).render())
        elif args.strict:
            warnings = dsl.style_warnings(dsl.parse(source, str(path)))
            entry["warnings"] = [w.to_dict() for w in warnings]
            entry["ok"] = not warnings
            for w in warnings if not args.json else ():
                print(f"{path}:{w.span.line}:{w.span.column}: warning: {w.message}")
        results.append(entry)
    checked = {os.path.abspath(str(p)) for p in files}
    for message, first in apps.duplicates(checked):  # each once, at its first place
        entry = next((r for r in results if r["file"] == first.file.filename), None)
        if entry is None:
            entry = {"file": first.file.filename, "ok": True}
            results.append(entry)
        problem = {"file": first.file.filename, "line": first.line,
                   "column": first.definition.span[1], "message": message,
                   "code": "duplicate-function"}
        entry.update(ok=False, error=entry.get("error") or problem)
        entry["errors"] = entry.get("errors", []) + [problem]
        if not args.json:
            print(f"{first.file.filename}:{first.line}:{first.definition.span[1]}: {message}")
    failed = sum(1 for r in results if not r["ok"])
    if args.json:
        print(json.dumps({"checked": len(results), "failed": failed, "files": results}, indent=2))
    else:
        if not files:
            print(f"no {SCRIPT_SUFFIX} files found")
        elif failed:
            problems = "errors or warnings" if args.strict else "errors"
            print(f"{plural(failed, 'file')} with {problems}, {len(results) - failed} ok "
                  f"(checked {plural(len(files), 'file')})")
        else:
            print(f"all {plural(len(files), 'file')} ok")
    return EXIT_FAILED if failed else EXIT_OK


class _AppsOfFiles:
    """The app of each file `sluice check` looks at: --app, else sluice.toml's, else the folder
    named on the command line that holds it (or, for a file named, its own folder); each app
    read once."""

    def __init__(self, paths: list[str], folders: list[str] | None):
        from pathlib import Path

        self.folders = folders
        self.named = [(Path(p), Path(p).resolve()) for p in paths if Path(p).is_dir()]
        self.apps: dict = {}

    def of(self, path):
        resolved = path.resolve()
        base = next((shown for shown, full in self.named
                     if full == resolved.parent or full in resolved.parents), path.parent)
        key = str(base.resolve())
        if key not in self.apps:  # the app of a script kept in that folder
            self.apps[key] = script_app(str(base / "_"), self.folders)
        return self.apps[key]

    def duplicates(self, checked: set[str]):
        """(message, first definition) of each function defined twice in one namespace where
        one of the definitions is in a file being checked (the others are other files' news)."""
        from runtime.app import places

        seen = set()
        for app in self.apps.values():
            for group in app.duplicates():
                key = tuple((f.file.filename, f.line) for f in group)
                if key not in seen and any(os.path.abspath(f.file.filename) in checked
                                           for f in group):
                    seen.add(key)
                    yield (f"function '{group[0].call_name}' is defined more than once: "
                           f"{places(group)}", group[0])


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
    import json

    try:
        return json.loads(text)
    except ValueError:
        return text


def read_text(name: str) -> str:
    with open(name, encoding="utf-8") as f:
        return f.read()


def run_arguments(args) -> dict:
    values: dict = {}
    if args.args_json:
        import json

        try:
            data = sys.stdin.read() if args.args_json == "-" else \
                read_text(args.args_json)
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
    import dsl  # cheap: its parser, AST and errors load only if a script needs them
    import runtime
    from runtime.limits import os_memory_cap
    from runtime.values import to_text

    path = shown_path(args.file)
    limits = command_limits(args)
    try:
        source = read_script_within(path, limits)
    except FileNotFoundError:
        raise UsageError(f"{args.file}: no such file") from None
    except OSError as e:
        raise UsageError(f"{args.file}: cannot read: {e.strerror or e}") from None
    except runtime.LimitExceeded as e:
        if args.json:
            import json

            print(json.dumps(runtime.Result(error=e).to_dict(), indent=2))
        else:
            print(f"{path}: {e.render()}", file=sys.stderr)
        return EXIT_FAILED
    if args.show_code:
        return show_code(source, path)
    values = run_arguments(args)
    app = script_app(str(path), getattr(args, "app", None))  # (a quick parse may lack it)
    services = services_for_run(args.timezone, crm_backend(args))
    on_info = None if args.json else (lambda line: print(line, flush=True))
    engine = runtime.Runtime(code_cache=code_cache_dir(), limits=limits)
    try:
        try:  # parsed and compiled first: the OS limit below is for the script's run alone
            engine.compile(source, str(path), app=app)
        except (dsl.DelugeSyntaxError, runtime.StaticErrors, runtime.LimitExceeded):
            pass  # the run reports it
        # the run has this process to itself: an OS limit backs its memory limit
        with os_memory_cap(limits):
            result = engine.run(source, values, limits=limits, services=services,
                                filename=str(path), on_info=on_info, app=app)
    finally:
        services.web.close()
    if args.crm_export or args.json:
        import json
    if args.crm_export:
        from pathlib import Path

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
            hint = f": pass --arg {error.parameter}=..." \
                if isinstance(error, runtime.MissingArgument) else ""
            where = getattr(error, "file", "") or path  # a function of another file failed
            print(f"{where}: {error.render()}{hint}" + (f"\n    {statement}" if statement else ""),
                  file=sys.stderr)
        return EXIT_FAILED
    if result.returned:  # a returned null shows, as Zoho's "Output: null" does
        print("null" if result.value is None else to_text(result.value))
    return EXIT_OK


def script_app(script: str | None, folders: list[str] | None):
    """The app of a script (sluice.app), or a usage error naming what is wrong with it."""
    from ..app import AppError, app_of

    try:
        return app_of(script, folders)
    except AppError as e:
        raise UsageError(str(e)) from None


def show_code(source: str, path: str) -> int:
    """`sluice run --show-code`: print the Python the script compiles to, run nothing."""
    import dsl
    import runtime
    from runtime.compile import python_source

    try:
        print(python_source(dsl.parse(source, path), source, path))
    except (dsl.DelugeSyntaxError, runtime.StaticErrors) as e:
        print(e.render(), file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def crm_backend(args):
    """The backend of zoho.crm.* for this run: --crm local (seeded by --crm-data) or zoho;
    --crm-data/--crm-export imply local, --crm-connection zoho; with none of them, the choice
    saved by `sluice crm use`."""
    from ..crm import ConfiguredCrm, open_backend

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


def services_for_run(timezone: str | None, crm=None):
    """The standard services of a command-line run (see sluice.adapters), the time zone checked."""
    from ..adapters import standard_services

    if timezone:
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(timezone)
        except Exception:
            raise UsageError(f"--timezone {timezone}: not a time zone name "
                             "(such as Europe/Paris)") from None
    return standard_services(timezone=timezone, crm=crm)


def cmd_builtins(args) -> int:
    import json

    import runtime.methods  # noqa: F401  (fills the tables)
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


def cmd_version(args) -> int:
    print(f"sluice {__version__}")
    return EXIT_OK


# ---------------------------------------------------------------------------- parsers


def add_parser(sub, name: str) -> None:
    """Build the parser of command `name` (check, fmt, run, builtins or version)."""
    {"check": _check_parser, "fmt": _fmt_parser, "run": _run_parser,
     "builtins": _builtins_parser, "version": _version_parser}[name](sub)


def _check_parser(sub) -> None:
    check = sub.add_parser("check", help=command_help("check"),
                           description="Report every error that would keep each script from "
                                       "running (syntax errors, unknown functions, wrong "
                                       "numbers of arguments, 'break' outside a loop, "
                                       "undefined variables...) as file:line:col: message, "
                                       "without running anything.")
    check.add_argument("paths", nargs="+", metavar="PATH", help="a .dg file or a folder of them")
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.add_argument("--app", action="append", metavar="DIR",
                       help="the folder of the app whose functions the scripts call "
                            "(default: sluice.toml's 'app', else the folder named)")
    check.add_argument("--strict", action="store_true",
                       help="also warn about valid but doubtful writing ('=' comparing); "
                            "a warning fails the check")
    check.add_argument("--limit", action="append", metavar="NAME=VALUE",
                       help="as for run: source (bytes, 1 MB unless changed; 0 lifts it) "
                            "refuses longer scripts")
    check.set_defaults(run=cmd_check)


def _fmt_parser(sub) -> None:
    fmt = sub.add_parser("fmt", help=command_help("fmt"),
                         description="Rewrite scripts in the canonical layout (4-space indents, "
                                     "one statement per line, comments kept). '-' formats "
                                     "standard input to standard output.")
    fmt.add_argument("paths", nargs="+", metavar="PATH", help="a .dg file, a folder, or -")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; exit 1 if any file would be reformatted")
    fmt.set_defaults(run=cmd_fmt)


def _run_parser(sub) -> None:
    run = sub.add_parser("run", help=command_help("run"),
                         description="Run a script: each info line is printed as it comes, then "
                                     "the return value. Arguments reach the script as variables "
                                     "(and input.<name>), or as the parameters of its first "
                                     "function when it has no statements of its own.")
    run.add_argument("file", metavar="FILE", help="the .dg script")
    run.add_argument("--arg", action="append", metavar="NAME=VALUE",
                     help="an argument (VALUE is read as JSON when it is JSON, else as text)")
    run.add_argument("--args-json", metavar="FILE",
                     help="arguments as a JSON object in FILE ('-': standard input)")
    run.add_argument("--limit", action="append", metavar="NAME=VALUE", help=limit_help())
    run.add_argument("--app", action="append", metavar="DIR",
                     help="the folder of the app whose functions the script may call "
                          "(default: sluice.toml's 'app', else the script's folder)")
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
    run.add_argument("--show-code", action="store_true",
                     help="print the Python code the script compiles to, and run nothing")
    run.set_defaults(run=cmd_run)


def _builtins_parser(sub) -> None:
    builtins = sub.add_parser("builtins", help=command_help("builtins"),
                              description="Every built-in: how it is called and what it does.")
    builtins.add_argument("name", nargs="?", help="only those whose name contains this")
    builtins.add_argument("--json", action="store_true", help="print as JSON")
    builtins.set_defaults(run=cmd_builtins)


def _version_parser(sub) -> None:
    version = sub.add_parser("version", help=command_help("version"))
    version.set_defaults(run=cmd_version)
