"""The one HTTP client: every outgoing request of Sluice goes through here.

One pooled `requests.Session`, so connections to a host are reused across calls and threads.
Decided once, here: timeouts (10 s to connect, 40 s to read, as Deluge's invokeurl), a cap on
response size, redirects followed by hand so that credentials never travel to another origin,
and log lines with credentials taken out.
"""

from __future__ import annotations

import logging
import os
import re
import time
import urllib.request
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from .errors import ConnectionsError

log = logging.getLogger("connections.http")

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 40.0
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 10
# Headers that carry credentials: dropped when a redirect leaves the origin, never logged.
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")
_SENSITIVE = re.compile(r"token|secret|password|passwd|key|sig|code|auth|session|credential",
                        re.IGNORECASE)


class _RedactQueries(logging.Filter):
    """urllib3 logs each request line, query string and all; hide credential-like values."""

    _QUERY = re.compile(r"([?&])([^=&\s\"]+)=([^&\s\"]*)")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._QUERY.sub(
            lambda m: f"{m.group(1)}{m.group(2)}=***" if _SENSITIVE.search(m.group(2))
            else m.group(0), message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_redacting = _RedactQueries()
for _name in ("urllib3.connectionpool", "requests"):
    logging.getLogger(_name).addFilter(_redacting)


class HttpError(ConnectionsError):
    """The request did not produce a response: unreachable, timed out, too large, looping."""


class ResponseTooLarge(HttpError):
    pass


class HttpTimeout(HttpError):
    """No answer (or no connection) within the timeout."""


class _Session(requests.Session):
    """A session that never waits forever (authlib's clients post through it too), and that
    reads the proxy settings of the environment once instead of at every request (requests
    scans the whole environment twice per call otherwise; .netrc is not consulted: credentials
    come from connections only)."""

    def __init__(self, timeout):
        super().__init__()
        self.default_timeout = timeout
        self.trust_env = False
        self.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get(
            "CURL_CA_BUNDLE") or True
        self._environment_proxies = {k: v for k, v in urllib.request.getproxies().items()
                                     if k != "no"}
        self._no_proxy = urllib.request.getproxies().get("no")

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.default_timeout)
        # No redirect is followed here: authlib posts client secrets and refresh tokens
        # through this session, and a 307 would carry them to wherever it points.
        # HttpClient.request follows redirects by hand, dropping credentials off the origin.
        kwargs["allow_redirects"] = False
        if self._environment_proxies and "proxies" not in kwargs:
            kwargs["proxies"] = self._proxies_for(url)
        return super().request(method, url, **kwargs)

    def _proxies_for(self, url: str) -> dict:
        host = urlsplit(url).hostname or ""
        bypass = {"no": self._no_proxy} if self._no_proxy else {}
        if urllib.request.proxy_bypass_environment(host, bypass):
            return {}
        return self._environment_proxies


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def redact_url(url: str) -> str:
    """`url` without user info and with the values of credential-like query parameters hidden."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable URL>"
    netloc = parts.netloc.rpartition("@")[2]
    query = urlencode([(k, "***" if _SENSITIVE.search(k) else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class HttpClient:
    def __init__(self, *, connect_timeout: float = CONNECT_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT, max_bytes: int = MAX_RESPONSE_BYTES,
                 max_redirects: int = MAX_REDIRECTS, user_agent: str | None = None,
                 pool_size: int = 32):
        self.session = _Session((connect_timeout, read_timeout))
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if user_agent:
            self.session.headers["User-Agent"] = user_agent
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects

    def close(self) -> None:
        self.session.close()

    def request(self, method: str, url: str, *, auth=None, allow_redirects: bool = True,
                max_bytes: int | None = None, **kwargs) -> requests.Response:
        """Send one request and return the response, its body read (up to the size cap).
        `auth` (a requests auth callable) is applied only while the URL stays on the first
        request's origin."""
        method = method.upper()
        first_origin = None
        history = []
        while True:
            if first_origin is None:
                first_origin, same_origin = origin(url), True
            else:
                same_origin = origin(url) == first_origin
            response = self._send_once(method, url, auth if same_origin else None,
                                       kwargs if same_origin else _without_credentials(kwargs),
                                       max_bytes)
            if not (allow_redirects and response.is_redirect):
                response.history = history
                return response
            if len(history) >= self.max_redirects:
                raise HttpError(f"more than {self.max_redirects} redirects from "
                                f"{redact_url(history[0].url if history else url)}")
            history.append(response)
            url = urljoin(response.url, response.headers["location"])
            if response.status_code == 303 or (response.status_code in (301, 302)
                                                and method == "POST"):
                method = "GET"
                kwargs = {k: v for k, v in kwargs.items() if k not in ("data", "json", "files")}

    def _send_once(self, method, url, auth, kwargs, max_bytes) -> requests.Response:
        started = time.monotonic()
        try:
            response = self.session.request(method, url, auth=auth, allow_redirects=False,
                                            stream=True, **kwargs)
        except requests.Timeout:
            raise HttpTimeout(f"{method} {redact_url(url)}: no answer in time "
                              f"(timeout {self._timeout_text(kwargs)})") from None
        except requests.ConnectionError as e:
            raise HttpError(f"{method} {redact_url(url)}: cannot connect "
                            f"({_reason(e)})") from None
        except requests.RequestException as e:
            raise HttpError(f"{method} {redact_url(url)}: {type(e).__name__}") from None
        try:
            self._read_body(response, max_bytes if max_bytes is not None else self.max_bytes)
        except requests.RequestException as e:
            raise HttpError(f"{method} {redact_url(url)}: the answer broke off "
                            f"({type(e).__name__})") from None
        finally:
            response.close()
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %s in %.0f ms", method, redact_url(url), response.status_code,
                      (time.monotonic() - started) * 1000)
        return response

    def _timeout_text(self, kwargs) -> str:
        timeout = kwargs.get("timeout", self.session.default_timeout)
        if isinstance(timeout, tuple):
            timeout = timeout[-1]
        return f"{timeout:g} s"

    @staticmethod
    def _read_body(response: requests.Response, limit: int) -> None:
        declared = response.headers.get("content-length", "")
        if limit and declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(f"the answer from {redact_url(response.url)} is "
                                   f"{int(declared):,} bytes, more than the limit of {limit:,}")
        chunks, size = [], 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if limit and size > limit:
                raise ResponseTooLarge(f"the answer from {redact_url(response.url)} is more "
                                       f"than the limit of {limit:,} bytes")
            chunks.append(chunk)
        response._content = b"".join(chunks)
        response._content_consumed = True


def _without_credentials(kwargs: dict) -> dict:
    headers = kwargs.get("headers")
    if not headers:
        return kwargs
    kept = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
    return dict(kwargs, headers=kept)


def _reason(error: Exception) -> str:
    text = str(error)
    for known in ("Connection refused", "Name or service not known", "No route to host",
                  "Temporary failure in name resolution", "Connection reset"):
        if known.lower() in text.lower():
            return known.lower()
    return type(error).__name__
