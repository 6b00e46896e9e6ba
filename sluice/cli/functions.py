"""`sluice functions publish|list|show|unpublish|rotate-key`: scripts callable over HTTP by
`sluice serve` at /functions/<name>/execute, each with an API key of its own."""

from __future__ import annotations

import json
from pathlib import Path

from .common import (EXIT_FAILED, EXIT_OK, UsageError, command_help, err, limit_help,
                     read_script, show_help, when)

DEFAULT_BASE_URL = "http://127.0.0.1:8080"


def _store():
    from ..functions.store import FunctionStore

    return FunctionStore.open()


def _limits(items: list[str] | None) -> dict:
    """The limits given on the command line that differ from the defaults."""
    import runtime
    from runtime.limits import DEFAULTS

    try:
        limits = runtime.Limits.parse(items or [])
    except ValueError as e:
        raise UsageError(str(e)) from None
    return {k: v for k, v in limits.as_dict().items() if v != DEFAULTS[k]}


def _connections(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _print_key(key: str) -> None:
    print(f"API key (shown this once; keep it secret): {key}")


def _describe(function, base: str) -> list[str]:
    from ..functions.calls import prepare
    from ..functions.http import call_url, curl_example
    from ..functions.store import FunctionsError

    try:
        entry = prepare(function.source, function.entry, function.script_path)
        params = [p.name for p in entry.params]
        takes = entry.signature() or "no arguments"
    except FunctionsError as e:
        params, takes = [], f"(does not parse: {e})"
    connections = "any" if function.connections is None else (
        ", ".join(function.connections) or "none")
    limits = ", ".join(f"{k}={v:g}" for k, v in function.limits.items()) or "defaults"
    return [f"function {function.name}",
            f"  script:      {function.script_path}"
            + (f" (function {function.entry})" if function.entry else ""),
            f"  takes:       {takes}",
            f"  connections: {connections}",
            f"  limits:      {limits}; at most {function.concurrency} call(s) at once",
            f"  published:   {when(function.published_at)}; key made {when(function.key_made_at)}",
            f"  URL:         {call_url(base, function.name)}",
            f"  call it:     {curl_example(base, function.name, params)}"]


def cmd_publish(args) -> int:
    from ..functions.calls import prepare
    from ..functions.store import FunctionsError

    path = Path(args.script)
    try:
        source = read_script(path)
    except OSError as e:
        raise UsageError(f"--script {path}: {getattr(e, 'strerror', None) or e}") from None
    if args.max_concurrent < 1:
        raise UsageError("--max-concurrent is at least 1")
    try:
        prepare(source, args.function, str(path))
        with _store() as store:
            function, key = store.publish(args.name, str(path.resolve()), source,
                                          entry=args.function,
                                          connections=_connections(args.connections),
                                          limits=_limits(args.limit),
                                          concurrency=args.max_concurrent)
    except FunctionsError as e:
        err(f"sluice functions publish: {e}")
        return EXIT_FAILED
    if args.json:
        print(json.dumps({**function.to_dict(), "key": key,
                          "url": f"{args.base_url.rstrip('/')}/functions/{function.name}/"
                                 "execute"}, indent=2))
        return EXIT_OK
    print(f"published {function.name}" + ("" if key else " again (its key is unchanged)"))
    for line in _describe(function, args.base_url)[1:]:
        print(line)
    if key:
        _print_key(key)
    return EXIT_OK


def cmd_list(args) -> int:
    with _store() as store:
        functions = store.list()
    if args.json:
        print(json.dumps([f.to_dict() for f in functions], indent=2))
        return EXIT_OK
    if not functions:
        print("no published functions")
        return EXIT_OK
    for f in functions:
        connections = "any" if f.connections is None else (", ".join(f.connections) or "none")
        print(f"{f.name:<24} {f.script_path}" + (f" ({f.entry})" if f.entry else "")
              + f"  connections: {connections}")
    return EXIT_OK


def cmd_show(args) -> int:
    with _store() as store:
        function = store.get(args.name)
    if function is None:
        err(f"sluice functions show: no published function '{args.name}'")
        return EXIT_FAILED
    if args.json:
        from ..functions.http import call_url

        print(json.dumps({**function.to_dict(), "url": call_url(args.base_url, function.name)},
                         indent=2))
        return EXIT_OK
    for line in _describe(function, args.base_url):
        print(line)
    return EXIT_OK


def cmd_unpublish(args) -> int:
    from ..functions.store import FunctionsError

    try:
        with _store() as store:
            store.unpublish(args.name)
    except FunctionsError as e:
        err(f"sluice functions unpublish: {e}")
        return EXIT_FAILED
    print(f"unpublished {args.name}: its URL answers 404 and its key is gone")
    return EXIT_OK


def cmd_rotate_key(args) -> int:
    from ..functions.store import FunctionsError

    try:
        with _store() as store:
            key = store.rotate_key(args.name)
    except FunctionsError as e:
        err(f"sluice functions rotate-key: {e}")
        return EXIT_FAILED
    print(f"new key for {args.name}; the old key no longer works")
    _print_key(key)
    return EXIT_OK


def add_parser(sub, name: str) -> None:
    from ..functions.store import DEFAULT_CONCURRENCY

    functions = sub.add_parser(name, help=command_help(name),
                               description="Publish scripts as REST APIs: `sluice serve` "
                                           "answers GET or POST /functions/NAME/execute with "
                                           "the function's output, for callers with its API "
                                           "key (?zapikey=KEY or an X-API-Key header).")
    fs = functions.add_subparsers(dest="action", metavar="ACTION")
    base = dict(metavar="URL", default=DEFAULT_BASE_URL,
                help=f"where sluice serve is reached, for the URL shown (default "
                     f"{DEFAULT_BASE_URL})")

    p = fs.add_parser("publish", help="publish a script (or publish it again) under NAME")
    p.add_argument("name", metavar="NAME", help="the link name: letters, digits and _")
    p.add_argument("--script", required=True, metavar="FILE", help="the .dg script")
    p.add_argument("--function", metavar="NAME",
                   help="the function of the script to run (default: the script's statements, "
                        "or its first function when it has none)")
    p.add_argument("--connections", metavar="A,B",
                   help="the connections it may use (default: any; '' for none)")
    p.add_argument("--limit", action="append", metavar="NAME=VALUE", help=limit_help())
    p.add_argument("--max-concurrent", type=int, default=DEFAULT_CONCURRENCY, metavar="N",
                   help="calls of it that may run at once; more are answered 429 "
                        f"(default {DEFAULT_CONCURRENCY})")
    p.add_argument("--base-url", **base)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_publish)

    p = fs.add_parser("list", help="the published functions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_list)

    p = fs.add_parser("show", help="one function: what it takes, its URL, a curl example")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--base-url", **base)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_show)

    p = fs.add_parser("unpublish", help="stop serving a function (its key goes with it)")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(run=cmd_unpublish)

    p = fs.add_parser("rotate-key", help="a new API key; the old one stops working at once")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(run=cmd_rotate_key)
    functions.set_defaults(run=lambda args: show_help(functions))
