"""Taking secrets out of text that will be stored or shown, in whatever form they came back.

A provider that fails may quote the request in its error: the client secret as it was posted
(URL-encoded), the `Authorization: Basic ...` header (base64 of `id:secret`, each part
URL-encoded first), a token inside a JSON string (escaped). Text passes through a masker before it
lands in a status, a `last_error`, an exception or a shown answer. The masker replaces:

- each secret as it is, URL-encoded (both ways), JSON-escaped, HTML-escaped and in hex;
- each run of base64 (standard or URL-safe, also URL-encoded or JSON-escaped) that decodes to
  text holding a secret in one of those forms, or that holds the base64 of the secret itself at
  any alignment (so `Basic <anything:secret>` goes whatever the user name);

with `***`. Values shorter than MIN_LENGTH are left alone: they would mask ordinary words.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from urllib.parse import quote, quote_plus, unquote

MIN_LENGTH = 4
MASK = "***"
_CORE_MIN = 8  # shorter base64 pieces are matched by decoding the run instead
_B64_RUN = re.compile(r"(?:[A-Za-z0-9+/_-]|\\/|%2[BbFf]|%3[Dd]|=){8,}")


def plain_forms(value: str) -> set[str]:
    """The ways `value` itself may be written in text."""
    forms = {value, quote(value, safe=""), quote(value), quote_plus(value), html.escape(value),
             json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    raw = value.encode("utf-8")
    forms |= {raw.hex(), raw.hex().upper()}
    return {f for f in forms if len(f) >= MIN_LENGTH}


def _base64_cores(raw: bytes) -> set[str]:
    """Pieces of the base64 of any text that holds `raw`, at each of the three alignments:
    the full groups made of `raw`'s bytes alone."""
    cores = set()
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * offset + raw).decode("ascii")
            start = 4 if offset else 0
            end = 4 * ((offset + len(raw)) // 3)
            core = encoded[start:end]
            if len(core) >= _CORE_MIN:
                cores.add(core)
    return cores


class Masker:
    def __init__(self, values):
        plain: set[str] = set()
        for value in values:
            if isinstance(value, str) and len(value) >= MIN_LENGTH:
                plain |= plain_forms(value)
        self._plain = sorted(plain, key=len, reverse=True)
        self._bytes = [p.encode("utf-8") for p in self._plain]
        cores: set[str] = set()
        short = False
        for form in plain:
            cores |= _base64_cores(form.encode("utf-8"))
            # too short for every alignment to leave a core: only decoding finds it
            short = short or len(form.encode("utf-8")) < 8
        self._cores = cores
        self._short = short
        # one search each, longest first, instead of a loop per form (answers are masked on
        # every call through a connection)
        self._plain_text = _alternation(self._plain)
        self._plain_bytes = _alternation(self._bytes)
        self._core_bytes = _alternation(sorted(c.encode("ascii") for c in cores))

    def may_hold_encoded(self, data: bytes) -> bool:
        """A quick look at a large body: False when it surely holds no base64 form of a
        secret (so the full masker need not run over it)."""
        return self._short or (self._core_bytes is not None
                               and self._core_bytes.search(data) is not None)

    def touches(self, data: bytes) -> bool:
        """Whether `data` may hold a secret in any form."""
        return bool(self._plain) and (self._plain_bytes.search(data) is not None
                                      or self.may_hold_encoded(data))

    def __bool__(self) -> bool:
        return bool(self._plain)

    def __call__(self, text: str) -> str:
        if not self._plain or not text:
            return text
        text = _B64_RUN.sub(self._run, text)
        return self._plain_text.sub(MASK, text)

    def scrub(self, data: bytes) -> bytes:
        """`data` (text in some encoding, mostly UTF-8) masked: the plain forms bytewise, the
        base64 forms only when a piece of one is there."""
        if not self._plain or not data:
            return data
        data = self._plain_bytes.sub(MASK.encode(), data)
        if self.may_hold_encoded(data):
            data = self(data.decode("utf-8", "surrogateescape")).encode(
                "utf-8", "surrogateescape")
        return data

    def _run(self, match: re.Match) -> str:
        run = match.group(0)
        clean = unquote(run.replace("\\/", "/"))
        if any(core in clean for core in self._cores) or self._decodes_to_secret(clean):
            return MASK
        return run

    def _decodes_to_secret(self, run: str) -> bool:
        body = run.rstrip("=")
        for start in range(4):
            piece = body[start:]
            piece = piece[:len(piece) - len(piece) % 4] if len(piece) % 4 == 1 else piece
            padded = piece + "=" * (-len(piece) % 4)
            for altchars in (None, b"-_"):
                try:
                    decoded = base64.b64decode(padded, altchars=altchars, validate=False)
                except (binascii.Error, ValueError):
                    continue
                if any(b in decoded for b in self._bytes):
                    return True
        return False


def _alternation(forms: list):
    """One pattern matching any of `forms` (str or bytes), longer ones first; None for none."""
    if not forms:
        return None
    forms = sorted(forms, key=len, reverse=True)
    joiner = "|" if isinstance(forms[0], str) else b"|"
    return re.compile(joiner.join(re.escape(f) for f in forms))


def masker_for(sources) -> Masker:
    """A masker for every secret in `sources`: dicts of secrets, or single values."""
    values = []
    for source in sources:
        if isinstance(source, dict):
            values += [v for v in source.values() if isinstance(v, str)]
        elif isinstance(source, str):
            values.append(source)
    return Masker(values)
