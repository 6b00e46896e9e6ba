"""What every `sluice` command module shares: exit codes, usage errors, the table of commands,
reading scripts and secrets, writing files, and printing with the secrets this command read
masked. Command modules import this one, never the package (`sluice.cli`) that dispatches to them."""

from __future__ import annotations

import os
import sys
TYPE_CHECKING = False  # typing and pathlib load re: not worth it on `sluice run`'s way
if TYPE_CHECKING:
    from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SCRIPT_SUFFIX = ".dg"

# command -> (the module of sluice.cli that builds and runs it, its line in `sluice --help`)
COMMANDS = {
    "check": ("scripts", "report syntax and other static errors in .dg scripts"),
    "fmt": ("scripts", "format .dg scripts canonically"),
    "run": ("scripts", "run a .dg script"),
    "builtins": ("scripts", "list the built-in functions and methods"),
    "app": ("app", "list the functions of an app (a folder of .dg files) and their calls"),
    "connections": ("connections", "set up and look after connections to services"),
    "mail": ("mail", "the SMTP server sendmail uses"),
    "db": ("db", "the store's database: upgrade its schema, copy it to PostgreSQL or back"),
    "doctor": ("db", "say where the store lives and check that the database (and broker) "
                     "answer"),
    "crm": ("crm", "choose where zoho.crm.* goes (local store or Zoho); load and export local "
                   "records"),
    "events": ("events", "check the event bindings file"),
    "trigger": ("events", "run the scripts bound to an event, now"),
    "serve": ("events", "run bound scripts when events arrive over HTTP"),
    "runs": ("events", "the history of runs (events and function calls)"),
    "functions": ("functions", "publish scripts as REST APIs with API keys, served by "
                               "sluice serve"),
    "test": ("testing", "run the test cases of *.test.toml files, offline"),
    "console": ("console", "the Connections console in a browser, on this machine"),
    "repl": ("repl", "try Deluge interactively"),
    "demo": ("demo", "see a script call an API through a connection, offline"),
    "version": ("scripts", "print the version"),
}


def command_help(name: str) -> str:
    return COMMANDS[name][1]


class UsageError(Exception):
    pass


# ---------------------------------------------------------------------------- helpers


def script_files(paths: list[str]) -> list[Path]:
    """The .dg files named, and those inside the folders named (sorted, each once)."""
    from ..files import files_ending

    try:
        return files_ending(paths, SCRIPT_SUFFIX)
    except FileNotFoundError as e:
        raise UsageError(str(e)) from None


def read_script(path: Path | str) -> str:
    with open(path, "rb") as f:
        data = f.read()
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


def shown_path(name: str) -> str:
    """`name` as `str(Path(name))` spells it ("./a//b.dg" is "a/b.dg"), without pathlib."""
    if os.name != "posix":
        from pathlib import Path

        return str(Path(name))
    root = ""
    if name.startswith("/"):
        root = "//" if name.startswith("//") and not name.startswith("///") else "/"
    parts = [p for p in name.split("/") if p and p != "."]
    return root + "/".join(parts) if root or parts else "."


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# ---------------------------------------------------------------------------- output and secrets


class _Secrets:
    """Secret values this command has read, to mask them in anything it prints."""

    def __init__(self):
        self.values: set[str] = set()

    def add(self, value: str | None) -> str | None:
        if value:
            self.values.add(value)
        return value

    def mask(self, text: str) -> str:
        from connections.errors import redact

        return redact(text, self.values)


SECRETS = _Secrets()


def out(text: str = "") -> None:
    print(SECRETS.mask(text), flush=True)


def err(text: str) -> None:
    print(SECRETS.mask(text), file=sys.stderr, flush=True)


def secret_from_env(variable: str | None, what: str) -> str | None:
    if not variable:
        return None
    if variable not in os.environ:
        raise UsageError(f"the environment variable {variable} (for the {what}) is not set")
    return SECRETS.add(os.environ[variable])


def ask_secret(what: str, *, required: bool) -> str | None:
    """A hidden prompt on a terminal; otherwise one line of standard input."""
    import getpass

    if sys.stdin.isatty():
        value = getpass.getpass(f"{what} (hidden): ", stream=sys.stderr)
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value and required:
        raise UsageError(f"no {what} given")
    return SECRETS.add(value) if value else None


def key_values(pairs: list[str] | None, option: str) -> dict:
    found = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} {pair!r}: want KEY=VALUE")
        found[key.strip()] = value
    return found


def when(stamp: float | None) -> str:
    from connections.model import iso_time

    return iso_time(stamp) or "-"


def show_help(parser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def guarded(command, prefix: str = "sluice connections"):
    """`command`, with the connections package's errors turned into a message and exit 1."""

    def run(args) -> int:
        from connections import ConnectionsError

        try:
            return command(args)
        except ConnectionsError as e:
            err(f"{prefix} {args.action}: {e}")
            return EXIT_FAILED

    return run


def limit_help() -> str:
    """The help of a --limit option: every limit the runtime has, with its unit."""
    from runtime.limits import DEFAULTS, UNITS

    names = ", ".join(f"{name} ({UNITS[name]})" if name in UNITS else name
                      for name in DEFAULTS)
    return f"change a limit: {names}; sizes take K, M or G (512MB); 0 lifts it"
