"""The REPL's session without a terminal: entries, persistence, commands, completion."""

from __future__ import annotations

import runtime
from sluice.repl.lexer import DelugeLexer
from sluice.repl.session import Session, completions


def test_variables_and_functions_persist_between_entries():
    s = Session()
    assert s.execute("x = 5").value is None
    assert s.execute("x * 2").value == "10"
    s.execute("int twice(int n) { return n * 2; }")
    assert s.execute("twice(x) + 1").value == "11"
    assert s.execute('"a" + x').value == '"a5"'
    s.execute("m = Map();")
    s.execute('m.put("k", 1);')
    assert s.execute("m").value == '{"k":1}'


def test_a_file_of_functions_only_defines_them():
    s = Session()
    outcome = s.execute("void hello(string n) { info \"hi \" + n; }")
    assert outcome.info == [] and outcome.error is None
    assert s.execute('hello("Ann");').info == ["hi Ann"]


def test_errors_are_shown_and_the_session_goes_on():
    s = Session()
    s.execute("a = 1;")
    bad = s.execute("b = a / 0;")
    assert bad.error == "Error at line 1: Division by zero"
    syntax = s.execute("c = (1 + ;")
    assert syntax.error.startswith("<repl>:1:10: expected a value") and "^" in syntax.error
    assert s.execute("a + 1").value == "2"


def test_needs_more_only_while_something_is_open():
    s = Session()
    assert s.needs_more("if (x > 1)\n{")
    assert s.needs_more('info "open')
    assert s.needs_more("y = (1 +")
    assert not s.needs_more("x = 5")  # the final ; may be left out
    assert not s.needs_more("1 + 2")
    assert not s.needs_more(":vars")
    assert not s.needs_more("x = = 1")  # wrong, not unfinished: run it to see the error


def test_commands():
    s = Session(limits=runtime.Limits())
    s.execute("x = 1;")
    assert "x : NUMBER = 1" in s.execute(":vars").message
    assert "statements=7" in s.execute(":limits statements=7").message
    assert "more than 7 statements" in s.execute(
        "for each i in {1,2,3,4,5,6,7,8} { y = i; }").error
    assert ":load" in s.execute(":help").message
    s.execute(":reset")
    assert s.execute(":vars").message == "no variables or functions yet"
    assert s.execute(":nonsense").error.startswith("unknown command")
    assert s.execute(":quit").quit


def test_load_a_file(tmp_path):
    script = tmp_path / "lib.dg"
    script.write_text('int square(int n) { return n * n; }\nbase = square(3);\n')
    s = Session()
    assert "loaded" in s.execute(f":load {script}").message
    assert s.execute("square(base)").value == "81"


def test_completion_by_the_value_s_type_and_of_link_names():
    s = Session(connections=lambda: ["mailchimp", "crm"])
    s.execute('t = "text"; l = {1, 2};')
    text_methods = [c for c, _ in completions(s, "t.toUp")]
    assert text_methods == ["toUpperCase("]
    list_methods = [c for c, _ in completions(s, "l.")]
    assert "add(" in list_methods and "toUpperCase(" not in list_methods
    assert [c for c, _ in completions(s, 'connection: "mai')] == ['mailchimp"']
    assert [c for c, _ in completions(s, "connection: ")] == ['"mailchimp"', '"crm"']
    words = [c for c, _ in completions(s, "re")]
    assert "return" in words and "replaceAll(" not in words  # methods come after a dot
    assert [c for c, _ in completions(s, ":lo")] == [":load"]


def test_the_lexer_colours_deluge():
    from pygments.token import Comment, Keyword, Name, String

    tokens = list(DelugeLexer().get_tokens('// c\nif (x) { info "a\\n"; }\nr = invokeurl\n'
                                          '[\n    url: u\n];'))
    kinds = {t for t, v in tokens if v.strip()}
    assert Comment.Single in kinds and Keyword in kinds and String.Escape in kinds
    assert (Name.Builtin, "invokeurl") in tokens
    assert (Name.Attribute, "url") in tokens


def test_an_entry_complete_but_for_its_final_semicolon_runs():
    s = Session()
    assert s.execute('names = {"ann", "bo"}').error is None
    assert s.execute("names.size()").value == "2"
    assert s.execute("x = {}").error is None and s.execute("x").value == "{}"
    assert s.execute('y = {"a": 1}').error is None and s.execute("y").value == '{"a":1}'
    assert s.execute("info {1,2}").info == ["1,2"]
    assert s.execute("return {1}").value == "1"
    assert s.execute("return null;").value == "null"
    assert s.execute("z = 1;").value is None and s.execute("return;").value is None
    assert not s.needs_more('names = {"ann", "bo"}')


def test_a_failed_entry_breaks_no_later_one():
    s = Session()
    assert s.execute("y = foo(;").error
    assert s.execute("z = nothere(1)").error
    assert s.execute("a = 3").error is None
    assert s.execute("a + 1").value == "4"


def test_reset_also_sets_the_limits_back():
    s = Session(limits=runtime.Limits(time=9))
    s.execute(":limits statements=7")
    message = s.execute(":reset").message
    assert "limits back to statements=200000" in message and "time=9" in message
    assert s.limits.statements == 200_000 and s.limits.time == 9
    assert s.execute("for each i in {1,2,3,4,5,6,7,8} { y = i; }").error is None
    assert s.execute(":reset").message == "all variables and functions forgotten"
