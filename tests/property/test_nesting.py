"""Deep nesting: loops and try blocks that Python cannot nest in one function are compiled as
functions of their own (runtime.compile split_off), long chains of operators and methods and
long `else if` chains are compiled flat (chain, long_if); each must behave exactly as the nested
form: same info lines, same value, same error, whatever break, continue, return and throw they
hold. The oracle is the same program compiled the ordinary way."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsl
import runtime
from runtime import compile as compile_module

LEAVES = ["c = c + 1;", "info c;", "x = c * 2;", "l.add(c);", "break;", "continue;",
          "return c;", "return;", "throw \"t\" + c;", "y = 1 / (c - 3);", "info x;",
          "x = c + 1 - c * 2 + l.size() - 3 + c % 4;", "info \"a\" + c + \"b\" + x + l;",
          "x = -(-c) + -x;", "b = !(c > 1) && c < 5 || c == 2 && !!true;",
          "info \" a \".trim().toUpperCase().length() + c;",
          "m = {\"k\": c}; info m.get(\"k\") + 1 + m.size();",
          "x = x + l.get(0) + c;", "info l.size().toString().length() + \"-\" + x / 2;"]


def statements(depth: int):
    leaf = st.sampled_from(LEAVES)
    if depth == 0:
        return st.lists(leaf, min_size=1, max_size=3)
    inner = statements(depth - 1)
    block = inner.map(lambda body: "\n".join(body))
    compound = st.one_of(
        block.map(lambda b: f"for each i{depth} in {{1, 2}}\n{{\n{b}\n}}"),
        block.map(lambda b: f"for each index j{depth} in {{1, 2, 3}}\n{{\n{b}\n}}"),
        st.tuples(block, block).map(lambda bs: f"try\n{{\n{bs[0]}\n}}\ncatch (e{depth})\n{{\n"
                                               f"info \"caught\";\n{bs[1]}\n}}"),
        st.tuples(block, block).map(lambda bs: f"if (c % 2 == 0)\n{{\n{bs[0]}\n}}\nelse\n{{\n"
                                               f"{bs[1]}\n}}"),
        st.tuples(block, block, block).map(
            lambda bs: f"if (c == 1)\n{{\n{bs[0]}\n}}\nelse if (c > 3 && x < 9)\n{{\n{bs[1]}\n}}\n"
                       f"else if (c == 2)\n{{\n{bs[2]}\n}}"),
    )
    return st.lists(st.one_of(leaf, compound), min_size=1, max_size=3)


def outcome(source: str):
    result = runtime.Runtime().run(source, limits=runtime.Limits(statements=20_000))
    error = None if result.ok else (result.error.line, result.error.message)
    return result.value, result.info, error


def wrapped(body: str, as_function: bool) -> str:
    prelude = "c = 0;\nx = 0;\nl = list();\n"
    if as_function:
        return f"int run()\n{{\n{prelude}{body}\nreturn c;\n}}\nreturn run();"
    return f"{prelude}for each k in {{1, 2}}\n{{\n{body}\n}}\nreturn c;"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statements(4), st.booleans())
def test_split_off_blocks_behave_as_nested_ones(body, as_function):
    source = wrapped("\n".join(body), as_function)
    try:
        dsl.parse(source)
        runtime.Runtime().compile(source)
    except (dsl.DelugeSyntaxError, runtime.StaticErrors):
        return  # `break` outside a loop, `return c` in a void place...
    nested = outcome(source)
    saved = compile_module.MAX_BLOCKS, compile_module.LONG_CHAIN
    # every loop and try below the first goes into a function; every chain and if is flat
    compile_module.MAX_BLOCKS, compile_module.LONG_CHAIN = 1, 0
    try:
        split = outcome(source)
    finally:
        compile_module.MAX_BLOCKS, compile_module.LONG_CHAIN = saved
    assert split == nested, source


# Openers of one nesting level each, as (text before, text after) around an expression or a
# statement.
EXPRESSION_LEVELS = [("abs(", ")"), ("(", ")"), ("{", "}.size()"), ('{"k": ', '}.size()'),
                     ("max(1, ", ")"), ("ifnull(", ", 0)"), ("-(", ")"), ("!(", " > 0)"),
                     ("(1 + 2 * ", ") - 1")]
STATEMENT_LEVELS = [("if (c >= 0)\n{\n", "\n}"), ("for each a in {1}\n{\n", "\n}"),
                    ("try\n{\n", "\n}\ncatch (e)\n{\n}")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(STATEMENT_LEVELS), max_size=60),
       st.lists(st.sampled_from(EXPRESSION_LEVELS), max_size=70),
       st.integers(min_value=0, max_value=2000))
def test_deep_scripts_run_or_are_refused_alike_and_cleanly(blocks, expressions, chain):
    value = "c" + " + c" * chain
    for before, after in reversed(expressions):
        value = f"{before}{value}{after}"
    body = f"x = {value};\nc = c + 1;"
    for before, after in reversed(blocks):
        body = f"{before}{body}{after}"
    source = f"c = 1;\n{body}\nreturn c;"
    try:
        dsl.parse(source)
        refused = None
    except dsl.DelugeSyntaxError as e:
        refused = e
    result = runtime.Runtime().run(source)
    if refused is not None:  # `run` says what `check` says
        assert "nested more than 100 levels deep" in refused.message, refused.render()
        assert (result.error.line, result.error.message) == (refused.line, refused.message)
        return
    if not result.ok:  # a Deluge error of the values (a boolean where a number is wanted...)
        message = result.error.render()
        for word in ("Recursion", "recursion", "Traceback", "SyntaxError", "nested blocks",
                     "internal error"):
            assert word not in message, message
        return
    assert result.value in (1, 2)  # 1: an error of the values, caught by a try
