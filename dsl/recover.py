"""Looking past the first syntax error, for tools that list every error of a file.

The parser stops at its first error, which is right for `sluice run` and the REPL. `sluice
check` wants the others too. After each error we repair the text in the smallest way that
keeps every line where it was, and parse again:

- "missing ';'": the ';' is put where it is missing;
- a stray '}': that brace goes;
- any other error: its line is blanked, or, when the line opens a block (`if (x > ) {`),
  replaced by an opening that parses (`if(true){`), so the braces still pair up.

An error reported after a repair is kept only when it lies on a later line than the one
before, and we stop at the first doubt (a text or comment that never ends, an error at the end
of the script, a line whose parentheses or brackets do not pair up, an error inside a call or
list that spans lines, or a block opened in a way we cannot tell from a map literal): a missed
second error costs less than an invented one.
"""

from __future__ import annotations

from .errors import DelugeSyntaxError

MAX_ERRORS = 20
BLOCK_OPENING = "if(true){"


def syntax_errors(text: str, filename: str = "<script>") -> tuple[list[DelugeSyntaxError], str]:
    """The syntax errors of `text`, first one first (the one `parse` raises), and the repaired
    text when the repairs were only missing ';' (else ""): its other errors are then worth
    finding by compiling it. An empty list when `text` parses."""
    from . import parse

    errors: list[DelugeSyntaxError] = []
    work, only_semicolons = text, True
    while len(errors) < MAX_ERRORS:
        try:
            parse(work, filename)
            return errors, (work if only_semicolons and errors else "")
        except DelugeSyntaxError as e:
            if errors and e.line <= errors[-1].line:
                break
            errors.append(DelugeSyntaxError(e.message, e.span, filename, text, e.at_end))
            if e.at_end:
                break
            repaired = _repair(work, e)
            if repaired is None:
                break
            work, semicolon = repaired
            only_semicolons = only_semicolons and semicolon
    return errors, ""


def _repair(text: str, error: DelugeSyntaxError) -> tuple[str, bool] | None:
    """`text` with the error's line repaired (same lines), and whether a ';' was all it took."""
    lines = text.split("\n")
    index, column = error.line - 1, error.column - 1
    if not 0 <= index < len(lines):
        return None
    line = lines[index]
    if error.message.startswith("missing ';'") and 0 <= column <= len(line):
        lines[index] = line[:column] + ";" + line[column:]
        return "\n".join(lines), True
    if 0 <= column < len(line) and line[column] == "}" and "'}'" in error.message:
        lines[index] = line[:column] + " " + line[column + 1:]
        return "\n".join(lines), False
    counts = _bracket_counts(line)
    if counts is None or counts["("] or counts["["] or _inside_brackets(lines[:index]):
        return None
    if counts["{"] == 0:
        lines[index] = ""
    elif counts["{"] == 1 and _opens_block(line):
        lines[index] = BLOCK_OPENING
    else:
        return None
    return "\n".join(lines), False


def _bracket_counts(line: str) -> dict[str, int] | None:
    """Openings minus closings of each bracket on `line`, outside texts and comments; None
    when a text or a block comment does not end on the line."""
    counts = {"(": 0, "[": 0, "{": 0}
    closing = {")": "(", "]": "[", "}": "{"}
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in "\"'":
            end = i + 1
            while end < n and line[end] != c:
                end += 2 if line[end] == "\\" else 1
            if end >= n:
                return None
            i = end
        elif line.startswith("//", i):
            break
        elif line.startswith("/*", i):
            end = line.find("*/", i + 2)
            if end < 0:
                return None
            i = end + 1
        elif c in counts:
            counts[c] += 1
        elif c in closing:
            counts[closing[c]] -= 1
        i += 1
    return counts


def _inside_brackets(lines: list[str]) -> bool:
    """Do `lines` leave a '(' or '[' open (the next line continues a call or a list), or a
    text or comment we cannot follow?"""
    depth = 0
    for line in lines:
        counts = _bracket_counts(line)
        if counts is None:
            return True
        depth += counts["("] + counts["["]
    return depth != 0


def _opens_block(line: str) -> bool:
    """Does `line` end with the '{' of a block (after `)`, `else`, `try`, ...), not of a map?"""
    before = line.split("//")[0].rstrip()
    if not before.endswith("{"):
        return False
    head = before[:-1].rstrip()
    return head.endswith(")") or head.endswith("else") or head.endswith("try")
