"""Encoding, hashing and encryption: URL, base64, HTML, hex digests, HMAC, AES, and the
`zoho.encryption.*` forms of them. Text is UTF-8 on the way to bytes."""

from __future__ import annotations

import base64

from ..builtins import builtin, text_arg
from ..errors import DelugeError
from ..values import DelugeFile

_T = "text"


@builtin("encodeUrl", on=_T, aliases=("urlEncodePlus",),
         doc="URL-encoded, spaces as + (form style)")
def _encode_url(s):
    import urllib.parse  # imported on first use: it costs start-up time (as do those below)

    return urllib.parse.quote_plus(s, safe="")


@builtin("urlEncode", on=_T, doc="URL-encoded, spaces as %20")
def _url_encode(s):
    import urllib.parse

    return urllib.parse.quote(s, safe="")


@builtin("urlDecode", on=_T, aliases=("decodeUrl",), doc="URL-decoded (+ as a space)")
def _url_decode(s):
    import urllib.parse

    return urllib.parse.unquote_plus(s)


@builtin("base64Encode", on=_T, doc="the UTF-8 bytes in base64")
def _b64_encode(s):
    return base64.b64encode(s.encode("utf-8")).decode("ascii")


@builtin("base64Decode", on=_T, doc="text from base64 (UTF-8)")
def _b64_decode(s):
    try:
        raw = base64.b64decode(s + "=" * (-len(s) % 4), validate=False)
        return raw.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise DelugeError("base64Decode: the text is not base64 of UTF-8 text") from None


@builtin("htmlEncode", on=_T, aliases=("escapeHtml",), doc="with & < > \" ' as HTML entities")
def _html_encode(s):
    import html

    return html.escape(s, quote=True)


@builtin("htmlDecode", on=_T, aliases=("unescapeHtml",), doc="with HTML entities decoded")
def _html_decode(s):
    import html

    return html.unescape(s)


def _digest(algorithm: str, data: str) -> str:
    import hashlib

    return hashlib.new(algorithm, data.encode("utf-8")).hexdigest()


def _hmac(algorithm: str, key, message, output, fn: str) -> str:
    import hmac

    key = text_arg(key, fn, 1).encode("utf-8")
    message = text_arg(message, fn, 2).encode("utf-8")
    mac = hmac.new(key, message, algorithm).digest()
    form = text_arg(output, fn, 3).lower() if output is not None else "base64"
    if form == "hex":
        return mac.hex()
    if form == "base64url":
        return base64.urlsafe_b64encode(mac).decode("ascii")
    if form == "base64":
        return base64.b64encode(mac).decode("ascii")
    raise DelugeError(f"{fn}: the output format is \"base64\", \"base64url\" or \"hex\"")


def _aes_key(key) -> bytes:
    import hashlib

    return hashlib.sha256(text_arg(key, "aesEncode", 1).encode("utf-8")).digest()


def _aes_encode(key, text):
    import os

    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(text_arg(text, "aesEncode", 2).encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_aes_key(key)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(data) + encryptor.finalize()).decode("ascii")


def _aes_decode(key, text):
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        raw = base64.b64decode(text_arg(text, "aesDecode", 2))
        iv, body = raw[:16], raw[16:]
        decryptor = Cipher(algorithms.AES(_aes_key(key)), modes.CBC(iv)).decryptor()
        unpadder = padding.PKCS7(128).unpadder()
        data = unpadder.update(decryptor.update(body) + decryptor.finalize()) + \
            unpadder.finalize()
        return data.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise DelugeError("aesDecode: the text was not made by aesEncode with this key") \
            from None


# The zoho.encryption namespace, and global functions doing the same work.


def base64_encode(text):
    return _b64_encode(text_arg(text, "base64Encode", 1))


def base64_decode(text):
    return _b64_decode(text_arg(text, "base64Decode", 1))


def url_encode(text):
    return _url_encode(text_arg(text, "urlEncode", 1))


def url_decode(text):
    return _url_decode(text_arg(text, "urlDecode", 1))


def md5(text):
    return _digest("md5", text_arg(text, "md5", 1))


def sha1(text):
    return _digest("sha1", text_arg(text, "sha1", 1))


def sha256(text):
    return _digest("sha256", text_arg(text, "sha256", 1))


def sha512(text):
    return _digest("sha512", text_arg(text, "sha512", 1))


def hmacsha1(key, message, output=None):
    return _hmac("sha1", key, message, output, "hmacsha1")


def hmacsha256(key, message, output=None):
    return _hmac("sha256", key, message, output, "hmacsha256")


def hmacsha512(key, message, output=None):
    return _hmac("sha512", key, message, output, "hmacsha512")


def aesEncode(key, text):  # noqa: N802  (the name scripts call)
    return _aes_encode(key, text)


def aesDecode(key, text):  # noqa: N802
    return _aes_decode(key, text)


_HMAC_DOC = "HMAC-{} of a message with a key: base64 (or \"hex\", \"base64url\")"
NAMESPACE = {
    "base64Encode": (base64_encode, "the UTF-8 bytes in base64"),
    "base64Decode": (base64_decode, "text from base64"),
    "urlEncode": (url_encode, "URL-encoded, spaces as %20"),
    "urlDecode": (url_decode, "URL-decoded"),
    "md5": (md5, "MD5 digest, hexadecimal"),
    "sha1": (sha1, "SHA-1 digest, hexadecimal"),
    "sha256": (sha256, "SHA-256 digest, hexadecimal"),
    "sha512": (sha512, "SHA-512 digest, hexadecimal"),
    "hmacsha1": (hmacsha1, _HMAC_DOC.format("SHA1")),
    "hmacsha256": (hmacsha256, _HMAC_DOC.format("SHA256")),
    "hmacsha512": (hmacsha512, _HMAC_DOC.format("SHA512")),
    "aesEncode": (aesEncode, "AES-256-CBC encryption with a text key (base64, a random IV "
                             "first): only aesDecode reads it back"),
    "aesDecode": (aesDecode, "the text aesEncode encrypted with the same key"),
}
for _name, (_fn, _doc) in NAMESPACE.items():
    builtin(f"zoho.encryption.{_name}", doc=_doc)(_fn)
    if _name not in ("base64Encode", "base64Decode", "urlEncode", "urlDecode"):
        builtin(_name, doc=_doc)(_fn)  # the text methods of those names exist already
del _name, _fn, _doc


@builtin("toFile", on=_T, doc="a FILE with this text as its content: toFile(\"name.txt\")")
def _to_file(s, name="file.txt"):
    return DelugeFile(text_arg(name, "toFile", 1), s.encode("utf-8"), "text/plain")


@builtin("getFileName", on="file", doc="the file's name")
def _file_name(f):
    return f.name


@builtin("setFileName", on="file", doc="renames the file")
def _set_file_name(f, name):
    f.name = text_arg(name, "setFileName", 1)


@builtin("getFileContent", on="file", aliases=("toText",), doc="the content as UTF-8 text")
def _file_content(f):
    return f.content.decode("utf-8", "replace")


@builtin("getFileType", on="file", aliases=("getFileContentType",),
         doc="the content type, e.g. application/pdf")
def _file_type(f):
    return f.content_type


@builtin("setFileType", on="file", aliases=("setFileContentType",), doc="sets the content type")
def _set_file_type(f, content_type):
    f.content_type = text_arg(content_type, "setFileType", 1)


@builtin("getFileSize", on="file", aliases=("size",), doc="the size in bytes")
def _file_size(f):
    return len(f.content)
