"""A Pygments lexer for Deluge, for the REPL's colours and for anyone's documentation.

Installed as a Pygments plugin (entry point `pygments.lexers`), so `pygmentize -l deluge f.dg`
and Sphinx's ```deluge blocks work once Sluice is installed.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, include, words
from pygments.token import (Comment, Keyword, Name, Number, Operator, Punctuation, String,
                            Text, Whitespace)

KEYWORDS = ("if", "else", "for", "each", "index", "in", "return", "info", "break", "continue",
            "try", "catch", "throw", "insert", "into", "delete", "from", "alert", "cancel",
            "submit", "actions", "on", "sort", "by", "range", "to")
TYPES = ("void", "string", "text", "int", "integer", "bigint", "long", "number", "decimal",
         "float", "double", "bool", "boolean", "date", "datetime", "time", "timestamp", "map",
         "list", "collection", "file", "keyvalue", "record", "object")
TASKS = ("invokeurl", "sendmail", "geturl", "posturl", "openurl")
CONSTANTS = ("true", "false", "null")
ROOTS = ("zoho", "input", "thisapp", "standalone")


class DelugeLexer(RegexLexer):
    name = "Deluge"
    aliases = ["deluge", "dg"]
    filenames = ["*.dg", "*.deluge"]
    mimetypes = ["text/x-deluge"]
    url = "https://www.zoho.com/deluge/"

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            include("comments"),
            (r'"', String.Double, "text"),
            (r"'[^'\n]*'", String.Single),
            (r"\d+\.\d*|\.\d+", Number.Float),
            (r"\d+", Number.Integer),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (words(TASKS, prefix=r"(?i)", suffix=r"\b"), Name.Builtin),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (words(TYPES, prefix=r"(?i)", suffix=r"\b(?=\s+[A-Za-z_])"), Keyword.Type),
            (r"(?i)(list)(\s*)(:)(\s*)([A-Za-z]+)", bygroups(Name.Builtin, Text, Punctuation,
                                                            Text, Keyword.Type)),
            (words(ROOTS, suffix=r"\b(?=\s*\.)"), Name.Namespace),
            # a key inside a task block: `content-type :`, `url:`
            (r"([A-Za-z][A-Za-z0-9_\-]*(?: [A-Za-z][A-Za-z0-9_\-]*)?)(\s*)(:)(?!:)",
             bygroups(Name.Attribute, Whitespace, Punctuation)),
            (r"(\.)(\s*)([A-Za-z_]\w*)", bygroups(Operator, Text, Name.Function)),
            (r"[A-Za-z_]\w*(?=\s*\()", Name.Function),
            (r"[A-Za-z_]\w*", Name),
            (r"[+\-*/%]=?|==|!=|<=|>=|&&|\|\||[<>!=]", Operator),
            (r"[{}()\[\];,:]", Punctuation),
        ],
        "comments": [
            (r"//[^\n]*", Comment.Single),
            (r"/\*", Comment.Multiline, "block-comment"),
        ],
        "block-comment": [
            (r"[^*]+", Comment.Multiline),
            (r"\*/", Comment.Multiline, "#pop"),
            (r"\*", Comment.Multiline),
        ],
        "text": [
            (r'\\(["\\/bfnrt]|u[0-9a-fA-F]{4})', String.Escape),
            (r'[^"\\]+', String.Double),
            (r'"', String.Double, "#pop"),
            (r"\\", String.Double),
        ],
    }
