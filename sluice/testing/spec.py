"""Test files (`*.test.toml`) read into plain objects, with every mistake named by file and case.

A file holds cases for scripts next to it:

    script = "lead_followup.dg"            # the cases' default script (relative to this file)

    [[case]]
    name = "a hot lead gets a call task"
    arguments = { leadId = "4876876000000000001" }
    now = "2026-03-02 09:30:00"            # zoho.currentdate / zoho.currenttime, frozen
    crm = { Leads = [{ id = "4876876000000000001", Last_Name = "Doe", Rating = "Hot" }] }

    [[case.http]]                          # an answer that invokeurl / getUrl / postUrl get
    method = "POST"
    url = "https://api.example.com/calls/*"
    json = { id = "c1" }

    [case.expect]
    return = "c1"
    info_contains = ["Doe"]
    records = { Tasks = [{ Subject = "Call Doe" }] }

docs/testing.md describes every key.
"""

from __future__ import annotations

import datetime
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

SUFFIX = ".test.toml"
CASSETTE_SUFFIX = ".cassette.json"

FILE_KEYS = {"script", "function", "timezone", "now", "case"}
CASE_KEYS = {"name", "script", "function", "arguments", "now", "timezone", "org_variables",
             "crm", "crm_data", "settings", "limits", "http", "expect"}
HTTP_KEYS = {"method", "url", "url_regex", "query", "body", "connection", "status", "headers",
             "json", "text", "timeout"}
EXPECT_KEYS = {"return", "return_includes", "return_text", "returns_null", "info",
               "info_contains", "error", "http", "mails", "records"}
CALL_KEYS = {"method", "url", "url_regex", "query", "body", "connection"}
MAIL_KEYS = {"to", "cc", "bcc", "from", "subject", "message", "message_contains"}


class SpecError(Exception):
    """A test file that cannot be run as written (the message names the file and the case)."""


@dataclass
class Match:
    """Which requests an HTTP answer (or an expected call) is for. Absent parts match anything."""

    method: str | None = None
    url: re.Pattern | None = None
    url_text: str = ""
    query: dict = field(default_factory=dict)
    body: dict = field(default_factory=dict)
    connection: str | None = None

    def describe(self) -> str:
        parts = [self.method or "any method", self.url_text or "any URL"]
        if self.connection:
            parts.append(f"connection {self.connection}")
        if self.query:
            parts.append(f"query {json.dumps(self.query, sort_keys=True)}")
        if self.body:
            parts.append(f"body {json.dumps(self.body, sort_keys=True, default=str)}")
        return " ".join(parts)


@dataclass
class Answer:
    match: Match
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    timeout: bool = False


@dataclass
class Expect:
    has_return: bool = False
    value: object = None
    includes: object = None
    text: str | None = None
    returns_null: bool = False
    info: list | None = None
    info_contains: list = field(default_factory=list)
    error: dict | None = None  # {"line": int | None, "message": str}
    http: list[Match] | None = None
    mails: list[dict] | None = None
    records: dict = field(default_factory=dict)


@dataclass
class Case:
    file: Path
    name: str
    script: Path
    function: str | None = None
    arguments: dict = field(default_factory=dict)
    now: datetime.datetime | None = None
    timezone: str | None = None
    crm: dict | None = None  # fixtures as for --crm-data (modules, _variables, _forms)
    settings: dict = field(default_factory=dict)
    limits: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    expect: Expect = field(default_factory=Expect)

    @property
    def id(self) -> str:
        return f"{self.file.name}::{self.name}"

    @property
    def cassette(self) -> Path:
        return self.file.with_name(self.file.name[: -len(SUFFIX)] + CASSETTE_SUFFIX)


def load(path: str | Path) -> list[Case]:
    """The cases of one test file. Raises SpecError for anything that cannot be run."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SpecError(f"{path}: cannot read: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path}: not valid TOML: {e}") from None
    where = str(path)
    _known(data, FILE_KEYS, where)
    cases = data.get("case")
    if not isinstance(cases, list) or not cases:
        raise SpecError(f"{where}: no cases: add a [[case]] table")
    found, names = [], set()
    for number, entry in enumerate(cases, 1):
        if not isinstance(entry, dict):
            raise SpecError(f"{where}: case {number} is not a table")
        name = entry.get("name") or f"case {number}"
        if not isinstance(name, str):
            raise SpecError(f"{where}: case {number}: name must be text")
        if name in names:
            raise SpecError(f"{where}: two cases are named {name!r}")
        names.add(name)
        found.append(_case(path, name, entry, data))
    return found


def _case(path: Path, name: str, entry: dict, defaults: dict) -> Case:
    where = f"{path}: case {name!r}"
    _known(entry, CASE_KEYS, where)
    script = entry.get("script", defaults.get("script"))
    if not isinstance(script, str) or not script:
        raise SpecError(f"{where}: which script? give script = \"FILE.dg\" (in the case, or "
                        "at the top of the file for all its cases)")
    script_path = (path.parent / script)
    if not script_path.is_file():
        raise SpecError(f"{where}: the script {script} does not exist (next to {path.name})")
    case = Case(file=path, name=name, script=script_path,
                function=_optional_text(entry.get("function", defaults.get("function")),
                                        "function", where),
                arguments=_table(entry.get("arguments", {}), "arguments", where),
                now=_moment(entry.get("now", defaults.get("now")), where),
                timezone=_optional_text(entry.get("timezone", defaults.get("timezone")),
                                        "timezone", where),
                settings=_table(entry.get("settings", {}), "settings", where))
    case.crm = _crm(path, entry, where)
    limits = _table(entry.get("limits", {}), "limits", where)
    case.limits = [f"{k}={v}" for k, v in limits.items()]
    answers = entry.get("http", [])
    if not isinstance(answers, list):
        raise SpecError(f"{where}: http must be a list of [[case.http]] tables")
    case.answers = [_answer(a, f"{where}: http answer {n}") for n, a in enumerate(answers, 1)]
    case.expect = _expect(entry.get("expect", {}), where)
    return case


def _crm(path: Path, entry: dict, where: str) -> dict | None:
    inline, file_name = entry.get("crm"), entry.get("crm_data")
    variables = _table(entry.get("org_variables", {}), "org_variables", where)
    if inline is not None and file_name is not None:
        raise SpecError(f"{where}: give crm (inline records) or crm_data (a file), not both")
    data: dict | None = None
    if file_name is not None:
        if not isinstance(file_name, str):
            raise SpecError(f"{where}: crm_data must be a file name")
        try:
            data = json.loads((path.parent / file_name).read_text(encoding="utf-8"))
        except OSError as e:
            raise SpecError(f"{where}: crm_data {file_name}: {e.strerror or e}") from None
        except ValueError as e:
            raise SpecError(f"{where}: crm_data {file_name}: not JSON ({e})") from None
        if not isinstance(data, dict):
            raise SpecError(f"{where}: crm_data {file_name} must hold a JSON object of modules")
    elif inline is not None:
        data = dict(_table(inline, "crm", where))
    if variables:
        data = dict(data or {})
        data["_variables"] = {**data.get("_variables", {}), **variables}
    return _plain(data)


def _answer(entry, where: str) -> Answer:
    if not isinstance(entry, dict):
        raise SpecError(f"{where} is not a table")
    _known(entry, HTTP_KEYS, where)
    answer = Answer(match=_match(entry, where), timeout=bool(entry.get("timeout", False)))
    status = entry.get("status", 200)
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise SpecError(f"{where}: status must be an HTTP status such as 200")
    answer.status = status
    headers = _table(entry.get("headers", {}), "headers", where)
    answer.headers = {str(k).lower(): str(v) for k, v in headers.items()}
    if "json" in entry and "text" in entry:
        raise SpecError(f"{where}: give json or text as the answer's body, not both")
    if "json" in entry:
        answer.body = json.dumps(_plain(entry["json"])).encode()
        answer.headers.setdefault("content-type", "application/json")
    elif "text" in entry:
        if not isinstance(entry["text"], str):
            raise SpecError(f"{where}: text must be text (use json for other values)")
        answer.body = entry["text"].encode()
        answer.headers.setdefault("content-type", "text/plain; charset=utf-8")
    return answer


def _match(entry: dict, where: str) -> Match:
    method = entry.get("method")
    if method is not None:
        if not isinstance(method, str) or method.upper() not in \
                ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise SpecError(f"{where}: method must be GET, POST, PUT, PATCH or DELETE")
        method = method.upper()
    match = Match(method=method, connection=_optional_text(entry.get("connection"),
                                                           "connection", where))
    if "url" in entry and "url_regex" in entry:
        raise SpecError(f"{where}: give url (with * wildcards) or url_regex, not both")
    if "url" in entry:
        text = _optional_text(entry["url"], "url", where) or ""
        match.url_text = text
        match.url = re.compile(".*".join(re.escape(part) for part in text.split("*")) + r"\Z")
    elif "url_regex" in entry:
        text = _optional_text(entry["url_regex"], "url_regex", where) or ""
        try:
            match.url = re.compile(text)
        except re.error as e:
            raise SpecError(f"{where}: url_regex is not a regular expression ({e})") from None
        match.url_text = f"/{text}/"
    match.query = {str(k): v for k, v in _table(entry.get("query", {}), "query", where).items()}
    match.body = _plain(_table(entry.get("body", {}), "body", where))
    return match


def _expect(entry, where: str) -> Expect:
    if not isinstance(entry, dict):
        raise SpecError(f"{where}: expect must be a table ([case.expect])")
    where = f"{where}: expect"
    _known(entry, EXPECT_KEYS, where)
    expect = Expect()
    if "return" in entry:
        expect.has_return, expect.value = True, _plain(entry["return"])
    if "return_includes" in entry:
        expect.includes = _plain(entry["return_includes"])
    if "return_text" in entry:
        expect.text = _optional_text(entry["return_text"], "return_text", where)
    expect.returns_null = bool(entry.get("returns_null", False))
    if "info" in entry:
        expect.info = _texts(entry["info"], "info", where)
    if "info_contains" in entry:
        expect.info_contains = _texts(entry["info_contains"], "info_contains", where)
    if "error" in entry:
        error = entry["error"]
        if isinstance(error, str):
            error = {"message": error}
        if not isinstance(error, dict) or set(error) - {"line", "message"}:
            raise SpecError(f"{where}: error is a fragment of the message, or "
                            "{ line = N, message = \"...\" }")
        expect.error = {"line": error.get("line"), "message": str(error.get("message", ""))}
    if "http" in entry:
        calls = entry["http"]
        if not isinstance(calls, list):
            raise SpecError(f"{where}: http is the list of calls expected, in order")
        expect.http = []
        for n, call in enumerate(calls, 1):
            if not isinstance(call, dict):
                raise SpecError(f"{where}: http call {n} is not a table")
            _known(call, CALL_KEYS, f"{where}: http call {n}")
            expect.http.append(_match(call, f"{where}: http call {n}"))
    if "mails" in entry:
        mails = entry["mails"]
        if not isinstance(mails, list):
            raise SpecError(f"{where}: mails is the list of mails expected, in order")
        for n, mail in enumerate(mails, 1):
            if not isinstance(mail, dict):
                raise SpecError(f"{where}: mail {n} is not a table")
            _known(mail, MAIL_KEYS, f"{where}: mail {n}")
        expect.mails = [_plain(m) for m in mails]
    if "records" in entry:
        records = _table(entry["records"], "records", where)
        for module, rows in records.items():
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise SpecError(f"{where}: records.{module} must be a list of tables")
        expect.records = _plain(records)
    return expect


# ---------------------------------------------------------------------------- small readers


def _known(table: dict, keys: set, where: str) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise SpecError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(keys))})")


def _table(value, what: str, where: str) -> dict:
    if not isinstance(value, dict):
        raise SpecError(f"{where}: {what} must be a table, such as {what} = {{ key = value }}")
    return value


def _texts(value, what: str, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"{where}: {what} must be a list of texts")
    return list(value)


def _optional_text(value, what: str, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise SpecError(f"{where}: {what} must be text")
    return value


def _moment(value, where: str) -> datetime.datetime | None:
    """`now`: a TOML date or date-time, or text such as "2026-03-02 09:30:00"."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time())
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise SpecError(f"{where}: now must be a date and time such as \"2026-03-02 09:30:00\"")


def _plain(value):
    """TOML values as JSON-ready values (dates become ISO text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value
