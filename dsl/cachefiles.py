"""Files of the on-disk caches (parse tables, compiled scripts) that are safe to load.

Loading a cache file runs what it holds: the parse tables are a pickle, compiled scripts are
marshalled code. Another user who can write to the cache folder, or a file swapped for another,
must not get code run as the user. So a cache file is loaded only when:

- its folder is the user's own and open to no one else (folders are made 0700);
- the file is a regular file (not a link), owned by the user, writable by no one else;
- its first 32 bytes are an HMAC-SHA256, under a per-user key kept in the cache folder
  (`.cache-key`, made 0600), of its name and its contents.

A file that fails any check is ignored as if it were missing; the caller makes the content again
and writes a good file over it. Nothing here raises: a cache only ever costs time.

The HMAC is RFC 2104's, over the interpreter's own SHA-256 (`_sha256`): `hmac` and `hashlib`
load OpenSSL, which costs a cached `sluice run` more than the rest of its start.
"""

from __future__ import annotations

import os
import stat

try:
    from _sha256 import sha256 as _sha256  # Python 3.11
except ImportError:
    try:
        from _sha2 import sha256 as _sha256  # Python 3.12 and later
    except ImportError:
        from hashlib import sha256 as _sha256

KEY_FILE = ".cache-key"
_MAC_BYTES = 32
_POSIX = os.name == "posix"
_keys: dict[str, bytes] = {}


def private_folder(folder: str) -> bool:
    """Make `folder` (owner-only) if needed; True when it is the user's own and no one else
    can write to it. A folder that exists is never changed (it may be /tmp): one open to
    others is simply not used."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if not _POSIX:
            return True
        info = os.stat(folder)
        return info.st_uid == os.getuid() and not \
            stat.S_IMODE(info.st_mode) & (stat.S_IWGRP | stat.S_IWOTH)
    except OSError:
        return False


def _key(root: str, create: bool) -> bytes | None:
    cached = _keys.get(root)
    if cached is not None:
        return cached
    path = os.path.join(root, KEY_FILE)
    key = _read_private(path)
    if key is not None and len(key) != 32:
        key = None
    if key is None and create and private_folder(root):
        key = os.urandom(32)
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key)
            os.link(tmp, path)  # never replaces a key another process made meanwhile
        except FileExistsError:
            key = _read_private(path)
        except OSError:
            return None
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    if key is not None:
        _keys[root] = key
    return key


def _read_private(path: str) -> bytes | None:
    """The bytes of `path` when it is a regular file of the user's that no one else can
    write; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if _POSIX and (info.st_uid != os.getuid()
                       or stat.S_IMODE(info.st_mode) & (stat.S_IWGRP | stat.S_IWOTH)):
            return None
        with os.fdopen(fd, "rb") as f:
            fd = -1
            return f.read()
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)


_BLOCK = 64  # SHA-256's block size
_INNER = bytes(x ^ 0x36 for x in range(256))
_OUTER = bytes(x ^ 0x5C for x in range(256))


def _mac(key: bytes, path: str, data: bytes) -> bytes:
    """HMAC-SHA256(key, name NUL data), as hmac.new(key, ..., "sha256").digest() gives it."""
    if len(key) > _BLOCK:
        key = _sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = _sha256(key.translate(_INNER))
    inner.update(os.path.basename(path).encode() + b"\0")
    inner.update(data)
    return _sha256(key.translate(_OUTER) + inner.digest()).digest()


def _same(a: bytes, b: bytes) -> bool:
    """a == b in a time that does not depend on where they differ."""
    if len(a) != len(b):
        return False
    diff = 0
    for x, y in zip(a, b):
        diff |= x ^ y
    return diff == 0


def read(root: str, path: str) -> bytes | None:
    """The contents of cache file `path` (under cache folder `root`) if every check passes."""
    folder = os.path.dirname(path)
    if _POSIX:
        try:
            for each in {root, folder}:
                info = os.stat(each)
                if info.st_uid != os.getuid() or \
                        stat.S_IMODE(info.st_mode) & (stat.S_IWGRP | stat.S_IWOTH):
                    return None
        except OSError:
            return None
    data = _read_private(path)
    if data is None or len(data) < _MAC_BYTES:
        return None
    key = _key(root, create=False)
    if key is None:
        return None
    mac, payload = data[:_MAC_BYTES], data[_MAC_BYTES:]
    if not _same(mac, _mac(key, path, payload)):
        return None
    return payload


def write(root: str, path: str, payload: bytes) -> bool:
    """Write cache file `path` owner-only, with its HMAC; False when it cannot be written."""
    folder = os.path.dirname(path)
    if not (private_folder(root) and private_folder(folder)):
        return False
    key = _key(root, create=True)
    if key is None:
        return False
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(_mac(key, path, payload) + payload)
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
