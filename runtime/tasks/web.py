"""`invokeurl [ ... ]` and the legacy `getUrl`, `postUrl` and `invokeUrl(...)`: HTTP from scripts.

The task turns its keys into a WebRequest and hands it to the run's Web (the sluice package's
goes through connections); the answer comes back as Deluge values: a JSON object as a map, a
JSON array as a list, anything else as text, or a FILE with `response-format: FILE`. A 4xx or 5xx
answer is returned like any other, as Deluge does. No answer (unreachable, timed out, too big,
a connection that cannot be used) is a catchable error.
"""

from __future__ import annotations

import codecs
import re
import time
from urllib.parse import unquote, urlsplit

from ..errors import DelugeError
from ..hosts import WebAnswer, WebFailure, WebRequest
from ..values import DelugeFile, TypedList, from_json, json_text, to_text, type_name

KEYS = ("url", "type", "parameters", "body", "headers", "content-type", "connection",
        "detailed", "response-format", "response-decoding", "files")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
FORMATS = ("JSON", "TEXT", "FILE", "XML", "STRING")
_LOOKS_JSON = re.compile(rb"\s*[\[{]")


def invokeurl(run, *args):
    """The task block (`args` is its dict of entries), or the deprecated function form
    `invokeUrl(url, type, body[, headers][, simple])`."""
    if len(args) == 1 and type(args[0]) is dict:
        return _task(run, args[0])
    return _function_form(run, *args)


def _task(run, entries: dict):
    given = {}
    for key, value in entries.items():
        low = key.lower()
        if low not in KEYS:
            raise DelugeError(f"invokeurl has no key '{key}' (its keys: {', '.join(KEYS)})")
        given[low] = value
    if given.get("url") is None:
        raise DelugeError("invokeurl needs a url")
    url = _text(given["url"], "url")
    method = _method(given.get("type"))
    headers = _headers(given.get("headers"))
    connection = given.get("connection")
    if connection is not None:
        connection = _text(connection, "connection")
    content_type = given.get("content-type")
    if content_type is not None:
        content_type = _text(content_type, "content-type")
    request = WebRequest(method=method, url=url, connection=connection or None, headers=headers)
    body, parameters = given.get("body"), given.get("parameters")
    if body is not None:  # newer form: parameters go in the query, body is the body
        request.params = _query(parameters, "parameters") if parameters is not None else None
        _set_body(request, body, content_type)
    elif parameters is not None:
        if method in ("GET", "DELETE") and _is_map(parameters):
            request.params = _query(parameters, "parameters")
        else:
            _set_body(request, parameters, content_type)
    if given.get("files") is not None:
        request.files += _files(given["files"])
    if content_type and not request.files and not _has_header(headers, "content-type"):
        headers["Content-Type"] = content_type
    answer = send(run, request, "invokeurl")
    detailed = given.get("detailed")
    if detailed is not None and type(detailed) is not bool:
        raise DelugeError(f"invokeurl: detailed must be true or false, found "
                          f"{type_name(detailed)}")
    decoding = given.get("response-decoding")
    fmt = given.get("response-format")
    fmt = _text(fmt, "response-format").upper() if fmt is not None else None
    if fmt is not None and fmt not in FORMATS:
        raise DelugeError(f"invokeurl: response-format {fmt} is not one of "
                          f"{', '.join(FORMATS)}")
    if fmt == "FILE":
        value = _file(answer)
    else:
        value = _value(answer, decoding, parse=fmt not in ("TEXT", "STRING", "XML"))
    if detailed:
        return {"responseCode": answer.status, "responseText": value,
                "responseHeader": dict(answer.headers)}
    return value


def _function_form(run, url=None, method=None, body=None, headers=None, simple=True, *rest):
    if url is None or method is None or rest:
        raise DelugeError("invokeUrl(url, type, body[, headers][, simple]) takes 2 to 5 "
                          "arguments")
    if type(headers) is bool:
        headers, simple = None, headers
    request = WebRequest(method=_method(method), url=_text(url, "url"),
                         headers=_headers(headers))
    if body is not None:
        _set_body(request, body, None)
    return _legacy_answer(send(run, request, "invokeUrl"), simple)


def get_url(run, url=None, *rest):
    """`getUrl(url[, headers][, simple])`."""
    headers, simple = _legacy_options(rest, "getUrl(url[, headers][, simple])")
    request = WebRequest(method="GET", url=_text(url, "url"), headers=_headers(headers))
    return _legacy_answer(send(run, request, "getUrl"), simple)


def post_url(run, url=None, body=None, *rest):
    """`postUrl(url, body[, headers][, simple])`: a map body goes as a form, text as it is."""
    headers, simple = _legacy_options(rest, "postUrl(url, body[, headers][, simple])")
    request = WebRequest(method="POST", url=_text(url, "url"), headers=_headers(headers))
    if body is not None:
        _set_body(request, body, None)
    return _legacy_answer(send(run, request, "postUrl"), simple)


def _legacy_options(rest: tuple, usage: str):
    headers, simple = None, True
    for value in rest:
        if type(value) is bool:
            simple = value
        elif _is_map(value) and headers is None:
            headers = value
        else:
            raise DelugeError(f"{usage}: found {type_name(value)} where a header map or "
                              "true/false goes")
    return headers, simple


def _legacy_answer(answer: WebAnswer, simple: bool):
    text = _decode(answer, None)
    if simple:
        return text
    return {"responseCode": answer.status, "responseText": text,
            "responseHeader": dict(answer.headers)}


# ---------------------------------------------------------------------------- the request


def send(run, request: WebRequest, task: str) -> WebAnswer:
    web = run.services.web
    if web is None:
        raise DelugeError(f"{task} cannot reach the web here (no HTTP access is set up)")
    relative = request.connection and request.url.startswith("/")  # on the service's API
    if not relative and not request.url.lower().startswith(("http://", "https://")):
        raise DelugeError(f"{task}: '{request.url}' is not an http:// or https:// URL")
    run.count("invokeurl", "invokeurl")
    limits = run.limits
    timeout = limits.effective("http_timeout")
    remaining = run.deadline - time.monotonic()
    timeout = min(timeout, max(remaining, 0.001))
    if timeout == float("inf"):
        timeout = None
    max_bytes = limits.response_size or 0
    try:
        return web.send(request, timeout=timeout, max_bytes=max_bytes)
    except WebFailure as e:
        if e.kind == "timeout":
            raise DelugeError(f"{task}: socket timeout error ({e})") from None
        raise DelugeError(f"{task}: {e}") from None


def _method(value) -> str:
    if value is None:
        return "GET"
    method = _text(value, "type").strip().upper()
    if method not in METHODS:
        raise DelugeError(f"invokeurl: type {value} is not one of {', '.join(METHODS)}")
    return method


def _text(value, key: str) -> str:
    if type(value) is not str:
        raise DelugeError(f"invokeurl: {key} must be a text, found {type_name(value)}")
    return value


def _is_map(value) -> bool:
    return type(value) is dict or (type(value).__name__ == "Collection" and value.is_map)


def _as_dict(value) -> dict:
    return value.items if type(value).__name__ == "Collection" else value


def _headers(value) -> dict:
    if value is None:
        return {}
    if not _is_map(value):
        raise DelugeError(f"invokeurl: headers must be a map, found {type_name(value)}")
    return {str(k): _field_text(v) for k, v in _as_dict(value).items()}


def _has_header(headers: dict, name: str) -> bool:
    return any(k.lower() == name for k in headers)


def _field_text(v) -> str:
    return "" if v is None else to_text(v)


def _query(value, key: str) -> dict:
    if not _is_map(value):
        raise DelugeError(f"invokeurl: {key} for a query must be a map, found {type_name(value)}")
    return {str(k): _field_text(v) for k, v in _as_dict(value).items()}


def _set_body(request: WebRequest, value, content_type: str | None) -> None:
    declared = content_type or next((v for k, v in request.headers.items()
                                     if k.lower() == "content-type"), None)
    wants_json = bool(declared) and "json" in declared.lower()
    if type(value) is DelugeFile or (type(value) in (list, TypedList) and value
                                     and all(type(v) is DelugeFile for v in value)):
        request.files += _files(value)
    elif _is_map(value) or type(value) in (list, TypedList):
        if wants_json or not _is_map(value):
            request.data = json_text(_as_dict(value) if _is_map(value) else value).encode()
            if not declared:
                request.headers["Content-Type"] = "application/json"
        else:
            request.data = {str(k): _field_text(v) for k, v in _as_dict(value).items()}
    else:
        request.data = _field_text(value).encode("utf-8")
        if not declared:
            request.headers["Content-Type"] = "text/plain; charset=utf-8"


def _files(value) -> list:
    if type(value) is DelugeFile:
        return [("file", value.name, value.content, value.content_type)]
    if type(value) in (list, TypedList):
        return [f for v in value for f in _files(v)]
    if _is_map(value):
        out = []
        for key, v in _as_dict(value).items():
            out += [(str(key), name, content, kind) for _, name, content, kind in _files(v)]
        return out
    raise DelugeError(f"invokeurl: files must be a FILE, a list of them or a map of them, "
                      f"found {type_name(value)}")


# ---------------------------------------------------------------------------- the answer


def _charset(answer: WebAnswer) -> str | None:
    content_type = answer.headers.get("content-type")
    if not content_type or "charset" not in content_type.lower():
        return None
    from email.message import Message

    message = Message()
    message["content-type"] = content_type
    return message.get_param("charset")


def _decode(answer: WebAnswer, decoding) -> str:
    charset = decoding if decoding is not None else _charset(answer)
    if decoding is not None:
        charset = _text(decoding, "response-decoding")
        try:
            codecs.lookup(charset)
        except LookupError:
            raise DelugeError(f"invokeurl: response-decoding {charset} is not a known "
                              "character set") from None
    elif charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            charset = None
    return answer.content.decode(charset or "utf-8", errors="replace")


def _value(answer: WebAnswer, decoding, parse: bool = True):
    text = _decode(answer, decoding)
    if parse and _LOOKS_JSON.match(answer.content[:64]):
        try:
            return from_json(text)
        except (ValueError, RecursionError):
            pass  # not JSON after all: the text as it is
    return text


def _file(answer: WebAnswer) -> DelugeFile:
    name = None
    disposition = answer.headers.get("content-disposition")
    if disposition:
        from email.message import Message

        message = Message()
        message["content-disposition"] = disposition
        name = message.get_filename()
    if not name:
        name = unquote(urlsplit(answer.url).path.rsplit("/", 1)[-1]) or "file"
    kind = (answer.headers.get("content-type") or "application/octet-stream").split(";")[0]
    return DelugeFile(name, answer.content, kind.strip())
