"""The sandbox: scripts reach nothing of Python, whatever names and values they use."""

from __future__ import annotations

import ast as py
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsl
import runtime
from runtime.compile import _Generator
from runtime.values import to_plain

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ["__import__", "__builtins__", "__class__", "__subclasses__", "__globals__",
           "__dict__", "__code__", "__mro__", "__init__", "__getattribute__", "__reduce__",
           "eval", "exec", "open", "compile", "globals", "locals", "getattr", "setattr",
           "type", "object", "vars", "dir", "breakpoint", "input", "R", "A", "_add", "_type",
           "_mt_get_1", "os", "sys", "subprocess", "self", "cls", "super", "lambda", "None",
           "True", "__S", "__L", "__D", "v_x", "f_main"]
names = st.sampled_from(HOSTILE)
ident = st.one_of(names, st.from_regex(r"_{0,2}[a-z]{1,6}_{0,2}", fullmatch=True))
TEMPLATES = [
    "{n} = 1; info {n};",
    "x = {n}; info x;",
    "x = {n}(1);",
    "x = \"s\".{n}();",
    "x = \"s\".{n};",
    "x = Map(); x.{n} = 1; info x.{n};",
    "x = {{\"{n}\": 1}}; info x.get(\"{n}\") + x.{n};",
    "x = zoho.{n};",
    "x = zoho.{n}.{n}(1);",
    "x = thisapp.{n}();",
    "x = input.{n};",
    "r = {n} [ url: \"u\" ];",
    "string {n}() {{ return \"f\"; }}\ninfo {n}();",
    "try {{ x = 1 / 0; }} catch ({n}) {{ info {n}.message; }}",
    "for each {n} in {{1, 2}} {{ info {n}; }}",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TEMPLATES), ident)
def test_hostile_names_get_deluge_outcomes(template, name):
    source = template.format(n=name)
    try:
        dsl.parse(source)
    except dsl.DelugeSyntaxError:
        return  # a word the grammar refuses (a keyword) never reaches the runtime
    result = runtime.run(source)
    if result.ok:
        to_plain(result.value)  # a Deluge value, not a Python object
        for line in result.info:
            assert "<" not in line or "object at" not in line, line
    else:
        message = result.error.render()
        assert "Traceback" not in message and "Internal error" not in message, message


ALLOWED_ATTRIBUTES = {
    "R": {"info", "task", "task_block", "system", "input", "input_map", "now", "today",
          "checkpoint", "too_deep", "too_deep_call", "next_check", "max_depth", "statements",
          "collection_limit",
          "choices", "clear_choices"},
    "A": {"get"},
}


def _check_generated(source: str, filename: str) -> None:
    """Every attribute access in generated code is on the run context, the arguments, or a
    dispatch table: never on a value a script made."""
    generator = _Generator(dsl.parse(source, filename), filename)
    tree = generator.module()
    if generator.errors:
        raise runtime.StaticErrors(generator.errors, filename, source)
    for node in py.walk(tree):
        if isinstance(node, py.Attribute):
            assert isinstance(node.value, py.Name), py.dump(node)
            base = node.value.id
            if base.startswith("_mt_"):
                assert node.attr == "get"
            else:
                assert node.attr in ALLOWED_ATTRIBUTES.get(base, ()), (base, node.attr)
        if isinstance(node, py.Name):
            assert node.id.startswith(("v_", "f_", "_", "__")) or node.id in ("R", "A"), node.id
    assert generator.helpers["__builtins__"] == {}
    assert all(name.startswith("_") for name in generator.helpers), sorted(generator.helpers)


def test_generated_code_touches_no_value_attributes():
    sources = [p for p in (ROOT / "scripts").glob("*.dg")]
    sources += [p for p in (ROOT / "tests/golden/run").glob("*.dg")]
    checked = 0
    for path in sources:
        for chunk in path.read_text(encoding="utf-8").split("\n---\n"):
            try:
                dsl.parse(chunk)
            except dsl.DelugeSyntaxError:
                continue
            try:
                _check_generated(chunk, path.name)
            except runtime.StaticErrors:
                continue
            checked += 1
    assert checked > 200
