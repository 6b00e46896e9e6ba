"""Encryption of secrets at rest, and where the key comes from.

Each secret blob is sealed with AES-256-GCM. The blob starts with the id of the key that sealed it
(a keyed hash, which says nothing about the key), so a wrong or missing key is named as such
instead of producing garbage, and keys can rotate. The associated data binds a blob to its row
("connection:mailchimp"), so a blob copied onto another row does not open.

The key is `SLUICE_SECRET_KEY` when set (a 32-byte key in URL-safe base64, as `sluice connections
rotate-key` prints it, or any passphrase, stretched with scrypt), else the key file
`<home>/secret.key`, created with owner-only permissions the first time a store is made.

Rotation and other processes: the store names the key of the day (its id in `meta`), and a
process holds a ring of every key it has seen. It seals only inside the write transaction that
stores the blob, with the key the store names at that moment, reloading the key files when that
key is new to it; so no process can seal with a key a rotation has just retired. A rotation
keeps the key it replaces in `secret.key.old` (until the next rotation) and writes the new one to
`secret.key.new` before its transaction, so at every instant each key is in one of the files.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import threading
from pathlib import Path

from .errors import SecretKeyError

KEY_ENV = "SLUICE_SECRET_KEY"
KEY_FILE = "secret.key"
RETIRED_SUFFIX = ".old"
PENDING_SUFFIX = ".new"
_MAGIC = b"S1"
_ID_BYTES = 8
_NONCE_BYTES = 12


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def key_from_text(text: str) -> bytes:
    """The 32-byte key that `text` stands for: itself when it is an encoded key, else a
    passphrase stretched with scrypt."""
    text = text.strip()
    if not text:
        raise SecretKeyError(f"{KEY_ENV} is empty")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        if len(raw) == 32 and len(text) in (43, 44):
            return raw
    except ValueError:
        pass
    return hashlib.scrypt(text.encode("utf-8"), salt=b"sluice secret key v1", n=2 ** 14, r=8,
                          p=1, dklen=32)


def key_id(key: bytes) -> str:
    return hmac.new(key, b"sluice key id", hashlib.sha256).hexdigest()[:2 * _ID_BYTES]


class UnknownKey(SecretKeyError):
    """A blob sealed with a key this process does not hold (yet)."""


class DamagedSecrets(SecretKeyError):
    """A blob that does not open with the very key that sealed it: the row itself is bad."""


class KeyRing:
    """Seals with the current key; opens with whichever of its keys sealed the blob."""

    def __init__(self, *keys: bytes, current: str | None = None):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.keys = tuple(dict.fromkeys(keys))
        self._boxes = {bytes.fromhex(key_id(k)): AESGCM(k) for k in self.keys}
        self._current = bytes.fromhex(current or key_id(keys[0]))
        if self._current not in self._boxes:
            raise ValueError("the current key is not in the ring")

    @property
    def current_id(self) -> str:
        return self._current.hex()

    def has(self, kid: str) -> bool:
        return bytes.fromhex(kid) in self._boxes

    def seal(self, data: dict, where: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        plain = json.dumps(data, separators=(",", ":")).encode("utf-8")
        return _MAGIC + self._current + nonce + self._boxes[self._current].encrypt(
            nonce, plain, where.encode("utf-8"))

    def open(self, blob: bytes, where: str) -> dict:
        from cryptography.exceptions import InvalidTag

        blob = bytes(blob)
        if not blob.startswith(_MAGIC) or len(blob) < 2 + _ID_BYTES + _NONCE_BYTES + 16:
            raise DamagedSecrets(f"the secrets of {where} are damaged (not a sealed blob)")
        kid = blob[2:2 + _ID_BYTES]
        box = self._boxes.get(kid)
        if box is None:
            raise UnknownKey(
                f"the secrets of {where} were encrypted with key {kid.hex()}, but the key in use "
                f"is {self.current_id}: set {KEY_ENV} (or restore the key file) to the key they "
                "were made with, or reconnect")
        nonce = blob[2 + _ID_BYTES:2 + _ID_BYTES + _NONCE_BYTES]
        try:
            plain = box.decrypt(nonce, blob[2 + _ID_BYTES + _NONCE_BYTES:], where.encode("utf-8"))
        except InvalidTag:
            raise DamagedSecrets(f"the secrets of {where} do not decrypt: the store was changed "
                                 "outside Sluice or is damaged; reconnect") from None
        return json.loads(plain)


def blob_key_id(blob: bytes | None) -> str | None:
    """The id of the key that sealed `blob` (None for no blob or not a sealed one)."""
    if not blob or not bytes(blob).startswith(_MAGIC):
        return None
    return bytes(blob)[2:2 + _ID_BYTES].hex()


class KeySource:
    """Finds, creates and replaces the key of a store kept in `home`."""

    def __init__(self, home: Path, environ=os.environ):
        self.path = Path(home) / KEY_FILE
        self.pending_path = self.path.with_name(KEY_FILE + PENDING_SUFFIX)
        self.retired_path = self.path.with_name(KEY_FILE + RETIRED_SUFFIX)
        self._env = environ.get(KEY_ENV)

    @property
    def from_environment(self) -> bool:
        return bool(self._env)

    def describe(self) -> str:
        return f"${KEY_ENV}" if self._env is not None else str(self.path)

    def load(self, *, create: bool) -> bytes:
        if self._env is not None:
            return key_from_text(self._env)
        if not self.path.exists():
            if not create:
                raise SecretKeyError(
                    f"the key file {self.path} is missing, and the store holds secrets "
                    f"encrypted with it: restore the file or set {KEY_ENV} to the key")
            self._write(self.path, generate_key())
        return self._read(self.path)

    def load_all(self) -> list[bytes]:
        """Every key on hand: the one in use first, then a rotation's new and retired keys.
        (With the key in the environment, that key alone: a rotation cannot reach it.)"""
        if self._env is not None:
            return [key_from_text(self._env)]
        keys = [self.load(create=False)]
        for path in (self.pending_path, self.retired_path):
            try:
                keys.append(self._read(path))
            except FileNotFoundError:
                pass
            except SecretKeyError:
                pass  # a half-written leftover holds no key anyone sealed with
        return keys

    def load_pending(self) -> bytes | None:
        """The key of a rotation that was interrupted, if its file is there."""
        if self._env is not None or not self.pending_path.exists():
            return None
        return self._read(self.pending_path)

    def write_pending(self, text: str) -> None:
        """Before a rotation's transaction: the key in use is copied to the retired file (so
        processes that still hold blobs it sealed find it) and the new key is written."""
        self._write_atomic(self.retired_path, self.path.read_text(encoding="ascii").strip())
        self.discard_pending()
        self._write(self.pending_path, text)

    def finish_rotation(self, expected_id: str) -> None:
        """When the store already names the key of `secret.key.new` (a rotation committed and
        then died, or is swapping its files right now), make it the key file."""
        if self._env is not None:
            return
        try:
            pending = self._read(self.pending_path)
        except (FileNotFoundError, SecretKeyError):
            return
        if key_id(pending) != expected_id:
            return
        try:
            if key_id(self._read(self.path)) == expected_id:
                return
        except (FileNotFoundError, SecretKeyError):
            pass
        self.commit_pending()

    def commit_pending(self) -> None:
        """The new key becomes the key file. Another process that saw the rotation committed
        may have done it already."""
        try:
            os.replace(self.pending_path, self.path)
        except FileNotFoundError:
            return
        _fsync_dir(self.path.parent)

    def discard_pending(self) -> None:
        try:
            self.pending_path.unlink()
        except FileNotFoundError:
            pass

    def _write_atomic(self, path: Path, text: str) -> None:
        # the process and the thread: threads of one process may write the key at once
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        self._write(tmp, text)
        os.replace(tmp, path)
        _fsync_dir(path.parent)

    @staticmethod
    def _write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(path.parent)

    @staticmethod
    def _read(path: Path) -> bytes:
        if os.name == "posix":
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise SecretKeyError(f"the key file {path} can be read by others "
                                     f"(mode {stat.filemode(mode)}): run chmod 600 {path}")
        text = path.read_text(encoding="ascii", errors="replace").strip()
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise SecretKeyError(f"the key file {path} does not hold a key")
        return raw


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
