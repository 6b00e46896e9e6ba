"""Syntax errors in a script writer's words.

`DelugeSyntaxError` carries a span and a message; `render()` draws `file:line:col: message`, the
source line and carets. `explain_unexpected` turns the facts of a parse failure (the token found,
the terminals the parser would have taken, the text) into one message pointing at the right place.
Nothing here knows about Lark: dsl/parser.py hands over plain values.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

from .ast import STATEMENT_KEYWORDS, TYPE_WORDS, Span

# ---------------------------------------------------------------------------- the error


SHOWN_LINE = 150  # characters of a source line an error shows at most


class DelugeSyntaxError(Exception):
    """A script that cannot be read. `line` and `column` are 1-based."""

    def __init__(self, message: str, span: Span, filename: str = "<script>", source: str = "",
                 at_end: bool = False):
        super().__init__(message)
        self.message = message
        self.span = span
        self.filename = filename
        self.source_line = _line_of(source, span.line)
        self.at_end = at_end  # the script stopped too early: more input could make it whole

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.column}: {self.message}"

    def __reduce__(self):  # keep the error picklable across processes
        return (_rebuild, (self.message, self.span, self.filename, self.source_line, self.at_end))

    def render(self) -> str:
        """The one-line form, then the source line with carets under the span (of a very long
        line, the part around the error)."""
        text = str(self)
        if not self.source_line.strip():
            return text
        source, column = self.source_line, self.column
        if self.span.end_line == self.span.line and self.span.end_column > column:
            end = self.span.end_column
        else:
            end = column + 1
        if len(source) > SHOWN_LINE:
            start = max(0, column - 1 - SHOWN_LINE // 3)
            source = ("..." if start else "") + source[start:start + SHOWN_LINE] + \
                ("..." if start + SHOWN_LINE < len(source) else "")
            shift = start - (3 if start else 0)
            column, end = column - shift, min(end - shift, len(source) + 1)
        line = source.expandtabs(4)
        prefix = source[: column - 1].expandtabs(4)
        width = len(source[column - 1: end - 1].expandtabs(4))
        return f"{text}\n    {line}\n    {' ' * len(prefix)}{'^' * max(width, 1)}"

    def to_dict(self) -> dict:
        return {"file": self.filename, "line": self.line, "column": self.column,
                "end_line": self.span.end_line, "end_column": self.span.end_column,
                "message": self.message}


def _rebuild(message, span, filename, source_line, at_end):
    err = DelugeSyntaxError(message, span, filename, "", at_end)
    err.source_line = source_line
    return err


def _line_of(source: str, line: int) -> str:
    if line < 1:
        return ""
    lines = source.splitlines()
    return lines[line - 1] if line <= len(lines) else ""


# ---------------------------------------------------------------------------- a light scanner
# Used only once parsing has failed: to find the token before the failure, the brackets still
# open, and the statement the failure sits in. It never decides whether a script is valid.

@lru_cache(maxsize=1)
def _scanner() -> re.Pattern:
    return re.compile(r"""
        (?P<ws>\s+)
      | (?P<comment>//[^\n]*|/\*[\s\S]*?\*/)
      | (?P<string>"[^"\\]*+(?:\\.[^"\\]*+)*+"|'[^'\\]*+(?:\\.[^'\\]*+)*+')
      | (?P<word>[^\W\d]\w*)
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<op>==|!=|<=|>=|&&|\|\||\+=|-=|\*=|/=|%=|[-+*/%<>=!.,;:(){}\[\]])
      | (?P<other>.)
    """, re.VERBOSE | re.DOTALL)


class _Tok:
    __slots__ = ("kind", "value", "start", "end")

    def __init__(self, kind: str, value: str, start: int, end: int):
        self.kind, self.value, self.start, self.end = kind, value, start, end


def _scan(text: str, stop: int) -> list[_Tok]:
    """Tokens of text[:stop], comments and spaces left out."""
    scanner = _scanner()
    out = []
    pos = 0
    while pos < stop:
        m = scanner.match(text, pos)
        if m is None:  # an unclosed string or comment: the rest is one token
            out.append(_Tok("other", text[pos:stop], pos, stop))
            break
        kind = m.lastgroup
        if kind not in ("ws", "comment"):
            out.append(_Tok(kind, m.group(), m.start(), m.end()))
        pos = m.end()
    return out


class _Where:
    """Offsets to 1-based line/column, for one text."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def span(self, start: int, end: int | None = None) -> Span:
        end = start + 1 if end is None else end
        line = bisect_right(self.starts, start)
        end_line = bisect_right(self.starts, max(end - 1, start))
        end_col = end - self.starts[end_line - 1] + 1
        return Span(line, start - self.starts[line - 1] + 1, end_line, end_col)

    def end_span(self) -> Span:
        """Just past the last non-blank character."""
        stripped = len(self.text.rstrip())
        return self.span(stripped, stripped + 1) if stripped else Span(1, 1, 1, 2)


# ---------------------------------------------------------------------------- words for terminals

_WORDS = {
    "NAME": "a name", "STRING": "text", "SQ_STRING": "text", "INT": "a number",
    "DECIMAL": "a number", "TRUE": "'true'", "FALSE": "'false'", "NULL": "'null'",
    "SEMICOLON": "';'", "COMMA": "','", "COLON": "':'", "DOT": "'.'", "LPAR": "'('",
    "RPAR": "')'", "LBRACE": "'{'", "RBRACE": "'}'", "LSQB": "'['", "RSQB": "']'",
    "EQUAL": "'='", "ASSIGN_OP": "'='", "TASK_KEY": "a key such as 'url:'", "IF": "'if'",
    "ELSE": "'else'", "FOR": "'for each'", "EACH": "'each'", "IN": "'in'", "CATCH": "'catch'",
    "TRY": "'try'", "RETURN": "'return'", "INDEX": "'index'", "TO": "'to'", "INTO": "'into'",
    "FROM": "'from'", "ON": "'on'", "$END": "the end of the script",
}
_VALUE_STARTS = {"NAME", "STRING", "SQ_STRING", "INT", "DECIMAL", "TRUE", "FALSE", "NULL",
                 "LPAR", "LBRACE", "LSQB", "BANG", "MINUS", "IF", "TYPED_LIST", "INSERT"}
_OPERATORS = {"OR", "AND", "EQ_OP", "CMP_OP", "PLUS", "MINUS", "MUL_OP", "IN", "DOT"}
_STATEMENT_WORDS = {"if", "for", "info", "return", "try", "throw", "break", "continue", "else",
                    "catch", "alert", "delete", "insert", "hide", "show", "enable", "disable"}
_OPENERS = {"(": ")", "{": "}", "[": "]"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
_BINARY_OPS = {"+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "=",
               "+=", "-=", "*=", "/=", "%=", "!", ","}


def describe(value: str) -> str:
    """How a token found in the text is named in a message."""
    if not value:
        return "the end of the script"
    if value[0] in "\"'":
        short = value if len(value) <= 24 else value[:20] + "..." + value[0]
        return f"text {short.splitlines()[0]}"
    if value[0].isdigit():
        return f"number {value}"
    return f"'{value}'"


def _expected_words(expected: set[str]) -> str:
    words = []
    if "SEMICOLON" not in expected:  # in a condition '=' compares: one more operator, not news
        expected = expected - {"ASSIGN_OP"}
    if expected & {"STRING", "INT"}:
        words.append("a value")
        expected = expected - _VALUE_STARTS
    elif "NAME" in expected:
        words.append("a name")
        expected = expected - {"NAME"}
    if len(expected & _OPERATORS) >= 2:
        words.append("an operator")
        # after a value, '(' '[' '.' continue it; naming them would only confuse
        expected = expected - _OPERATORS - {"LPAR", "LSQB"}
    for name in sorted(expected):
        word = _WORDS.get(name)
        if word and word not in words:
            words.append(word)
    if not words:
        return ""
    if len(words) > 4:
        words = words[:4] + ["..."]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


# ---------------------------------------------------------------------------- explanations


def explain_unexpected(text: str, filename: str, offset: int, found: str,
                       expected: set[str]) -> DelugeSyntaxError:
    """A parse stopped at `offset` on `found` (its text; "" at the end) where `expected` names the
    terminals that could have come next. Say what went wrong, where a person would look first."""
    where = _Where(text)
    at_end = not found
    tokens = _scan(text, offset)
    prev = tokens[-1] if tokens else None
    bad_span = where.end_span() if at_end else where.span(offset, offset + len(found))

    def error(message: str, span: Span) -> DelugeSyntaxError:
        return DelugeSyntaxError(message, span, filename, text, at_end=at_end)

    def final(message: str, span: Span) -> DelugeSyntaxError:  # more input cannot mend it
        return DelugeSyntaxError(message, span, filename, text)

    def tok_span(tok: _Tok) -> Span:
        return where.span(tok.start, tok.end)

    def after_prev() -> Span:  # where a missing ';' belongs: just after the previous token
        return where.span(prev.end, prev.end + 1) if prev else bad_span

    def line_of(tok: _Tok) -> int:
        return where.span(tok.start).line

    # Brackets still open before the failure (the parser stops at the first closer that does
    # not match, so the prefix itself is balanced apart from openers).
    stack: list[_Tok] = []
    for tok in tokens:
        if tok.value in _OPENERS:
            stack.append(tok)
        elif tok.value in _CLOSERS and stack and stack[-1].value == _CLOSERS[tok.value]:
            stack.pop()
    top = stack[-1] if stack else None

    statement = _statement_tokens(tokens)
    first = statement[0] if statement else None

    # A text left open swallows the lines after it: blame the line where it started.
    runaway = _runaway_text(text, tokens, offset, found)
    if runaway is not None:
        return runaway_error(text, filename, runaway, at_end)

    # Habits from other languages, and words out of place, named in Deluge's terms.
    foreign = _foreign(text, tokens, statement, offset, found, expected)
    if foreign is not None:
        message, tok = foreign
        return final(message, tok_span(tok) if tok is not None else bad_span)
    if first is not None and first.value == "else" and not _else_follows_if(tokens, statement):
        return final("'else' without 'if' before it", tok_span(first))
    bare = _bare_block(tokens)
    if bare is not None:
        return error("a block { } holds statements only after 'if (...)', 'for each', 'try' "
                     "or a function header such as 'void name()'", tok_span(bare))
    if first is not None and first.value == "while" and len(statement) > 1 and \
            statement[1].value == "(":
        return error("Deluge has no 'while' loop; use 'for each x in list'", tok_span(first))
    if first is not None and first.value == "for" and (
            (len(statement) == 1 and found == "(") or
            (len(statement) > 1 and statement[1].value == "(")):
        return error("Deluge has no 'for (...)' loop; write 'for each x in list' or "
                     "'for each index i in list'", tok_span(first))
    if len(statement) == 1 and first.value == "else" and "ELSE" not in expected and \
            not _else_follows_if(tokens, statement):
        return error("'else' without 'if' before it", tok_span(first))
    if found == "else" and "ELSE" not in expected:
        return error("'else' without 'if' before it", bad_span)
    if first is not None and first.value == "catch" and len(statement) == 1 and found != "(" \
            and _after_block_of(tokens, statement, "try"):
        return final("'catch' names the error in parentheses: catch (e) { ... }", bad_span)
    if first is not None and first.value == "catch" or found == "catch" and "CATCH" not in expected:
        return error("'catch' without 'try'", tok_span(first) if first is not None and
                     first.value == "catch" else bad_span)
    if found == "<" and text.startswith("<%", offset):
        return error("Creator page templates (<% %>) are not supported", bad_span)
    if statement and first.kind == "word" and first.value != first.value.lower() and \
            first.value.lower() in STATEMENT_KEYWORDS:
        return error(f"keywords are written in lower case: '{first.value.lower()}'",
                     tok_span(first))
    misspelt = _misspelt_keyword(statement, found)
    if misspelt is not None:
        return final(f"'{first.value}' is not a Deluge word; did you mean '{misspelt}'?",
                     tok_span(first))
    if first is not None and first.value in ("for", "if", "else") and "LBRACE" in expected \
            and found not in ("{", "") and (top is None or top.value == "{") and prev is not None \
            and prev.value != "{" and where.span(prev.start).line < bad_span.line:
        return error("missing '{' at the end of this line: Deluge needs braces around every "
                     "block", after_prev())
    if len(statement) == 1 and first.value.lower() in TYPE_WORDS and \
            re.match(r"[^\W\d][\w.]*\s*\(", text[offset:]) and _inside_block(tokens):
        return error("a function is defined at the top level of a script, not inside a block",
                     tok_span(first))
    if found == "+" and prev is not None and prev.value == "+" and prev.end == offset:
        return error("'++' is not Deluge; write x = x + 1", where.span(prev.start, offset + 1))
    if found == "-" and prev is not None and prev.value == "-" and prev.end == offset and \
            "SEMICOLON" in expected:
        return error("'--' is not Deluge; write x = x - 1", where.span(prev.start, offset + 1))

    if at_end:
        if prev is not None and prev.value == ".":
            return error("expected a name after '.'", after_prev())
        if prev is not None and prev.value in _BINARY_OPS:
            return error(f"expected a value after '{prev.value}'", after_prev())
        if top is not None:
            culprit = _misindented_opener(text) if top.value == "{" else None
            opener = culprit or top
            return error(f"'{opener.value}' opened on line {line_of(opener)} is never closed",
                         tok_span(opener))
        if "SEMICOLON" in expected and (statement or prev is not None and prev.value == "}"
                                        and "NAME" not in expected):
            return error("missing ';' at the end of the statement", after_prev())
        wanted = _expected_words(expected)
        return error("the script ends too early" + (f"; expected {wanted}" if wanted else ""),
                     bad_span)

    if prev is not None and prev.value == "." and "NAME" in expected:
        return error("expected a name after '.'", bad_span if not at_end else after_prev())
    if found == "=" and expected & {"EQ_OP", "RPAR", "AND", "OR"}:
        return error("'=' assigns a value; use '==' to compare", bad_span)

    # A value is missing: after an operator, '=', ',' or '(' , or after `info` / `throw`.
    if prev is not None and expected & _VALUE_STARTS and "SEMICOLON" not in expected and (
            prev.value in _BINARY_OPS or prev.value in ("info", "throw", "(")):
        if prev.value == "(":
            return error(f"expected a value, found {describe(found)}", bad_span)
        return error(f"expected a value after '{prev.value}'", bad_span)

    if "SEMICOLON" in expected and prev is not None and (
            statement or prev.value == "}" and "NAME" not in expected):  # `m = {...}` ends
        prev_line = where.span(prev.start, prev.end).end_line
        if bad_span.line > prev_line or found.lower() in _STATEMENT_WORDS:
            return error("missing ';' at the end of the statement", after_prev())
        if found == "}":
            return error("missing ';' before '}'", after_prev())

    # A closer with nothing to close, or closing the wrong thing.
    if found in _CLOSERS:
        if top is None:
            return error(f"unexpected '{found}': nothing is open here", bad_span)
        if top.value != _CLOSERS[found]:
            return error(f"missing '{_OPENERS[top.value]}' (for the '{top.value}' on line "
                         f"{line_of(top)}) before '{found}'", bad_span)

    # Something open was never closed before the statement ended.
    if top is not None and found in (";", "{") and top.value != "{":
        return error(f"missing '{_OPENERS[top.value]}' (for the '{top.value}' on line "
                     f"{line_of(top)})", bad_span)
    if top is not None and top.value == "{" and found == ";" and \
            (prev is None or prev.value != "{") and "RBRACE" in expected:
        return error(f"missing '}}' (for the '{{' on line {line_of(top)})", bad_span)
    if expected == {"LBRACE"}:
        return error(f"expected '{{' here, found {describe(found)}: Deluge needs braces around "
                     "every block", bad_span)
    if found == "[" and prev is not None and prev.kind != "word":
        return error("Deluge has no [ ] indexing; use .get(i) for lists and .get(key) for maps",
                     bad_span)

    wanted = _expected_words(expected)
    message = f"unexpected {describe(found)}"
    if wanted:
        message += f"; expected {wanted}"
    return error(message, bad_span)


# ---------------------------------------------------------------------------- causes far back

# A line of code swallowed by a text left open: an assignment, a statement word, a brace.
_CODE_LINE = re.compile(r"^\s*(?:[^\W\d][\w.]*\s*[-+*/%]?=[^=]|(?:info|return|if|for|else|"
                        r"try|catch|throw)\b|[{}]\s*$)", re.MULTILINE)


def _runaway_text(text: str, tokens: list, offset: int, found: str):
    """The text literal really left open, when the parse failed just after a text that ends on
    the failing line: a text spanning lines (it ran on to the next '"'), or one followed at once
    by a word (a '"' inside it). Returns the token of the text to blame, or None."""
    if not tokens or tokens[-1].kind != "string" or not tokens[-1].value.startswith('"') or \
            not found:
        return None
    last = tokens[-1]
    if "\n" in text[last.end:offset]:
        return None  # the failure is on a later line: what is missing is more likely a ';'
    if "\n" not in last.value:
        adjacent = last.end == offset and (found[0].isalnum() or found[0] == "_")
        return last if adjacent else None
    return _chain_start(tokens, len(tokens) - 1, text)


def _chain_start(tokens: list, index: int, text: str):
    """Walk back over texts that each end on the line where the next one starts and swallow
    code: the first of them opened the run."""
    start = tokens[index]
    strings = [t for t in tokens[:index] if t.kind == "string"]
    for earlier in reversed(strings):
        if "\n" not in earlier.value or not _CODE_LINE.search(earlier.value[1:-1]):
            break
        if text.count("\n", 0, earlier.end) != text.count("\n", 0, start.start):
            break
        start = earlier
    return start


def runaway_error(text: str, filename: str, tok, at_end: bool) -> DelugeSyntaxError:
    where = _Where(text)
    span = where.span(tok.start)
    if "\n" not in tok.value:  # one line: the quote that ended it was meant to be inside
        quote = where.span(tok.end - 1)
        return DelugeSyntaxError(f"a '\"' inside text is written \\\" (or the text started at "
                                 f"line {span.line} column {span.column} is never closed)",
                                 quote, filename, text, at_end=at_end)
    return DelugeSyntaxError(f"text started on line {span.line} is never closed (or a '\"' "
                             "inside it needs a backslash: \\\")", span, filename, text,
                             at_end=at_end)


# Statement words a typo most often mangles (`retrun`, `inof`).
_TYPO_TARGETS = ("return", "info", "throw", "break", "continue")


def _misspelt_keyword(statement: list, found: str):
    """`retrun x;`: a statement that starts with a word close to a statement keyword, followed
    by a value where an operator was due. The keyword meant, or None."""
    if len(statement) < 1 or statement[0].kind != "word" or not found:
        return None
    word = statement[0].value.lower()
    if word in _TYPO_TARGETS or word in STATEMENT_KEYWORDS:
        return None
    follows = statement[1] if len(statement) > 1 else None
    value_next = follows is not None and follows.kind in ("word", "string", "number") or \
        follows is None and (found[0] in "\"'" or found[0].isalnum() or found[0] == "_")
    if not value_next:
        return None
    from difflib import get_close_matches

    match = get_close_matches(word, _TYPO_TARGETS, n=1, cutoff=0.6)
    return match[0] if match else None


def _else_follows_if(tokens: list, statement: list) -> bool:
    """Does the `else` that starts `statement` come right after the block of an `if (...)` or
    `else if (...)`?"""
    i = len(tokens) - len(statement)
    if i == 0 or tokens[i - 1].value != "}":
        return False
    j = _opener_of(tokens, i - 1)
    if j is None or j == 0 or tokens[j - 1].value != ")":
        return False
    k = _opener_of(tokens, j - 1)
    return k is not None and k > 0 and tokens[k - 1].value == "if"


def _after_block_of(tokens: list, statement: list, word: str) -> bool:
    """Does `statement` start right after a `{ ... }` block that follows `word` (`try`)?"""
    i = len(tokens) - len(statement)
    if i == 0 or tokens[i - 1].value != "}":
        return False
    j = _opener_of(tokens, i - 1)
    return j is not None and j > 0 and tokens[j - 1].value == word


def _opener_of(tokens: list, close: int):
    """The index of the bracket that the closer at `close` matches."""
    want = _CLOSERS[tokens[close].value]
    depth = 0
    for i in range(close, -1, -1):
        v = tokens[i].value
        if v == tokens[close].value:
            depth += 1
        elif v == want:
            depth -= 1
            if depth == 0:
                return i
    return None


_VALUE_BEFORE = {"return", "info", "throw", "alert", "in"}


def _bare_block(tokens: list):
    """The first still-open '{' that stands where a statement starts (no `if (...)`, `for
    each`, `try` or function header before it), or None."""
    kinds: list[tuple] = []  # (token, "block" | "bare" | "value") of the open braces
    prev = None
    last_closed = None  # the kind of the brace a '}' closed last
    for tok in tokens:
        v = tok.value
        if v == "{":
            if prev is None or prev.value == ";" or prev.value in "{}" and (
                    prev.value == "}" and last_closed in ("block", "bare") or
                    prev.value == "{" and kinds and kinds[-1][1] in ("block", "bare")):
                kind = "bare"
            elif prev.value in (")", "]") or prev.kind == "word" and \
                    prev.value not in _VALUE_BEFORE:
                kind = "block"
            else:
                kind = "value"
            kinds.append((tok, kind))
        elif v == "}" and kinds:
            last_closed = kinds.pop()[1]
        elif v in _OPENERS:
            kinds.append((tok, "value"))
        elif v in _CLOSERS and kinds:
            kinds.pop()
        prev = tok
    for tok, kind in kinds:
        if kind == "bare":
            return tok
    return None


_FUNCTION_WORDS = {"function", "def", "func", "fn", "fun", "sub", "procedure"}
_DECLARATION_WORDS = {"var", "let", "const", "dim", "auto"}


def _foreign(text: str, tokens: list, statement: list, offset: int, found: str, expected):
    """Constructs of other languages: (message, token to point at or None for the found one)."""
    first = statement[0] if statement else None
    second = statement[1] if len(statement) > 1 else None
    head = tokens[:2]
    if head and head[0].value == "application" and (
            len(head) > 1 and head[1].kind == "string" or len(head) == 1 and found[:1] == '"'
            or len(tokens) == 2 and head[1].kind == "word" and found == "{"):
        return ("this is a Zoho Creator application export (.ds), not a Deluge script: Deluge "
                "is the code inside its functions and workflow actions", head[0])
    if text.startswith("=>", offset) or found == ">" and tokens and tokens[-1].value == "=" \
            and tokens[-1].end == offset:
        return ("'=>' is not Deluge, which has no inline functions: write a function "
                "('string name(string x) { ... }') or a 'for each' loop", None)
    if first is not None and first.value.lower() in _FUNCTION_WORDS and second is not None \
            and second.kind == "word":
        return (f"'{first.value}' is not Deluge: a function starts with its return type, as in "
                "'void notify(string id)' or 'string name(map m)'", first)
    if first is not None and first.value in _DECLARATION_WORDS and second is not None and \
            second.kind == "word" and (found == "=" or len(statement) > 2):
        return (f"'{first.value}' is not Deluge: variables are not declared; write "
                f"{second.value} = ...;", first)
    if first is not None and first.value == "if" and len(statement) == 1 and \
            found not in ("(", "") and not re.match(r"[-+*/%]?=(?!=)", found):
        return ("the condition of 'if' goes in parentheses: if (condition) { ... }", None)
    if first is not None and first.value in ("foreach", "forEach") and found in ("(", "{") or \
            first is not None and first.value == "for" and second is not None and \
            second.value == "each" and found == "(" and len(statement) == 2:
        return ("Deluge writes 'for each x in list { ... }', without parentheses", first)
    if first is not None and first.value in ("switch", "do") and found == "{" and \
            len(statement) <= 4:
        return (f"Deluge has no '{first.value}'; use "
                f"{'if / else if' if first.value == 'switch' else 'for each'}", first)
    if first is not None and first.value in ("elif", "elsif", "elseif"):
        return (f"'{first.value}' is not Deluge; write 'else if'", first)
    if found == "=" and tokens and tokens[-1].value in ("==", "!=") and \
            tokens[-1].end == offset:
        return (f"'{tokens[-1].value}=' is not Deluge; write '{tokens[-1].value}'", None)
    if found in ("and", "or") and expected & {"AND", "OR"}:
        return (f"Deluge writes '{'&&' if found == 'and' else '||'}' for '{found}'", None)
    return None


def unclosed_at(text: str, offset: int) -> bool:
    """Does a text literal or block comment start at `offset` and never end?"""
    rest = text[offset:]
    if rest.startswith("/*"):
        return "*/" not in rest[2:]
    if rest[:1] == '"':
        return re.match(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"', rest, re.DOTALL) is None
    if rest[:1] == "'":
        return re.match(r"'[^'\\]*+(?:\\.[^'\\]*+)*+'", rest, re.DOTALL) is None
    return False


def explain_bad_character(text: str, filename: str, offset: int) -> DelugeSyntaxError:
    """No terminal of the language starts at `offset`."""
    where = _Where(text)
    char = text[offset]
    span = where.span(offset)
    rest = text[offset:]
    if char == '"' and unclosed_at(text, offset):  # perhaps opened further up and run on
        tokens = _scan(text, offset) + [_Tok("string", text[offset:], offset, len(text))]
        start = _chain_start(tokens, len(tokens) - 1, text)
        if start.start != offset:
            return runaway_error(text, filename, start, True)
    if char in "\"'" and unclosed_at(text, offset):
        kind = "text" if char == '"' else "quoted text"
        return DelugeSyntaxError(f"{kind} started on line {span.line} is never closed", span,
                                 filename, text, at_end=True)
    if rest.startswith("/*") and unclosed_at(text, offset):
        return DelugeSyntaxError(f"comment started on line {span.line} is never closed",
                                 where.span(offset, offset + 2), filename, text, at_end=True)
    if rest.startswith("??"):
        return DelugeSyntaxError("'??' is not Deluge; write ifnull(value, fallback)", span,
                                 filename, text)
    if char == "?":
        return DelugeSyntaxError("'?:' is not Deluge; write if(condition, a, b)", span,
                                 filename, text)
    if char == "#":
        return DelugeSyntaxError("'#' does not start a comment in Deluge; use // or /* */", span,
                                 filename, text)
    if rest.startswith("<%"):
        return DelugeSyntaxError("Creator page templates (<% %>) are not supported", span,
                                 filename, text)
    shown = char if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"
    return DelugeSyntaxError(f"unexpected character '{shown}'", span, filename, text)


def _misindented_opener(text: str) -> _Tok | None:
    """When a '{' is left open, the parser only notices at the end, where the outermost block
    lacks its '}'. In an indented script the first '{' whose matching '}' sits at another
    indentation is the one really left open; None when the indentation does not say."""
    starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def indent(offset: int) -> str:
        line_start = starts[bisect_right(starts, offset) - 1]
        line = text[line_start:offset]
        return line[:len(line) - len(line.lstrip())].expandtabs(4)

    def first_on_line(offset: int) -> bool:
        line_start = starts[bisect_right(starts, offset) - 1]
        return not text[line_start:offset].strip()

    stack: list[_Tok] = []
    suspects: list[_Tok] = []
    for tok in _scan(text, len(text)):
        if tok.value == "{":
            stack.append(tok)
        elif tok.value == "}" and stack:
            opener = stack.pop()
            if first_on_line(tok.start) and indent(tok.start) != indent(opener.start):
                suspects.append(opener)
    return min(suspects, key=lambda t: t.start) if suspects else None


def _inside_block(tokens: list[_Tok]) -> bool:
    depth = 0
    for tok in tokens:
        depth += (tok.value == "{") - (tok.value == "}")
    return depth > 0


def _statement_tokens(tokens: list[_Tok]) -> list[_Tok]:
    """The tokens of the statement the scan ended in: those after the last ';', '{' or '}'."""
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i].value in (";", "{", "}"):
            return tokens[i + 1:]
    return tokens


# Blocks and brackets may nest this deep: far beyond any real script, and shallow enough that
# every later stage (the compiler, the formatter, Python's own compiler) can recurse through
# them. Chains that open no bracket per link (`a + b + ...`, `x.f().g()...`, `!!x`) are not
# nesting and have no limit: the stages after the parser walk them without recursion.
MAX_NESTING = 100
# Functions one script may define: each is a closure of the compiled script, and Python's
# compiler takes time that grows with the square of their number (20 s for 10,000).
MAX_FUNCTIONS = 1000


def too_deep(span: Span, filename: str, text: str) -> DelugeSyntaxError:
    """The bracket or block at `span` is one level deeper than MAX_NESTING."""
    return DelugeSyntaxError(f"nested more than {MAX_NESTING} levels deep (blocks and "
                             "brackets); move the inner part into a variable or a function",
                             span, filename, text)


def span_error(message: str, span: Span, filename: str, text: str) -> DelugeSyntaxError:
    """An error found while building the AST (the parse itself succeeded)."""
    return DelugeSyntaxError(message, span, filename, text)
