"""The `sluice` command line. Exit codes: 0 ok, 1 a script (or check) failed, 2 usage error."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
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
    summary = f"{plural(len(changed), 'file')} {verb}, {len(files) - len(changed) - errors} unchanged"
    if errors:
        summary += f", {plural(errors, 'file')} with errors"
    print(summary)
    if errors or (args.check and changed):
        return EXIT_FAILED
    return EXIT_OK


def cmd_version(args) -> int:
    print(f"sluice {__version__}")
    return EXIT_OK


# ---------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
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

    version = sub.add_parser("version", help="print the version")
    version.set_defaults(run=cmd_version)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
        print(f"sluice {args.command}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
