"""Deluge source text -> typed AST (dsl.ast), with syntax errors in a script writer's words.

    script = dsl.parse(text, filename="hello.dg")
    expr = dsl.parse_expr('"a" + 1')
    dsl.is_incomplete('if (x) {')        # True: more input could complete it (the REPL asks)

Parse failures raise `DelugeSyntaxError` (file, line, column, message, `render()` with a caret).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import ast
    from .ast import Script, Span
    from .errors import MAX_FUNCTIONS, MAX_NESTING, DelugeSyntaxError

_LAZY = {"ast": ("ast", None), "Script": ("ast", "Script"), "Span": ("ast", "Span"),
         "DelugeSyntaxError": ("errors", "DelugeSyntaxError"),
         "MAX_FUNCTIONS": ("errors", "MAX_FUNCTIONS"), "MAX_NESTING": ("errors", "MAX_NESTING")}


def __getattr__(name: str):
    """`dsl.ast`, `dsl.Script`, `dsl.DelugeSyntaxError` and the like, imported when first used:
    a cached `sluice run` imports only `dsl.cachefiles`, and the AST and the error module
    (with `re`) would cost it more than its own work."""
    if name not in _LAZY:
        raise AttributeError(f"module 'dsl' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(f"{__name__}.{module_name}")
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value

__all__ = ["DelugeSyntaxError", "MAX_FUNCTIONS", "MAX_NESTING", "Script", "Span", "ast",
           "format_script", "format_source", "is_incomplete", "parse", "parse_expr",
           "style_warnings"]


def _run(text: str, filename: str, start: str):
    import gc

    from .build import BuildError, Rules
    from .errors import DelugeSyntaxError
    from .parser import get_parser

    # The parse makes a tree of new objects, none of them garbage: Python's cycle collector
    # would walk them all again and again (half the time of a long script), so it waits.
    pause = gc.isenabled()
    if pause:
        gc.disable()
    try:
        return get_parser().run(text, start, Rules, filename)
    except BuildError as e:
        raise DelugeSyntaxError(e.message, e.span, filename, text) from None
    finally:
        if pause:
            gc.enable()


def parse(text: str, filename: str = "<script>") -> Script:
    """Parse a whole script (statements, function definitions, Creator action wrappers)."""
    from .ast import Script
    from .build import comments_of

    script, comments = _run(text, filename, "script")
    return Script(script.items, comments=comments_of(comments), filename=filename,
                  span=script.span)


def parse_expr(text: str, filename: str = "<expr>") -> ast.Expr:
    """Parse one expression, such as `"a,b".toList(",").size() + 1`."""
    return _run(text, filename, "expr")[0]


def is_incomplete(text: str) -> bool:
    """True when `text` fails only because it stops too early (an open block, text or comment,
    a statement without its ';'): what a REPL needs to decide between running and a new line."""
    from .errors import DelugeSyntaxError

    if not text.strip():
        return False
    try:
        parse(text)
    except DelugeSyntaxError as e:
        return e.at_end
    return False


def format_script(script: Script) -> str:
    """Canonical source text for a parsed script (see dsl.fmt)."""
    from .fmt import format_script as fmt

    return fmt(script)


def format_source(text: str, filename: str = "<script>") -> str:
    """`text` in the canonical layout (raises DelugeSyntaxError if it does not parse)."""
    return format_script(parse(text, filename))


def style_warnings(script: Script) -> list:
    """Warnings about valid but questionable writing, such as `=` comparing (see dsl.lint)."""
    from .lint import style_warnings as warnings

    return warnings(script)
