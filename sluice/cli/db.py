"""`sluice db ...` and `sluice doctor`: where the connections store lives (SQLite in
$SLUICE_HOME, or PostgreSQL named by SLUICE_DATABASE_URL), its schema, moving it from one to the
other, and a check that what this host needs answers."""

from __future__ import annotations

import os
import time

from .common import EXIT_FAILED, EXIT_OK, command_help, err, guarded, out, show_help

BROKER_ENV = "SLUICE_BROKER_URL"


def _where() -> str:
    from connections.pgstore import redacted
    from connections.store import DATABASE_ENV, DB_FILE, default_home

    url = os.environ.get(DATABASE_ENV)
    return redacted(url) if url else str(default_home() / DB_FILE)


def cmd_upgrade(args) -> int:
    from connections.store import DATABASE_ENV, SCHEMA_VERSION, Store

    url = os.environ.get(DATABASE_ENV)
    if url:
        from connections.pgstore import upgrade

        before, after = upgrade(url, SCHEMA_VERSION)
        if before == after:
            out(f"{_where()}: schema {after}, up to date")
        else:
            out(f"{_where()}: schema {before or 0} -> {after}")
        return EXIT_OK
    with Store.open() as store:  # an embedded store migrates as it opens
        out(f"{store.describe()}: schema {store.schema_version()} (this Sluice knows "
            f"{SCHEMA_VERSION})")
    return EXIT_OK


def cmd_copy(args) -> int:
    from connections import Store
    from connections.pgstore import redacted
    from connections.transfer import copy_store

    with Store.open() as source:
        copied = copy_store(source, args.to)
    rows = copied.rows
    out(f"copied {rows['connections']} connection(s), {rows['services']} custom service(s) and "
        f"{rows['settings']} setting(s) from {source.describe()} to {redacted(args.to)}, "
        "their secrets sealed as they were")
    if copied.key_file is not None:
        out(f"the key file went along: {copied.key_file}")
    return EXIT_OK


def cmd_doctor(args) -> int:
    from connections.store import DATABASE_ENV, SCHEMA_VERSION

    url = os.environ.get(DATABASE_ENV)
    failed = False

    def check(ok: bool, text: str) -> None:
        nonlocal failed
        failed |= not ok
        out(f"  [{'ok' if ok else 'FAIL'}] {text}")

    if url:
        out(f"mode: scaled: the connections store is in PostgreSQL ({_where()})")
    else:
        out(f"mode: embedded: the connections store is the SQLite file {_where()} "
            f"(set {DATABASE_ENV} to use PostgreSQL)")
    from connections.store import DB_FILE, default_home

    version, problem = _database_version(url)
    if not url and not (default_home() / DB_FILE).exists():
        out("  no store yet: it is made when a connection, service or setting is first added")
    elif problem:
        check(False, problem)
    else:
        check(True, "the database answers")
        if version is None:
            check(False, "the database holds no store yet: run `sluice db upgrade`")
        elif version > SCHEMA_VERSION:
            check(False, f"schema {version} is newer than this Sluice knows ({SCHEMA_VERSION}): "
                         "upgrade Sluice on this host")
        elif version < SCHEMA_VERSION:
            check(False, f"schema {version}, this Sluice needs {SCHEMA_VERSION}: run "
                         "`sluice db upgrade`")
        else:
            check(True, f"schema {version}, as this Sluice expects")
            check(*_key_check())
    broker = os.environ.get(BROKER_ENV)
    if broker:
        answers, text = _broker_answers(broker)
        check(answers, text)
    else:
        out(f"  broker: {BROKER_ENV} is not set: event runs go to the server's own workers")
    return EXIT_FAILED if failed else EXIT_OK


def _database_version(url: str | None) -> tuple[int | None, str | None]:
    """(schema version, None) or (None, why the database cannot be read). Changes nothing."""
    if url:
        import psycopg

        from connections.pgstore import libpq_url, redacted, schema_version_of

        try:
            with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=5) as db:
                return schema_version_of(db), None
        except psycopg.Error as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            return None, (f"the database {redacted(url)} does not answer "
                          f"({first.replace(url, redacted(url))})")
    import sqlite3

    from connections.store import DB_FILE, default_home

    path = default_home() / DB_FILE
    if not path.exists():
        return None, None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        finally:
            db.close()
        return (int(row[0]) if row else None), None
    except sqlite3.DatabaseError as e:
        return None, f"cannot read {path} ({e})"


def _key_check() -> tuple[bool, str]:
    from connections import ConnectionsError, Store

    try:
        with Store.open() as store:
            if store.key_problem:
                return False, f"secret key: {store.key_problem}"
            return True, f"the secret key ({store._keys.describe()}) is the store's"
    except ConnectionsError as e:
        return False, str(e)


def _broker_answers(url: str) -> tuple[bool, str]:
    """Whether the broker's port answers (Redis: PING; AMQP: the protocol header)."""
    import socket
    from urllib.parse import urlsplit

    from connections.pgstore import redacted

    parts = urlsplit(url)
    default = {"redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671}.get(parts.scheme)
    shown = redacted(url)
    if default is None:
        return False, f"broker {shown}: not a redis:// or amqp:// URL"
    started = time.perf_counter()
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default),
                                      timeout=3) as sock:
            sock.settimeout(3)
            if parts.scheme.startswith("redis"):
                sock.sendall(b"PING\r\n")
                reply = sock.recv(64)
                ok = reply.startswith((b"+PONG", b"-NOAUTH", b"-ERR"))
            else:
                sock.sendall(b"AMQP\x00\x00\x09\x01")
                ok = sock.recv(8).startswith(b"\x01")  # Connection.Start frame
    except OSError as e:
        return False, f"broker {shown} does not answer ({e.strerror or e})"
    if not ok:
        return False, f"broker {shown}: something answers, but not a broker"
    return True, f"broker {shown} answers ({(time.perf_counter() - started) * 1e3:.1f} ms)"


def add_parser(sub, name: str = "db") -> None:
    if name == "doctor":
        p = sub.add_parser(name, help=command_help(name),
                           description="Say where the connections store lives, and check that "
                                       "the database answers, that its schema is the one this "
                                       "Sluice knows, that the secret key opens it, and that "
                                       "the broker answers when SLUICE_BROKER_URL is set.")
        p.set_defaults(run=guarded(cmd_doctor, "sluice"), action="doctor")
        return
    db = sub.add_parser(name, help=command_help(name),
                        description="The database of the connections store: the SQLite file "
                                    "in $SLUICE_HOME, or PostgreSQL when SLUICE_DATABASE_URL "
                                    "is set (postgresql://user@host/database).")
    db.set_defaults(run=lambda args: show_help(db))
    ds = db.add_subparsers(dest="action", metavar="ACTION")
    p = ds.add_parser("upgrade", help="migrate the store's schema to this Sluice's")
    p.set_defaults(run=guarded(cmd_upgrade, "sluice db"))
    p = ds.add_parser("copy", help="copy every service, connection and setting into another "
                                   "(empty) store, secrets still sealed",
                      description="Copy the store in use (SLUICE_DATABASE_URL's, else the "
                                  "SQLite file of $SLUICE_HOME) into another, empty one. Run "
                                  "it while no server uses the store.")
    p.add_argument("--to", required=True, metavar="WHERE",
                   help="postgresql://user@host/database, sqlite:///path/sluice.db, or a "
                        "home folder")
    p.set_defaults(run=guarded(cmd_copy, "sluice db"))
