"""The canonical layout of `sluice fmt`."""

from __future__ import annotations

from pathlib import Path

import dsl
from dsl import format_source

ROOT = Path(__file__).resolve().parents[2]


def test_layout_of_a_typical_function():
    source = (
        'string standalone.notify(String id)\n{\n'
        'm=Map();m.put("id",id);   // the payload\n'
        'if(m.size()>0){info "has "+m;}else{return "";}\n'
        'resp = invokeurl [ url :"https://x.example/" + id type :POST parameters:m '
        'connection:"crm" ];\n'
        'return resp.get("status");\n}\n'
    )
    assert format_source(source) == (
        "string standalone.notify(string id)\n"
        "{\n"
        "    m = Map();\n"
        '    m.put("id", id); // the payload\n'
        "    if (m.size() > 0)\n"
        "    {\n"
        '        info "has " + m;\n'
        "    }\n"
        "    else\n"
        "    {\n"
        '        return "";\n'
        "    }\n"
        "    resp = invokeurl\n"
        "    [\n"
        '        url: "https://x.example/" + id\n'
        "        type: POST\n"
        "        parameters: m\n"
        '        connection: "crm"\n'
        "    ];\n"
        '    return resp.get("status");\n'
        "}\n"
    )


def test_parentheses_only_where_needed():
    assert format_source("x = ((a + b)) * (c);") == "x = (a + b) * c;\n"
    assert format_source("x = a - (b - c) - (d + e);") == "x = a - (b - c) - (d + e);\n"
    assert format_source("x = !(a && b) || -(1).abs();") == "x = !(a && b) || -1.abs();\n"
    assert format_source("x = (-1).abs();") == "x = (-1).abs();\n"


def test_comments_are_kept_in_place():
    source = (
        "// header\n\n"
        "x = 1; // one\n"
        "/* before y */\n"
        "y = {1, // inside\n 2};\n"
        "if (x) {\n  // only a comment\n}\n"
        "// the end\n"
    )
    assert format_source(source) == (
        "// header\n\n"
        "x = 1; // one\n"
        "/* before y */\n"
        "// inside\n"
        "y = {1, 2};\n"
        "if (x)\n{\n    // only a comment\n}\n"
        "// the end\n"
    )


def test_blank_lines_are_kept_but_not_doubled():
    assert format_source("a = 1;\n\n\n\nb = 2;\nc = 3;\n") == "a = 1;\n\nb = 2;\nc = 3;\n"


def test_multi_line_text_is_not_reindented():
    source = 'if (x) {\nbody = "<p>\n  Hi\n</p>";\n}\n'
    out = format_source(source)
    assert '    body = "<p>\n  Hi\n</p>";' in out
    assert dsl.parse(out) == dsl.parse(source)


def test_formatting_is_idempotent_on_the_example_scripts():
    for path in sorted((ROOT / "scripts").glob("*.dg")):
        once = format_source(path.read_text(encoding="utf-8"))
        assert format_source(once) == once, path


def test_empty_script():
    assert format_source("") == "" and format_source("// only\n") == "// only\n"


def test_windows_line_ends_and_tabs():
    source = 'void f()\r\n{\r\n\tx = 1; // one\r\n\t/* two\r\n\t   lines */\r\n\tinfo x;\r\n}\r\n'
    assert format_source(source) == (
        "void f()\n{\n    x = 1; // one\n    /* two\n\t   lines */\n    info x;\n}\n")


def test_parentheses_the_author_wrote_around_an_operation_are_kept():
    assert format_source("x = (a * b) + c;") == "x = (a * b) + c;\n"
    assert format_source("if ((a > 1) && (b < 2)) {}") == "if ((a > 1) && (b < 2))\n{\n}\n"
    assert format_source("x = (a.b()).c() + (-y);") == "x = (a.b()).c() + (-y);\n"
    # around a single value they go; doubled ones are written once
    assert format_source("x = ((a + b)) * (c) + (\"t\");") == 'x = (a + b) * c + "t";\n'


def test_a_single_equals_comparison_is_written_with_two():
    assert format_source('if (s = "Open" || n.size() = 0) {}') == \
        'if (s == "Open" || n.size() == 0)\n{\n}\n'
    assert format_source("x = if(a = 1, 2, 3);") == "x = if(a == 1, 2, 3);\n"
