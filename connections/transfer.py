"""Moving a whole store from one engine to the other (`sluice db copy`), and opening a store by
where it is (a PostgreSQL URL, `sqlite:///file`, or a home folder).

Rows go across as they are: the sealed blobs are copied byte for byte, never opened and sealed
again, and the target records the source's key id, so the same key opens them on either side.
A blob is bound to its row's name (secrets.py), not to a file or a database, so it opens in its
new home. Before anything is written the copy checks that the source's key opens every blob and
that the target can find that key; the target must hold no service, connection or setting yet.
The copy is one transaction of the target: it all arrives, or nothing does.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import SecretKeyError, StoreError
from .secrets import KEY_FILE, RETIRED_SUFFIX, KeySource, key_id
from .store import DB_FILE, SEALED_TABLES, Store, default_home

TABLES = ("services", "connections", "settings")


def open_at(where: str, *, home: Path | None = None, clock=time.time) -> Store:
    """The store at `where`: a postgresql:// URL (its key found as the current home's), a
    sqlite:///path/to/file.db URL, or a home folder (its sluice.db and key file)."""
    from .pgstore import is_server_url
    from .store import PostgresStore

    home = home if home is not None else default_home()
    if is_server_url(where):
        return PostgresStore(where, keys=KeySource(home), home=home, clock=clock)
    path = sqlite_path(where)
    return Store(path, keys=KeySource(path.parent), clock=clock)


def sqlite_path(where: str) -> Path:
    """The SQLite file `where` names: sqlite:///path/file.db, or a home folder's sluice.db."""
    if where.startswith("sqlite:///"):
        return Path(where[len("sqlite://"):]).expanduser()
    path = Path(where).expanduser()
    return path if path.suffix == ".db" and not path.is_dir() else path / DB_FILE


@dataclass(frozen=True)
class Copied:
    rows: dict        # table -> rows copied
    key_file: Path | None  # the key file copied beside an embedded target, if one was


def copy_store(source: Store, target_where: str, *, home: Path | None = None) -> Copied:
    """Copy every service, connection and setting of `source` into the (empty) store at
    `target_where`, sealed as they are."""
    expected = source._stored_key_id()
    _check_source_opens(source)
    key_file = _bring_key(source, target_where, home)
    target = open_at(target_where, home=home)
    try:
        if target.describe() == source.describe():
            raise StoreError("the source and the target are the same store")
        known = [key_id(k) for k in _keys_of(target)]
        if expected not in known:
            raise SecretKeyError(
                f"{target.describe()} would not find the key that sealed the secrets (id "
                f"{expected}): set SLUICE_SECRET_KEY to it, or copy its key file beside the "
                "target store; nothing was copied")
        counts = {}
        with target._transaction(exclusive=True) as db:
            for table in TABLES:
                if db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                    raise StoreError(f"{target.describe()} already holds {table}: copy into an "
                                     "empty store; nothing was copied")
            for table in TABLES:
                rows = source._read(f"SELECT * FROM {table}")
                for row in rows:
                    values = dict(row)
                    if table == "connections":
                        values.update(lease_owner=None, lease_until=None)
                    names = list(values)
                    db.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                               f"({', '.join('?' for _ in names)})",
                               tuple(_plain(values[n]) for n in names))
                counts[table] = len(rows)
            db.execute("UPDATE meta SET value = ? WHERE key = 'key_id'", (expected,))
        target._keyring, target._key_problem = target._load_keys()
        _check_source_opens(target)  # every blob opens where it now lies
        return Copied(rows=counts, key_file=key_file)
    finally:
        target.close()


def _plain(value):
    return bytes(value) if isinstance(value, memoryview) else value


def _keys_of(store: Store) -> list[bytes]:
    try:
        return store._keys.load_all()
    except SecretKeyError:
        return []


def _check_source_opens(store: Store) -> None:
    if store.key_problem:
        raise SecretKeyError(f"{store.key_problem}; nothing was copied")
    for table, column in SEALED_TABLES:
        for name, blob in store._read(f"SELECT {column}, secrets FROM {table} "
                                      "WHERE secrets IS NOT NULL"):
            store.unseal(blob, f"{table[:-1]}:{name}")


def _bring_key(source: Store, target_where: str, home: Path | None) -> Path | None:
    """An embedded target in a folder with no key file gets a copy of the source's key file
    (owner-only), so that its secrets open there too. With the key in SLUICE_SECRET_KEY, or
    a PostgreSQL target (its key is found in the current home), nothing is copied."""
    from .pgstore import is_server_url

    if source._keys.from_environment or is_server_url(target_where):
        return None
    folder = sqlite_path(target_where).parent
    wanted = folder / KEY_FILE
    if wanted.exists() or source._keys.path.resolve() == wanted.resolve():
        return None
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(wanted, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(source._keys.path.read_text(encoding="ascii"))
    retired = source._keys.path.with_name(KEY_FILE + RETIRED_SUFFIX)
    if retired.exists():
        shutil.copy2(retired, folder / retired.name)
        os.chmod(folder / retired.name, 0o600)
    return wanted
