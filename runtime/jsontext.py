"""JSON text as Zoho's functions read it: `toMap`, `getJSON`, `toJSONList`, `toListString`,
`toList` and `executeXPath` on text.

Zoho reads JSON leniently, as the org.json library of Java does: the help pages' own examples
write `"{company:Zoho, product:Creator}".toMap()` and `"{Name:'Lia Shelton', OrderNo:[343]}"`.
So besides strict JSON this reads:

- keys and values without quotes: a bare word runs up to one of `, : ] } / \\ " [ { ; = #`
  and is trimmed; `true`, `false`, `null` and numbers are themselves, anything else is text;
- texts in single quotes (with the same backslash escapes as double quotes);
- `=` or `=>` between a key and its value, `;` between entries, a comma before a closing
  bracket, and an empty place in an array (`[1,,2]`) as null.

Strict JSON goes through Python's C parser first (the common case, and fast); only text it
refuses comes here. What neither reads is not JSON: the caller raises a Deluge error with the
reason given here.
"""

from __future__ import annotations

import json

from .values import from_json, from_plain

_BARE_END = frozenset(',:]}/\\"[{;=#')
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "'": "'",
            "\\": "\\", "/": "/"}


def from_lenient_json(text: str):
    """JSON text (strict or Zoho's lenient kind) -> Deluge values; ValueError when it is
    neither."""
    try:
        return from_json(text)
    except ValueError:
        pass
    reader = _Reader(text)
    value = reader.value()
    reader.end()
    return from_plain(value)


class _Reader:
    __slots__ = ("text", "at")

    def __init__(self, text: str):
        self.text, self.at = text, 0

    def fail(self, what: str):
        raise ValueError(f"{what} at character {self.at + 1}")

    def next_clean(self) -> str:
        """The next character that is not blank ('' at the end), consumed."""
        text, at = self.text, self.at
        while at < len(text) and text[at] <= " ":
            at += 1
        self.at = at + 1
        return text[at] if at < len(text) else ""

    def back(self):
        self.at -= 1

    def end(self):
        if self.next_clean():
            self.back()
            self.fail("unexpected text after the value")

    def value(self):
        c = self.next_clean()
        if c in ('"', "'"):
            return self.quoted(c)
        if c == "{":
            return self.obj()
        if c == "[":
            return self.array()
        if not c:
            self.fail("a value is missing")
        self.back()
        return self.bare()

    def quoted(self, quote: str) -> str:
        out, text = [], self.text
        while True:
            if self.at >= len(text):
                self.fail("a text is not closed")
            c = text[self.at]
            self.at += 1
            if c == quote:
                return "".join(out)
            if c == "\\":
                e = text[self.at:self.at + 1]
                self.at += 1
                if e == "u":
                    digits = text[self.at:self.at + 4]
                    try:
                        out.append(chr(int(digits, 16)))
                    except ValueError:
                        self.fail("a \\u escape needs 4 hex digits")
                    self.at += 4
                elif e in _ESCAPES:
                    out.append(_ESCAPES[e])
                else:
                    self.fail("a bad escape")
            elif c in "\n\r":
                self.fail("a text is not closed")
            else:
                out.append(c)

    def bare(self):
        start, text = self.at, self.text
        while self.at < len(text) and text[self.at] >= " " and text[self.at] not in _BARE_END:
            self.at += 1
        word = text[start:self.at].strip()
        if not word:
            self.fail("a value is missing")
        return _bare_value(word)

    def obj(self) -> dict:
        out: dict = {}
        while True:
            c = self.next_clean()
            if c == "}":
                return out
            if not c:
                self.fail("an object is not closed")
            self.back()
            key = self.value()
            if isinstance(key, (dict, list)):
                self.fail("a key must be a text")
            if not isinstance(key, str):  # a bare 12, true or null as a key: its text
                key = json.dumps(key)
            c = self.next_clean()
            if c == "=":
                if self.text[self.at:self.at + 1] == ">":
                    self.at += 1
            elif c != ":":
                self.back()
                self.fail("':' is missing after a key")
            out[key] = self.value()
            c = self.next_clean()
            if c in (",", ";"):
                if self.next_clean() == "}":
                    return out
                self.back()
            elif c == "}":
                return out
            else:
                self.back()
                self.fail("',' or '}' is missing")

    def array(self) -> list:
        out: list = []
        if self.next_clean() == "]":
            return out
        self.back()
        while True:
            if self.next_clean() == ",":
                self.back()
                out.append(None)
            else:
                self.back()
                out.append(self.value())
            c = self.next_clean()
            if c == ",":
                if self.next_clean() == "]":
                    return out
                self.back()
            elif c == "]":
                return out
            else:
                self.back()
                self.fail("',' or ']' is missing")


def _bare_value(word: str):
    low = word.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    if low == "null":
        return None
    if word[0] in "-0123456789.":
        try:
            number = json.loads(word) if word.lstrip("-").isdigit() else float(word)
        except ValueError:
            return word
        if number == number and number not in (float("inf"), float("-inf")):
            return number
    return word
