"""Reading tests/golden/<stage>/*.dg: chunks and the expectations in their trailing comments.

A file is split into chunks by lines that are exactly `---`. Each chunk is padded with blank
lines, so line numbers in messages are line numbers of the file. The `//` comment lines at the
end of a chunk state what must happen:

    // error: line N:C: <regex>     exactly this error (a syntax error gives its column too)
    // ast: <s-expression>          the chunk parses to this (dsl.sexpr); may span several lines
    // expect: <text>               one `info` line, in order (runtime stages)
    // returns: <deluge literal>    the run's return value (runtime stages)
    // form: <deluge literal>       the run's form state, field -> choices (ui.add, clear)
    // option: NAME                 a dialect or run option
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"
DIRECTIVE = re.compile(r"^\s*//\s*(error|ast|expect|returns|form|option):\s?(.*)$")
ERROR = re.compile(r"^line (\d+)(?::(\d+))?: (.*)$")


@dataclass
class Chunk:
    path: Path
    first_line: int  # 1-based line of the chunk's first line in the file
    source: str  # padded: line numbers are the file's
    errors: list[tuple[int, int | None, str]] = field(default_factory=list)
    ast: str | None = None
    expect: list[str] = field(default_factory=list)
    returns: str | None = None
    form: str | None = None
    options: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}:{self.first_line}"


def read_chunks(path: Path) -> list[Chunk]:
    lines = path.read_text(encoding="utf-8").split("\n")
    chunks, start = [], 0
    for i, line in enumerate(lines + ["---"]):
        if line.rstrip("\r") == "---":
            if any(l.strip() for l in lines[start:i]):
                chunks.append(_chunk(path, start, lines[start:i]))
            start = i + 1
    return chunks


def _chunk(path: Path, start: int, lines: list[str]) -> Chunk:
    chunk = Chunk(path, start + 1, "\n" * start + "\n".join(lines))
    chunk.options = [m.group(2).strip() for m in map(DIRECTIVE.match, lines)
                     if m is not None and m.group(1) == "option"]  # options may sit anywhere
    # the directives are the trailing block of comment lines
    trailing = []
    for line in reversed(lines):
        if not line.strip():
            continue
        if not DIRECTIVE.match(line) and not (trailing and line.strip().startswith("//")):
            break
        trailing.append(line)
    ast_parts = []
    for line in reversed(trailing):
        m = DIRECTIVE.match(line)
        if m is None:
            if ast_parts:  # an s-expression continued on the next comment line
                ast_parts.append(line.strip()[2:].strip())
            continue
        kind, value = m.groups()
        if kind == "error":
            e = ERROR.match(value)
            if e is None:
                raise ValueError(f"{path}:{start + 1}: bad error directive {value!r}")
            chunk.errors.append((int(e.group(1)), int(e.group(2)) if e.group(2) else None,
                                 e.group(3)))
        elif kind == "ast":
            ast_parts.append(value.strip())
        elif kind == "expect":
            chunk.expect.append(value)
        elif kind == "returns":
            chunk.returns = value
        elif kind == "form":
            chunk.form = value
    if ast_parts:
        chunk.ast = " ".join(ast_parts)
    return chunk


def golden_chunks(stage: str) -> list[Chunk]:
    out = []
    for path in sorted((GOLDEN / stage).glob("*.dg")):
        out.extend(read_chunks(path))
    return out
