"""The world a test case's script runs in: HTTP answered from the case and its cassette (never
the network, unless recording), mail kept in a list, the CRM in a throwaway local store.

Answers are chosen like this: the first declared answer that matches the request and has not
been used; when every matching one has been used, the last of them answers again. A request no
declared answer matches takes the next recorded interaction of the case with the same method and
URL. A request with neither fails the case, naming the request.
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from runtime.hosts import WebAnswer, WebFailure

from .spec import Answer, Match

# Keys whose values a cassette never keeps, in any JSON body or form (any letter case).
SECRET_KEYS = re.compile(r"(?i)(token|secret|password|passwd|api[_-]?key|apikey|authorization|"
                         r"client_id|code_verifier|\bcode\b|signature|session)")
DROPPED_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie",
                   "x-api-key", "www-authenticate"}
MASK = "***"


def request_parts(request) -> dict:
    """A WebRequest as plain data: method, URL (without its query), query, body, connection."""
    scheme, netloc, path, query, _ = urlsplit(request.url)
    params = dict(parse_qsl(query, keep_blank_values=True))
    for key, value in (request.params or {}).items():
        params[str(key)] = value
    return {"method": request.method.upper(),
            "url": urlunsplit((scheme, netloc, path, "", "")),
            "query": params, "body": _body(request.data), "connection": request.connection}


def _body(data):
    if data is None:
        return None
    if isinstance(data, dict):
        return data
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            return f"<{len(data)} bytes>"
    try:
        return json.loads(data)
    except (TypeError, ValueError):
        return data


def matches(match: Match, call: dict) -> bool:
    if match.method and match.method != call["method"]:
        return False
    if match.url is not None and not match.url.match(call["url"]):
        return False
    if match.connection is not None and (match.connection or "").lower() != \
            (call["connection"] or "").lower():
        return False
    if not includes(call["query"], match.query):
        return False
    return not match.body or includes(call["body"], match.body)


def includes(actual, wanted) -> bool:
    """Does `actual` hold `wanted`: every key of a wanted map (recursively), every item of a
    wanted list in place, scalars equal (a number and its text count as equal: forms send text)."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            k in actual and includes(actual[k], v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(actual, list) and len(actual) == len(wanted) and all(
            includes(a, w) for a, w in zip(actual, wanted))
    return same(actual, wanted)


def same(actual, wanted) -> bool:
    if actual == wanted and type(actual) is not bool and type(wanted) is not bool:
        return True
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return actual is wanted or str(actual).lower() == str(wanted).lower()
    if isinstance(actual, (int, float, str)) and isinstance(wanted, (int, float, str)):
        if str(actual) == str(wanted):
            return True
        number = _number(wanted)
        return number is not None and _number(actual) == number
    return False


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def describe(call: dict) -> str:
    text = f"{call['method']} {call['url']}"
    if call["query"]:
        text += "?" + "&".join(f"{k}={v}" for k, v in call["query"].items())
    if call.get("connection"):
        text += f" (connection {call['connection']})"
    if call.get("body") not in (None, "", {}):
        text += f" body {json.dumps(call['body'], sort_keys=True, default=str)[:300]}"
    return text


class ScriptedWeb:
    """The case's HTTP: declared answers, then the cassette, then (recording) the real web."""

    def __init__(self, answers: list[Answer], recorded: list[dict], real=None):
        self.answers = answers
        self.used: set[int] = set()
        self.recorded = recorded
        self.replayed: set[int] = set()
        self.real = real
        self.calls: list[dict] = []
        self.unanswered: list[str] = []
        self.interactions: list[dict] = []  # what recording saw, scrubbed, for the cassette

    def send(self, request, *, timeout, max_bytes: int) -> WebAnswer:
        call = request_parts(request)
        self.calls.append(call)
        answer = self._declared(call)
        if answer is not None:
            if answer.timeout:
                raise WebFailure("the test's answer is a socket timeout", kind="timeout")
            return self._sized(WebAnswer(answer.status, dict(answer.headers), answer.body,
                                         request.url), max_bytes)
        found = self._replay(call)
        if found is not None:
            return self._sized(found, max_bytes)
        if self.real is not None:
            return self._record(request, call, timeout, max_bytes)
        self.unanswered.append(describe(call))
        raise WebFailure(f"the test has no answer for {describe(call)}", kind="failed")

    def _declared(self, call: dict) -> Answer | None:
        candidates = [n for n, a in enumerate(self.answers) if matches(a.match, call)]
        if not candidates:
            return None
        fresh = [n for n in candidates if n not in self.used]
        chosen = fresh[0] if fresh else candidates[-1]
        self.used.add(chosen)
        return self.answers[chosen]

    def _replay(self, call: dict) -> WebAnswer | None:
        for n, interaction in enumerate(self.recorded):
            wanted = interaction["request"]
            if n in self.replayed or wanted["method"] != call["method"] or \
                    wanted["url"] != call["url"]:
                continue
            self.replayed.add(n)
            answer = interaction["response"]
            if answer.get("timeout"):
                raise WebFailure("the recorded answer is a socket timeout", kind="timeout")
            return WebAnswer(answer["status"], dict(answer.get("headers", {})),
                             answer.get("body", "").encode("utf-8"), call["url"])
        return None

    def _record(self, request, call: dict, timeout, max_bytes: int) -> WebAnswer:
        interaction = {"request": scrub({k: call[k] for k in ("method", "url", "query",
                                                              "body", "connection")})}
        try:
            answer = self.real.send(request, timeout=timeout, max_bytes=max_bytes)
        except WebFailure as e:
            if e.kind == "timeout":
                interaction["response"] = {"timeout": True}
                self.interactions.append(interaction)
            raise
        body = answer.content.decode("utf-8", errors="replace")
        interaction["response"] = {
            "status": answer.status,
            "headers": {k: v for k, v in answer.headers.items()
                        if k.lower() not in DROPPED_HEADERS and k.lower() in
                        ("content-type", "location", "retry-after", "etag", "link")},
            "body": scrub_text(body)}
        self.interactions.append(interaction)
        return answer

    @staticmethod
    def _sized(answer: WebAnswer, max_bytes: int) -> WebAnswer:
        if max_bytes and len(answer.content) > max_bytes:
            raise WebFailure(f"the answer is larger than {max_bytes} bytes (limit "
                             "response_size)", kind="too_large")
        return answer


def scrub(value):
    """A copy of `value` with the values of secret-looking keys masked."""
    if isinstance(value, dict):
        return {k: MASK if SECRET_KEYS.search(str(k)) and v not in (None, "") else scrub(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def scrub_text(text: str) -> str:
    """JSON text with secret-looking keys masked; a form body likewise; other text as it is,
    but for bearer tokens."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, (dict, list)):
        return json.dumps(scrub(parsed), ensure_ascii=False)
    text = re.sub(r"(?i)\b(bearer|basic|zoho-oauthtoken)\s+[A-Za-z0-9._~+/=-]+",
                  lambda m: f"{m.group(1)} {MASK}", text)
    return re.sub(r"(?i)\b([\w-]*(?:token|secret|password|api_key)[\w-]*)=([^&\s\"]+)",
                  lambda m: f"{m.group(1)}={MASK}", text)


class KeptMail:
    """sendmail's mails kept for the case to look at (none leaves the machine)."""

    def __init__(self):
        self.sent: list[dict] = []

    def send(self, message: dict) -> str:
        kept = {k: v for k, v in message.items() if k != "attachments"}
        kept["attachments"] = [name for name, _content, _kind in message.get("attachments", [])]
        self.sent.append(kept)
        return ""


class ThrowawayCrm:
    """The case's CRM: a local record store filled with the case's fixtures, made only when the
    script first uses a CRM task (most cases never pay for it), in memory-backed storage where
    the machine has it, and removed with `close()`."""

    def __init__(self, fixtures: dict | None):
        self.fixtures = fixtures or {}
        self._store = None
        self._folder = None
        self.problem: str | None = None  # what is wrong with the fixtures, once tried

    def _crm(self):
        if self._store is None:
            import tempfile
            from pathlib import Path

            from ..crm.local import LocalCrm

            shm = Path("/dev/shm")
            self._folder = tempfile.TemporaryDirectory(
                prefix="sluice-test-", dir=shm if shm.is_dir() and os.access(shm, os.W_OK)
                else None)
            self._store = LocalCrm(Path(self._folder.name) / "crm.db")
            try:
                self._store.load(self.fixtures)
            except ValueError as e:
                from runtime.errors import DelugeError

                self.problem = str(e)
                raise DelugeError(f"the test's CRM data cannot be loaded: {e}") from None
        return self._store

    def __getattr__(self, name):  # the backend's tasks, on the store made at first use
        return getattr(self._crm(), name)

    def export(self) -> dict:
        return self._crm().export()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._folder.cleanup()
