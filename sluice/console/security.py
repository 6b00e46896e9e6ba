"""What keeps the console an admin's alone: password hashes, signed session cookies with a CSRF
token each, a brake on guessing, and the headers every page carries.

The console's settings live in the connections store (setting `console`): the password's scrypt
hash in the open part, the key that signs session cookies sealed like every other secret, so
sessions outlive a restart and every server sharing the store accepts them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque

SETTING = "console"
COOKIE = "sluice_console"
SESSION_SECONDS = 8 * 3600
MIN_PASSWORD = 12

# scrypt's parameters (RFC 7914): n=2**15, r=8, p=1 costs ~32 MB and ~50 ms a check here
_N, _R, _P = 2 ** 15, 8, 1

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P,
                            maxmem=64 * 1024 * 1024, dklen=32)
    return "scrypt${}${}${}${}${}".format(_N, _R, _P, _b64(salt), _b64(digest))


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r),
                             p=int(p), maxmem=64 * 1024 * 1024, dklen=len(_unb64(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest))


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"a password has at least {MIN_PASSWORD} characters"
    return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    """Signed, expiring session cookies. A cookie holds a session id, its CSRF token and when it
    was made, signed with the console's key; signing out forgets the id for good."""

    def __init__(self, key: bytes, lifetime: float = SESSION_SECONDS, clock=time.time):
        from itsdangerous import URLSafeTimedSerializer

        self._signer = URLSafeTimedSerializer(key, salt="sluice-console-session")
        self.lifetime = lifetime
        self.clock = clock
        self._ended: dict[str, float] = {}
        self._lock = threading.Lock()

    def new(self) -> tuple[str, dict]:
        session = {"sid": secrets.token_urlsafe(18), "csrf": secrets.token_urlsafe(24),
                   "at": self.clock()}
        return self._signer.dumps(session), session

    def read(self, cookie: str | None) -> dict | None:
        if not cookie:
            return None
        from itsdangerous import BadSignature

        try:
            session = self._signer.loads(cookie)
        except BadSignature:
            return None
        if not isinstance(session, dict) or not isinstance(session.get("at"), (int, float)):
            return None
        if self.clock() - session["at"] > self.lifetime:
            return None
        with self._lock:
            if session.get("sid") in self._ended:
                return None
        return session

    def end(self, session: dict) -> None:
        now = self.clock()
        with self._lock:
            self._ended[session["sid"]] = now
            for sid, at in list(self._ended.items()):  # forget what has expired anyway
                if now - at > self.lifetime:
                    del self._ended[sid]


def same_token(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(given.encode(),
                                                                  expected.encode())


class Brake:
    """Five wrong sign-ins in a minute from one address slow that address down: each further
    attempt waits twice as long as the one before (up to 15 minutes), until a minute passes
    with no wrong attempt."""

    def __init__(self, allowed: int = 5, window: float = 60.0, clock=time.monotonic):
        self.allowed, self.window, self.clock = allowed, window, clock
        self._failures: dict[str, deque] = defaultdict(deque)
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_for(self, address: str) -> float:
        """Seconds `address` must wait before its next attempt (0: it may try now)."""
        with self._lock:
            return max(0.0, self._blocked_until.get(address, 0.0) - self.clock())

    def failed(self, address: str) -> None:
        now = self.clock()
        with self._lock:
            failures = self._failures[address]
            failures.append(now)
            while failures and now - failures[0] > self.window:
                failures.popleft()
            over = len(failures) - self.allowed
            if over >= 0:
                self._blocked_until[address] = now + min(900.0, 2.0 ** over)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)
            self._blocked_until.pop(address, None)
