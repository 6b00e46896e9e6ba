"""The one runner for tests/golden/*/*.dg (see tests/golden_files.py for the format)."""

from __future__ import annotations

import json
import re

import pytest

import dsl
import runtime
from dsl.fmt import format_script
from dsl.sexpr import sexpr
from golden_files import golden_chunks
from runtime.values import to_plain

SYNTAX = golden_chunks("syntax")
RUN = golden_chunks("run")
TASKS = golden_chunks("tasks")


def _normalize(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("( ", "(").replace(" )", ")")).strip()


@pytest.mark.parametrize("chunk", SYNTAX, ids=[c.id for c in SYNTAX])
def test_syntax(chunk):
    assert not (chunk.expect or chunk.returns or chunk.form), "syntax chunks only parse"
    if chunk.errors:
        assert len(chunk.errors) == 1, "a script stops at its first syntax error"
        line, column, pattern = chunk.errors[0]
        with pytest.raises(dsl.DelugeSyntaxError) as info:
            dsl.parse(chunk.source, chunk.path.name)
        err = info.value
        rendered = err.render()
        assert "Traceback" not in rendered and "lark" not in rendered.lower()
        assert re.search(pattern, err.message), rendered
        assert (err.line, err.column if column is not None else None) == (line, column), rendered
        return

    script = dsl.parse(chunk.source, chunk.path.name)
    if chunk.ast is not None:
        assert _normalize(sexpr(script)) == _normalize(chunk.ast)
    # every valid chunk survives the formatter, and the formatter is stable
    formatted = format_script(script)
    again = dsl.parse(formatted, "formatted.dg")
    assert again == script, formatted
    assert format_script(again) == formatted
    assert len(again.comments) == len(script.comments)


def test_enough_syntax_cases():
    valid = [c for c in SYNTAX if not c.errors]
    broken = [c for c in SYNTAX if c.errors]
    assert len(SYNTAX) >= 80 and len(valid) >= 30 and len(broken) >= 30


def _run_options(chunk):
    """`// option: limit statements=10`, `// option: arg name=<json>`, `// option: timezone Z`."""
    limits, args, timezone = [], {}, "UTC"
    for option in chunk.options:
        word, _, rest = option.partition(" ")
        if word == "limit":
            limits.append(rest)
        elif word == "arg":
            name, _, value = rest.partition("=")
            args[name] = json.loads(value)
        elif word == "timezone":
            timezone = rest.strip()
        else:
            raise AssertionError(f"unknown option {option!r}")
    return runtime.Limits.parse(limits), args, runtime.Services(timezone=timezone)


def _plain_json(value) -> str:
    return json.dumps(to_plain(value), sort_keys=False, ensure_ascii=False)


@pytest.mark.parametrize("chunk", RUN, ids=[c.id for c in RUN])
def test_run(chunk):
    limits, args, services = _run_options(chunk)
    result = runtime.run(chunk.source, args, limits=limits, services=services,
                         filename=chunk.path.name)
    _check_outcome(chunk, result)


def _check_outcome(chunk, result):
    rendered = result.error.render() if result.error is not None else ""
    everything = rendered + "\n".join(result.info)
    assert "Traceback" not in everything and "File \"" not in everything
    assert "Internal error" not in rendered, rendered
    if chunk.errors:
        assert len(chunk.errors) == 1
        line, column, pattern = chunk.errors[0]
        assert result.error is not None, f"expected an error, got {result!r}"
        assert re.search(pattern, result.error.message), rendered
        assert result.error.line == line, rendered
        if column is not None:
            assert result.error.column == column, rendered
    else:
        assert result.ok, rendered
    info_lines = "\n".join(result.info).split("\n") if result.info else []
    assert info_lines == chunk.expect
    if chunk.returns is not None:
        expected = runtime.run(f"return {chunk.returns};")
        assert expected.ok, expected.error.render()
        assert _plain_json(result.value) == _plain_json(expected.value)
    if chunk.form is not None:
        expected = runtime.run(f"return {chunk.form};")
        assert expected.ok, expected.error.render()
        assert _plain_json(result.form) == _plain_json(expected.value)


class TaskWorld:
    """The local provider and a store with one connection of each kind, for tasks chunks:
    crm (OAuth 2.0), tw (OAuth 1.0a), intra (Basic), keyed (API key in a header)."""

    def __init__(self, home):
        from connect_helpers import CLIENT_ID, CLIENT_SECRET, authorize, oauth2_service
        from connections import Connections, HttpClient, Service, Store
        from sluice.demo.provider import LocalProvider

        self.provider = p = LocalProvider()
        p.add_client(CLIENT_ID, CLIENT_SECRET)
        p.add_consumer("golden-consumer", "golden-consumer-secret")
        p.basic_users["ops"] = "golden-basic-password"
        p.api_keys.add("golden-api-key-123")
        self.conns = c = Connections(Store.open(home), http=HttpClient(read_timeout=10))
        c.add_service(oauth2_service(p), client_secret=CLIENT_SECRET)
        c.create("crm", "local")
        authorize(c, "crm")
        c.add_service(Service(name="local1", auth="oauth1", client_id="golden-consumer",
                              request_token_url=p.url + "/oauth1/request_token",
                              authorize_url=p.url + "/oauth1/authorize",
                              access_token_url=p.url + "/oauth1/access_token"),
                      client_secret="golden-consumer-secret")
        c.create("tw", "local1")
        authorize(c, "tw")
        c.add_service(Service(name="intranet", auth="basic", api_base_url=p.url + "/api"))
        c.create("intra", "intranet", username="ops", password="golden-basic-password")
        c.add_service(Service(name="keyed", auth="apikey", key_name="X-API-Key",
                              api_base_url=p.url + "/api"))
        c.create("keyed", "keyed", api_key="golden-api-key-123")
        c.create("idle", "local")  # never connected
        self.outbox = home / "outbox"

    def services(self):
        from sluice.adapters.mail import Outbox
        from sluice.adapters.web import ConnectionsWeb

        return runtime.Services.standard(timezone="UTC", web=ConnectionsWeb(self.conns),
                                         mail=Outbox(self.outbox))

    def close(self):
        self.provider.stop()
        self.conns.close()


@pytest.fixture(scope="module")
def task_world(tmp_path_factory):
    world = TaskWorld(tmp_path_factory.mktemp("tasks") / "home")
    yield world
    world.close()


@pytest.mark.parametrize("chunk", TASKS, ids=[c.id for c in TASKS])
def test_tasks(chunk, task_world):
    limits, args, _ = _run_options(chunk)
    args = dict(args, api=task_world.provider.url + "/api")
    result = runtime.run(chunk.source, args, limits=limits, services=task_world.services(),
                         filename=chunk.path.name)
    _check_outcome(chunk, result)
    shown = "\n".join(result.info) + _plain_json(result.value) + (
        result.error.render() if result.error else "") + "\n".join(result.notes)
    for secret in task_world.provider.all_secrets():
        assert secret not in shown, secret


def test_enough_run_cases():
    assert len(RUN) >= 250


def test_every_builtin_is_used_in_a_golden_case():
    """Each built-in (any one of its spellings) appears, called, in tests/golden/run."""
    from runtime.builtins import all_builtins

    text = "\n".join(c.source for c in RUN).lower()
    by_function: dict = {}
    for entry in all_builtins():
        by_function.setdefault(entry.fn, set()).add(entry.name.lower().split(".")[-1])
    missing = sorted(min(names) for names in by_function.values()
                     if not any(f"{name}(" in text for name in names))
    assert missing == []
