"""Runs grammar/deluge.lark: Lark computes the LALR(1) tables, a small driver here runs them.

Lark reads the grammar and builds the parse tables and terminal patterns; we keep those (and only
those) in a cache file keyed by the grammar's hash, so a process that parses does not import Lark
at all (importing it alone costs more than our whole start-up budget). The driver below is Lark's
contextual-lexer LALR loop, trimmed for speed: one regular expression per parser state (the
terminals that state accepts, ordered as Lark orders them, whitespace skipped in the same match),
keywords recognised the way Lark's lexer does it (a keyword is a NAME whose text is the keyword,
where the keyword is acceptable), and reductions that call dsl/build.py directly, with no
intermediate parse tree.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import sys
import threading

from . import cachefiles
from .ast import Span
from .errors import (MAX_NESTING, explain_bad_character, explain_unexpected, too_deep,
                     unclosed_at)

START_SYMBOLS = ("script", "expr")
OWN_LEXER_AFTER = 50  # visits before a parser state gets a regular expression of its own
# The one terminal confirmed against the whole stack before it is taken (see Parser.run).
CHECKED = sys.intern("TASK_KEY")
TABLE_FORMAT = 4  # bump when the shape of the cached tables changes
END = "$END"
# Brackets and blocks opened and not yet closed, counted as tokens are shifted (see
# dsl.errors.MAX_NESTING for why there is a limit).
_NESTING = {sys.intern(k): v for k, v in (("LPAR", 1), ("LBRACE", 1), ("LSQB", 1),
                                           ("RPAR", -1), ("RBRACE", -1), ("RSQB", -1))}


def grammar_path() -> str:
    """deluge.lark: inside the installed package, or in the source tree's grammar/ folder.
    (os.path, not pathlib: importing pathlib alone costs a sixth of the start-up budget.)"""
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(here, "grammar", "deluge.lark"),
                      os.path.join(os.path.dirname(here), "grammar", "deluge.lark")):
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError("grammar/deluge.lark is missing from the Sluice installation")


def grammar_text() -> str:
    with open(grammar_path(), encoding="utf-8") as f:
        return f.read()


# ---------------------------------------------------------------------------- tables


def lark_parser(grammar: str | None = None, **options):
    """A Lark LALR parser for the grammar: how the tables are made, and what grammar tests use."""
    from lark import Lark

    return Lark(grammar if grammar is not None else grammar_text(),
                parser="lalr", lexer="contextual", start=list(START_SYMBOLS),
                maybe_placeholders=False, **options)


def generate_tables(grammar: str) -> dict:
    """Everything the driver needs, as plain data (ints, strings, tuples, dicts)."""
    from lark.parsers.lalr_analysis import Shift

    lark = lark_parser(grammar)
    table = lark.parser.parser._parse_table
    rules: list = []
    rule_ids: dict = {}
    actions = []
    for state in range(len(table.states)):
        row = {}
        for symbol, (action, arg) in table.states[state].items():
            symbol = str(symbol)  # Lark's names are a str subclass; keep the cache Lark-free
            if action is Shift:
                row[symbol] = arg
            else:
                if arg not in rule_ids:
                    rule_ids[arg] = len(rules)
                    rules.append((str(arg.origin.name), arg.alias and str(arg.alias),
                                  len(arg.expansion), bool(arg.options.expand1),
                                  tuple(str(s.name) for s in arg.expansion)))
                row[symbol] = ~rule_ids[arg]
        actions.append(row)
    terminals = {
        str(t.name): (str(t.pattern.to_regexp()), t.priority, t.pattern.type == "str",
                      str(t.pattern.value), min(t.pattern.max_width, 2**31))
        for t in lark.terminals
    }
    # As Lark's lexer does: a string terminal that a same-priority regex terminal matches whole
    # (a keyword and NAME) is recognised after that regex matched, by its text. Worked out
    # here once, so that no process compiles every terminal's pattern to find out.
    absorbs: dict[str, dict[str, str]] = {}
    for r, (regexp, priority, is_string, _value, _width) in terminals.items():
        if is_string:
            continue
        pattern = re.compile(regexp)
        for s, (_, s_priority, s_is_string, s_value, _) in terminals.items():
            if s_is_string and s_priority == priority and pattern.fullmatch(s_value):
                absorbs.setdefault(r, {})[s_value] = s
    return {
        "format": TABLE_FORMAT, "terminals": terminals, "absorbs": absorbs,
        "ignore": tuple(str(n) for n in lark.ignore_tokens), "actions": actions, "rules": rules,
        "start_states": {str(k): v for k, v in table.start_states.items()},
        "end_states": {str(k): v for k, v in table.end_states.items()},
    }


def _cache_dir() -> str:
    if os.environ.get("SLUICE_CACHE_DIR"):
        return os.environ["SLUICE_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sluice")


def load_tables() -> dict:
    """The tables for the current grammar: from the cache, or made now and cached."""
    grammar = grammar_text()
    digest = hashlib.sha256(f"{TABLE_FORMAT}\n{grammar}".encode()).hexdigest()[:20]
    folder = _cache_dir()
    path = os.path.join(folder, f"deluge-tables-{digest}.pickle")
    # Unpickling runs code: only a file of ours, private, whose HMAC is right (cachefiles.py).
    data = cachefiles.read(folder, path)
    if data is not None:
        try:
            tables = pickle.loads(data)
            if isinstance(tables, dict) and tables.get("format") == TABLE_FORMAT:
                return tables
        except (EOFError, pickle.UnpicklingError, AttributeError, ValueError):
            pass
    tables = generate_tables(grammar)
    _write_cache(folder, path, tables)  # a cache we cannot write only costs speed
    return tables


def _write_cache(folder: str, path: str, tables: dict) -> None:
    if not cachefiles.write(folder, path, pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL)):
        return
    try:
        for name in os.listdir(folder):  # tables of earlier grammars are of no further use
            if name.startswith("deluge-tables-") and name != os.path.basename(path):
                os.unlink(os.path.join(folder, name))
    except OSError:
        pass


# ---------------------------------------------------------------------------- tokens and lexing


class Tok:
    """A token: its terminal name, text, offsets and 1-based positions (end is exclusive)."""

    __slots__ = ("type", "value", "start", "end", "line", "column", "end_line", "end_column")

    def __init__(self, type_, value, start, end, line, column, end_line, end_column):
        self.type = type_
        self.value = value
        self.start = start
        self.end = end
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column

    def __repr__(self) -> str:
        return f"Tok({self.type}, {self.value!r}, {self.line}:{self.column})"


def _tok_span(tok: Tok) -> Span:
    return Span(tok.line, tok.column, tok.end_line, tok.end_column)


class _StateLexer:
    """The terminals one parser state accepts, as one regular expression."""

    __slots__ = ("regex", "keywords", "names")

    def __init__(self, names, terminals: dict, absorbs: dict, skip: str):
        names = set(names)
        keywords: dict[str, dict[str, str]] = {}
        absorbed = set()
        for r in names:
            for value, s in absorbs.get(r, {}).items():
                if s in names:
                    keywords.setdefault(r, {})[value] = s
                    absorbed.add(s)
        order = sorted(names - absorbed,
                       key=lambda n: (-terminals[n][1], -terminals[n][4], -len(terminals[n][3]), n))
        parts = []
        for n in order:
            pattern = terminals[n][0]
            if terminals[n][2] and re.fullmatch(r"\w+", terminals[n][3]):
                pattern += r"(?!\w)"  # a keyword standing alone must not eat the start of a word
            parts.append(f"(?P<{n}>{pattern})")
        parts.append("(?P<_END>\\Z)")
        self.regex = re.compile(f"(?:{skip})?+(?:{'|'.join(parts)})")
        self.keywords = keywords
        self.names = [None] * (self.regex.groups + 1)  # group number -> terminal name
        for name, number in self.regex.groupindex.items():
            self.names[number] = sys.intern(name)  # interned: the driver compares with `is`


class _Lexers:
    """The shared lexer of all terminals, and one _StateLexer per distinct set of terminals
    that parser states accept, built when first needed."""

    def __init__(self, tables: dict):
        self.terminals = tables["terminals"]
        self.absorbs = tables["absorbs"]
        ignore = tables["ignore"]
        self.skip = "|".join(self.terminals[n][0] for n in ignore if n != "COMMENT")
        self.comment_types = frozenset(n for n in ignore if n == "COMMENT")
        self.always = self.comment_types | {"_END"}  # taken in every state
        self.checked = CHECKED
        self.actions = tables["actions"]
        self._by_set: dict[frozenset, _StateLexer] = {}
        self.master = _StateLexer(set(self.terminals) - set(ignore) | self.comment_types,
                                  self.terminals, self.absorbs, self.skip)
        self.by_state: list[_StateLexer] = [self.master] * len(self.actions)
        self.visits = [0] * len(self.actions)
        self._lock = threading.Lock()

    def accepts(self, state: int) -> frozenset:
        return frozenset(s for s in self.actions[state] if s in self.terminals) | \
            self.comment_types

    def _lexer_for(self, key: frozenset) -> _StateLexer:
        lexer = self._by_set.get(key)
        if lexer is None:
            with self._lock:
                lexer = self._by_set.get(key)
                if lexer is None:
                    lexer = _StateLexer(key, self.terminals, self.absorbs, self.skip)
                    self._by_set[key] = lexer
        return lexer

    def for_state(self, state: int) -> _StateLexer:
        lexer = self.by_state[state]
        if lexer is self.master:
            lexer = self.by_state[state] = self._lexer_for(self.accepts(state))
        return lexer

    def without(self, state: int, terminal: str) -> _StateLexer:
        """The state's lexer less one terminal (see Parser.run on TASK_KEY)."""
        return self._lexer_for(self.accepts(state) - {terminal})



# ---------------------------------------------------------------------------- the driver


class _Splice(list):
    """Children of an inlined rule (`_item`, Lark's helpers for `*` and `+`), to be spliced
    into the parent's."""

    __slots__ = ()


def _inline(children):
    first = children[0] if children else None
    if type(first) is _Splice:
        out = first
        rest = children[1:]
    else:
        out = _Splice()
        rest = children
    for c in rest:
        if type(c) is _Splice:
            out.extend(c)
        else:
            out.append(c)
    return out


def _flatten(children):
    out = []
    for c in children:
        if type(c) is _Splice:
            out.extend(c)
        else:
            out.append(c)
    return out


class Parser:
    """The compiled grammar. `run` parses one text and returns what the builder made of it."""

    def __init__(self, tables: dict):
        self.tables = tables
        self.actions = tables["actions"]
        self.lexers = _Lexers(tables)
        self.start_states = tables["start_states"]
        self.end_states = tables["end_states"]
        self._reducers: dict[int, list] = {}
        self._chains: dict[tuple, int] = {}  # (state below, top state, lookahead) -> new top
        self._end_of_start = {self.start_states[n]: self.end_states[n] for n in self.start_states}

    def reducers(self, builder_class) -> list:
        """Per rule: (goto symbol, size, callback or None for a pass-through)."""
        key = id(builder_class)
        found = self._reducers.get(key)
        if found is not None:
            return found
        inline_names = {r[0] for r in self.tables["rules"] if r[0].startswith("_")}
        table = []
        for origin, alias, size, expand1, expansion in self.tables["rules"]:
            if origin.startswith("_"):
                fn = _inline
            elif expand1 and alias is None and size == 1:
                fn = None  # a `?rule` with one child passes it through: no call at all
            else:
                method = getattr(builder_class, alias or origin)
                if any(s in inline_names for s in expansion):
                    fn = (lambda m: lambda c: m(_flatten(c)))(method)
                else:
                    fn = method
            table.append((origin, size, fn))
        self._reducers[key] = table
        return table

    def run(self, text: str, start: str, builder_class, filename: str, stop_at: int = -1):
        """Parse `text` from `start`; return (value, comment tokens) or raise DelugeSyntaxError.
        With `stop_at`, return the state stack as it is when the token at that offset arrives."""
        actions = self.actions
        reducers = self.reducers(builder_class)
        chains = self._chains
        lexers = self.lexers
        checked = lexers.checked
        master = lexers.master
        by_state = lexers.by_state
        visits = lexers.visits
        always = lexers.always
        comment_types = lexers.comment_types
        end_state = self.end_states[start]
        states = [self.start_states[start]]
        values: list = []
        comments: list = []
        pos = 0
        line = 1
        line_start = 0
        size_of_text = len(text)
        nesting = _NESTING
        depth = 0

        while True:
            # A state reads tokens with one regular expression of all terminals until it has
            # been visited often enough to earn its own, compiled, expression (which is faster
            # but costs a millisecond to build). What the shared one finds, when the state does
            # not take it, is read again with the state's own terminals (contextual lexing);
            # Lark's order of terminals makes both agree whenever the state takes the token.
            # (What follows is _relex, inlined: this loop runs once per token.)
            state = states[-1]
            lexer = by_state[state]
            if lexer is master:
                visits[state] += 1
                if visits[state] > OWN_LEXER_AFTER:
                    lexer = lexers.for_state(state)
            m = lexer.regex.match(text, pos)
            if m is None:
                self._fail_lexing(text, filename, pos, states)
            group = m.lastindex
            ttype = lexer.names[group]
            keywords = lexer.keywords.get(ttype)
            if lexer is master:
                row = actions[state]
                if keywords is not None:
                    keyword = keywords.get(m.group(group))
                    if keyword is not None and keyword in row:
                        ttype = keyword
                if ttype not in row and ttype not in always:
                    m, group, ttype = self._relex(lexers.for_state(state), text, pos, filename,
                                                  states)
            elif keywords is not None:  # a state's own lexer holds only keywords it takes
                ttype = keywords.get(m.group(group), ttype)
            if ttype is checked and not self._can_shift(states, checked):
                # LALR merges lookaheads, so a state may list TASK_KEY where the real stack
                # cannot take one (`Form[x] range from 0 to a: ...`); then it is not a key.
                m, group, ttype = self._relex(lexers.without(states[-1], checked), text, pos,
                                              filename, states)
            tstart = m.start(group)
            if tstart != pos:
                skipped = text.count("\n", pos, tstart)
                if skipped:
                    line += skipped
                    line_start = text.rfind("\n", pos, tstart) + 1
            if ttype == "_END":
                ttype = END
                value = ""
                column = tstart - line_start + 1
                tok = Tok(END, "", size_of_text, size_of_text, line, column, line, column)
            else:
                value = m.group(group)
                pos = m.end()
                column = tstart - line_start + 1
                inner = value.count("\n") if ("\n" in value) else 0
                if inner:
                    tok_line = line
                    line += inner
                    line_start = text.rfind("\n", tstart, pos) + 1
                    tok = Tok(ttype, value, tstart, pos, tok_line, column, line,
                              pos - line_start + 1)
                else:
                    tok = Tok(ttype, value, tstart, pos, line, column, line, column + len(value))
                if ttype in comment_types:
                    comments.append(tok)
                    continue
            if tstart == stop_at:
                return states

            while True:
                code = actions[states[-1]].get(ttype)
                if code is None:
                    self._fail_parsing(text, start, builder_class, filename, tok)
                if code >= 0:
                    states.append(code)
                    values.append(tok)
                    if ttype in nesting:
                        depth += nesting[ttype]
                        if depth > MAX_NESTING:
                            raise too_deep(_tok_span(tok), filename, text) from None
                    break
                origin, size, fn = reducers[~code]
                if fn is None:  # pass-through rules: the value stays, only the top state changes
                    key = (states[-2], states[-1], ttype)
                    top = chains.get(key)
                    if top is None:
                        top = chains[key] = self._pass_through(reducers, key)
                    states[-1] = top
                    if ttype is END and top == end_state:
                        return values[-1], comments
                    continue
                if size:
                    children = values[-size:]
                    del values[-size:]
                    del states[-size:]
                else:
                    children = []
                values.append(fn(children))
                states.append(actions[states[-1]][origin])
                if ttype is END and states[-1] == end_state:
                    return values[-1], comments

    def _pass_through(self, reducers, key) -> int:
        """Follow consecutive pass-through reductions (`?expr` -> `?or_expr` -> ...): with one
        child each, the stack below keeps its depth, so the outcome depends only on `key`."""
        below, top, ttype = key
        while True:
            code = self.actions[top].get(ttype)
            if code is None or code >= 0 or reducers[~code][2] is not None:
                return top
            top = self.actions[below][reducers[~code][0]]

    def _relex(self, lexer: _StateLexer, text: str, pos: int, filename: str, states: list):
        """The token at `pos` as `lexer` (one state's terminals) reads it."""
        m = lexer.regex.match(text, pos)
        if m is None:
            self._fail_lexing(text, filename, pos, states)
        group = m.lastindex
        ttype = lexer.names[group]
        keywords = lexer.keywords.get(ttype)
        if keywords is not None:
            ttype = keywords.get(m.group(group), ttype)
        return m, group, ttype

    def _fail_parsing(self, text, start, builder_class, filename, tok):
        """`tok` cannot come here. What could have? The stack at failure has already been reduced
        for `tok`, so parse again up to it and ask the unreduced stack."""
        states = self.run(text, start, builder_class, filename, stop_at=tok.start)
        raise explain_unexpected(text, filename, tok.start, tok.value,
                                 self.expected(states)) from None

    def _fail_lexing(self, text: str, filename: str, pos: int, states: list):
        """No terminal this state accepts starts here: name what is there instead."""
        first = len(text) - len(text[pos:].lstrip())  # the first non-blank character
        if first >= len(text):
            first = len(text) - 1
        if unclosed_at(text, first):  # a text or comment opened and never closed
            raise explain_bad_character(text, filename, first) from None
        m = self.lexers.master.regex.match(text, pos)
        if m is None or m.lastgroup == "_END":
            raise explain_bad_character(text, filename, first) from None
        found = m.group(m.lastgroup)
        raise explain_unexpected(text, filename, m.start(m.lastgroup), found,
                                 self.expected(states)) from None

    def expected(self, states: list) -> set[str]:
        """The terminals that could come next after the parsed prefix whose state stack is
        `states`: each candidate is tried on a copy of the stack (LALR merges lookaheads, so the
        top state alone lists more than a person should be told)."""
        return {t for t in self.actions[states[-1]]
                if (t.isupper() or t == END) and self._can_shift(states, t)}

    def _can_shift(self, states: list, terminal: str) -> bool:
        """Would `terminal` be shifted (or end the parse) after the reductions it triggers?"""
        rules = self.tables["rules"]
        stack = list(states)
        end_state = self._end_of_start[states[0]]
        while True:
            code = self.actions[stack[-1]].get(terminal)
            if code is None:
                return False
            if code >= 0:
                return True
            origin, _alias, size = rules[~code][:3]
            if size:
                del stack[-size:]
            stack.append(self.actions[stack[-1]][origin])
            if terminal == END and stack[-1] == end_state:
                return True


_lock = threading.Lock()
_parser: Parser | None = None


def get_parser() -> Parser:
    global _parser
    if _parser is None:
        with _lock:
            if _parser is None:
                _parser = Parser(load_tables())
    return _parser


__all__ = ["MAX_NESTING", "Parser", "Tok", "generate_tables", "get_parser", "grammar_path", "lark_parser",
           "load_tables"]
