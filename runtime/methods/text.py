"""TEXT built-ins (LANGUAGE.md §5, Text). Positions are 0-based; Zoho's spelling "Occurence"
is kept. Regular expressions are Java's; the few differences from Python's are bridged here.

Regular expressions run on the `regex` package, not `re`: its matcher takes a timeout, so a
pattern that backtracks for ever ("(a|aa)+$" on forty a's) stops when the run's time is up.
A replacement's result is bounded before it is built: when the text, the number of matches and
the replacement could make more than the text limit allows, the replacement is built match by
match and stops at the limit.
"""

from __future__ import annotations

import functools
import re

from ..builtins import builtin, int_arg, text_arg
from ..errors import DelugeError
from ..jsontext import from_lenient_json
from ..limits import check_collection, check_text, check_time, current_run, regex_timeout
from ..values import MAX_NUMBER, MIN_NUMBER, to_text


def _regex(pattern: str, fn: str, flags: int = 0):
    try:
        return _compiled(pattern, int(flags))
    except ValueError as e:
        raise DelugeError(f"{fn}: {pattern!r} is not a valid regular expression ({e})") from None


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str, flags: int):
    """Compiled once: regex's own cache costs more than a match on a short text."""
    import regex  # on first use: importing it costs start-up time

    try:
        return regex.compile(_java_regex(pattern), flags)
    except regex.error as e:
        raise ValueError(str(e)) from None
    except (OverflowError, RecursionError):  # a{99999999999}, thousands of nested groups
        raise ValueError("too large or too deeply nested") from None


def _timed(work, *args, **kwargs):
    """A regular expression at work, stopped when the run's time is up. Its timeout is CPU
    time, a guess at the wall-clock time left: one that ends before the run's time is up
    starts again with the time then left."""
    while True:
        try:
            return work(*args, timeout=regex_timeout(), **kwargs)
        except TimeoutError:
            check_time()


def _java_regex(pattern: str) -> str:
    """Java syntax Python lacks: possessive quantifiers are Python 3.11's too; \\p{Alpha}-style
    classes and (?<name>...) groups are translated."""
    classes = {r"\p{Alpha}": "[A-Za-z]", r"\p{Digit}": r"\d", r"\p{Alnum}": "[A-Za-z0-9]",
               r"\p{Punct}": r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]""",
               r"\p{Upper}": "[A-Z]", r"\p{Lower}": "[a-z]", r"\p{Space}": r"\s",
               r"\p{L}": r"[^\W\d_]", r"\p{N}": r"\d"}
    for java, python in classes.items():
        pattern = pattern.replace(java, python)
    return re.sub(r"\(\?<([A-Za-z][A-Za-z0-9]*)>", r"(?P<\1>", pattern)


def _java_replacement(repl: str, pattern, fn: str) -> tuple[str, int]:
    """Java's replacement (`$1`, `${name}`, `\\$` for a dollar) -> a Python template, and the
    number of group references in it. A reference to a group the expression does not have is
    an error, as in Java; `$12` is group 12 only when there are 12 groups, else group 1 and a 2."""
    out, i, refs = [], 0, 0
    while i < len(repl):
        ch = repl[i]
        if ch == "\\" and i + 1 < len(repl):
            nxt = repl[i + 1]
            out.append("\\\\" if nxt == "\\" else nxt)
            i += 2
        elif ch == "$" and i + 1 < len(repl) and repl[i + 1].isdigit():
            group, j = int(repl[i + 1]), i + 2
            while j < len(repl) and repl[j].isdigit() and group * 10 + int(repl[j]) <= \
                    pattern.groups:
                group, j = group * 10 + int(repl[j]), j + 1
            if group > pattern.groups:
                raise DelugeError(f"{fn}: the replacement uses group ${group}, but the "
                                  f"expression has {pattern.groups} group"
                                  f"{'' if pattern.groups == 1 else 's'}")
            out.append(f"\\g<{group}>")
            refs += 1
            i = j
        elif ch == "$" and repl[i + 1:i + 2] == "{":
            j = repl.find("}", i)
            name = repl[i + 2:j] if j > 0 else ""
            if j < 0 or not name:
                raise DelugeError(f"{fn}: '${{' in the replacement needs a group name and '}}'")
            if name not in pattern.groupindex:
                raise DelugeError(f"{fn}: the replacement uses group ${{{name}}}, but the "
                                  "expression has no group of that name")
            out.append(f"\\g<{name}>")
            refs += 1
            i = j + 1
        else:
            out.append("\\\\" if ch == "\\" else ch)
            i += 1
    return "".join(out), refs


def _substitute(fn: str, s: str, pattern, replacement: str, count: int = 0,
                literal: bool = False) -> str:
    """`pattern` replaced in `s` (`count` times, 0: all), never past the text limit: when the
    result could pass it (a long replacement, group references in a long text), it is built
    match by match and refused at the limit."""
    if literal:
        template, refs = replacement.replace("\\", "\\\\"), 0
    else:
        template, refs = _java_replacement(replacement, pattern, fn)
    run = current_run.get(None)
    limit = run.text_limit if run is not None else float("inf")
    matches = len(s) + 1 if not count else count
    bound = len(s) + matches * (len(replacement) + refs * len(s))
    if bound <= 4 * limit:  # a result this size is cheap to build and then measure
        result = _timed(pattern.sub, template, s, count=count)
        check_text(len(result))
        return result
    grown = 0

    def expand(m):
        nonlocal grown
        piece = m.expand(template)
        grown += len(piece) - (m.end() - m.start())
        if len(s) + grown > limit:
            check_text(len(s) + grown)
        return piece

    return _timed(pattern.sub, expand, s, count=count)


def _range_check(fn: str, start: int, end: int, size: int) -> None:
    if start < 0 or start > size:
        raise DelugeError(f"{fn}: start index {start} is out of range for a text of length "
                          f"{size}")
    if end > size:
        raise DelugeError(f"{fn}: end index {end} is out of range for a text of length {size}")
    if end < start:
        raise DelugeError(f"{fn}: end index {end} is before start index {start}")


@builtin("subString", on="text", aliases=("substring", "subText", "mid"),
         doc="the text from start (included) to end (excluded); without end, or with a "
             "negative end, to the end of the text")
def _sub_string(s, start, end=None):
    if type(start) is int and type(end) is int and 0 <= start <= end <= len(s):
        return s[start:end]  # the common case, every check passed
    start = int_arg(start, "subString", 1)
    size = len(s)
    if end is None or int_arg(end, "subString", 2) < 0:
        _range_check("subString", start, size, size)
        return s[start:]
    end = int_arg(end, "subString", 2)
    _range_check("subString", start, end, size)
    return s[start:end]


@builtin("length", on="text", aliases=("len",), doc="the number of characters")
def _length(s):
    return len(s)


_BLANK = "".join(map(chr, range(33)))  # what Java's trim() removes: spaces and control codes


@builtin("trim", on="text", doc="without spaces (and control characters) at either end")
def _trim(s):
    return s.strip(_BLANK)


@builtin("ltrim", on="text", doc="without spaces at the start")
def _ltrim(s):
    return s.lstrip(_BLANK)


@builtin("rtrim", on="text", doc="without spaces at the end")
def _rtrim(s):
    return s.rstrip(_BLANK)


@builtin("toUpperCase", on="text", aliases=("upper",), doc="in capitals")
def _upper(s):
    return s.upper()


@builtin("toLowerCase", on="text", aliases=("lower",), doc="in small letters")
def _lower(s):
    return s.lower()


@builtin("proper", on="text", doc="each word capitalised: 'john SMITH' -> 'John Smith'")
def _proper(s):
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), s)


@builtin("contains", on="text", doc="true when the text holds `search` (\"\" always)")
def _contains(s, search):
    return text_arg(search, "contains", 1) in s


@builtin("notContains", on="text", doc="true when the text does not hold `search`")
def _not_contains(s, search):
    return text_arg(search, "notContains", 1) not in s


@builtin("containsIgnoreCase", on="text", doc="contains, ignoring letter case")
def _contains_ic(s, search):
    return text_arg(search, "containsIgnoreCase", 1).lower() in s.lower()


@builtin("startsWith", on="text", doc="true when the text starts with `prefix`")
def _starts(s, prefix):
    return s.startswith(text_arg(prefix, "startsWith", 1))


@builtin("startsWithIgnoreCase", on="text", doc="startsWith, ignoring letter case")
def _starts_ic(s, prefix):
    return s.lower().startswith(text_arg(prefix, "startsWithIgnoreCase", 1).lower())


@builtin("endsWith", on="text", doc="true when the text ends with `suffix`")
def _ends(s, suffix):
    return s.endswith(text_arg(suffix, "endsWith", 1))


@builtin("endsWithIgnoreCase", on="text", doc="endsWith, ignoring letter case")
def _ends_ic(s, suffix):
    return s.lower().endswith(text_arg(suffix, "endsWithIgnoreCase", 1).lower())


@builtin("equalsIgnoreCase", on="text", doc="equal, ignoring letter case")
def _equals_ic(s, other):
    return other is not None and s.lower() == to_text(other).lower()


@builtin("indexOf", on="text", aliases=("find",), doc="position of `search`, -1 when absent")
def _index_of(s, search):
    return s.find(text_arg(search, "indexOf", 1))


@builtin("lastIndexOf", on="text", doc="position of the last `search`, -1 when absent")
def _last_index_of(s, search):
    return s.rfind(text_arg(search, "lastIndexOf", 1))


@builtin("getPrefix", on="text", doc="the text before the first `search`; null when absent")
def _get_prefix(s, search):
    i = s.find(text_arg(search, "getPrefix", 1))
    return None if i < 0 else s[:i]


@builtin("getPrefixIgnoreCase", on="text", doc="getPrefix, ignoring letter case")
def _get_prefix_ic(s, search):
    i = s.lower().find(text_arg(search, "getPrefixIgnoreCase", 1).lower())
    return None if i < 0 else s[:i]


@builtin("getSuffix", on="text", doc="the text after the first `search`; null when absent")
def _get_suffix(s, search):
    search = text_arg(search, "getSuffix", 1)
    i = s.find(search)
    return None if i < 0 else s[i + len(search):]


@builtin("getSuffixIgnoreCase", on="text", doc="getSuffix, ignoring letter case")
def _get_suffix_ic(s, search):
    search = text_arg(search, "getSuffixIgnoreCase", 1)
    i = s.lower().find(search.lower())
    return None if i < 0 else s[i + len(search):]


@builtin("getOccurenceCount", on="text", aliases=("getOccurrenceCount",),
         doc="how many times `search` occurs")
def _occurrences(s, search):
    search = text_arg(search, "getOccurenceCount", 1)
    return s.count(search) if search else 0


@builtin("getAlpha", on="text", doc="only the letters")
def _get_alpha(s):
    return "".join(c for c in s if c.isalpha())


@builtin("getAlphaNumeric", on="text", doc="only the letters and digits")
def _get_alnum(s):
    return "".join(c for c in s if c.isalnum())


@builtin("removeAllAlpha", on="text", doc="without its letters")
def _remove_alpha(s):
    return "".join(c for c in s if not c.isalpha())


@builtin("removeAllAlphaNumeric", on="text", doc="without its letters and digits")
def _remove_alnum(s):
    return "".join(c for c in s if not c.isalnum())


@builtin("remove", on="text", doc="without any occurrence of `search`")
def _remove(s, search):
    search = text_arg(search, "remove", 1)
    return s.replace(search, "") if search else s


@builtin("removeFirstOccurence", on="text", aliases=("removeFirstOccurrence",),
         doc="without the first occurrence of `search`")
def _remove_first(s, search):
    search = text_arg(search, "removeFirstOccurence", 1)
    return s.replace(search, "", 1) if search else s


@builtin("removeLastOccurence", on="text", aliases=("removeLastOccurrence",),
         doc="without the last occurrence of `search`")
def _remove_last(s, search):
    search = text_arg(search, "removeLastOccurence", 1)
    i = s.rfind(search) if search else -1
    return s if i < 0 else s[:i] + s[i + len(search):]


@builtin("replaceAll", on="text",
         doc="every match of the regular expression `search` replaced ($1 for groups); with "
             "true as third value, `search` is plain text")
def _replace_all(s, search, replacement, plain=False):
    search = text_arg(search, "replaceAll", 1)
    replacement = text_arg(replacement, "replaceAll", 2) if replacement is not None else ""
    if plain is True or (search and _REGEX_SYNTAX.isdisjoint(search) and "$" not in replacement
                         and "\\" not in replacement):  # letters only: they match themselves
        return _replace_plain(s, search, replacement)
    return _substitute("replaceAll", s, _regex(search, "replaceAll"), replacement)


_REGEX_SYNTAX = frozenset("\\.^$*+?{}[]|()")


def _replace_plain(s: str, search: str, replacement: str, count: int = -1) -> str:
    """str.replace, measured first: its result's length is known before it is built."""
    found = (len(s) + 1 if not search else s.count(search))
    if count >= 0:
        found = min(found, count)
    check_text(len(s) + found * (len(replacement) - len(search)))
    return s.replace(search, replacement, count)


@builtin("replaceAllIgnoreCase", on="text", doc="replaceAll, ignoring letter case")
def _replace_all_ic(s, search, replacement, plain=False):
    search = text_arg(search, "replaceAllIgnoreCase", 1)
    replacement = text_arg(replacement, "replaceAllIgnoreCase", 2) if replacement is not None \
        else ""
    if plain is True:
        return _substitute("replaceAllIgnoreCase", s, _regex(re.escape(search),
                                                             "replaceAllIgnoreCase", re.I),
                           replacement, literal=True)
    return _substitute("replaceAllIgnoreCase", s,
                       _regex(search, "replaceAllIgnoreCase", re.I), replacement)


@builtin("replaceFirst", on="text", doc="the first match of `search` replaced")
def _replace_first(s, search, replacement, plain=False):
    search = text_arg(search, "replaceFirst", 1)
    replacement = text_arg(replacement, "replaceFirst", 2) if replacement is not None else ""
    if plain is True:
        return _replace_plain(s, search, replacement, 1)
    return _substitute("replaceFirst", s, _regex(search, "replaceFirst"), replacement, count=1)


@builtin("replaceFirstIgnoreCase", on="text", doc="replaceFirst, ignoring letter case")
def _replace_first_ic(s, search, replacement, plain=False):
    search = text_arg(search, "replaceFirstIgnoreCase", 1)
    replacement = text_arg(replacement, "replaceFirstIgnoreCase", 2) if replacement is not None \
        else ""
    if plain is True:
        return _substitute("replaceFirstIgnoreCase", s,
                           _regex(re.escape(search), "replaceFirstIgnoreCase", re.I),
                           replacement, count=1, literal=True)
    return _substitute("replaceFirstIgnoreCase", s,
                       _regex(search, "replaceFirstIgnoreCase", re.I), replacement, count=1)


@builtin("matches", on="text", doc="true when the whole text matches the regular expression")
def _matches(s, pattern):
    pattern = _regex(text_arg(pattern, "matches", 1), "matches")
    return _timed(pattern.fullmatch, s) is not None


@builtin("left", on="text",
         doc="the first n characters; a negative n gives the whole text, an n past its length "
             "is an error")
def _left(s, n):
    n = int_arg(n, "left", 1)
    if n > len(s):
        raise DelugeError(f"left: {n} is more than the {len(s)} characters of the text")
    return s if n < 0 else s[:n]


@builtin("right", on="text",
         doc="the last n characters; a negative n, or one past the text's length, is an error")
def _right(s, n):
    n = int_arg(n, "right", 1)
    if n < 0:
        raise DelugeError(f"right: {n} is negative")
    if n > len(s):
        raise DelugeError(f"right: {n} is more than the {len(s)} characters of the text")
    return s[len(s) - n:] if n else ""


@builtin("leftpad", on="text", aliases=("leftPad",),
         doc="padded on the left to length n (with spaces, or the given character)")
def _leftpad(s, n, pad=" "):
    n = int_arg(n, "leftpad", 1)
    check_text(n)
    pad = text_arg(pad, "leftpad", 2) or " "
    return s.rjust(n, pad[0])


@builtin("rightpad", on="text", aliases=("rightPad",),
         doc="padded on the right to length n (with spaces, or the given character)")
def _rightpad(s, n, pad=" "):
    n = int_arg(n, "rightpad", 1)
    check_text(n)
    pad = text_arg(pad, "rightpad", 2) or " "
    return s.ljust(n, pad[0])


@builtin("repeat", on="text", doc="the text n times over")
def _repeat(s, n):
    n = int_arg(n, "repeat", 1)
    if n < 0:
        raise DelugeError(f"repeat: {n} is negative")
    check_text(len(s) * n)
    return s * n


@builtin("reverse", on="text", doc="the characters in reverse order")
def _reverse(s):
    return s[::-1]


@builtin("concat", on="text", doc="the text followed by another")
def _concat(s, other):
    if other is None:
        return s
    other = to_text(other)
    check_text(len(s) + len(other))
    return s + other


@builtin("isAscii", on="text", doc="true when every character is ASCII")
def _is_ascii(s):
    return s.isascii()


@builtin("textToHex", on="text", doc="the UTF-8 bytes in hexadecimal")
def _text_to_hex(s):
    return s.encode("utf-8").hex()


@builtin("hexToText", on="text", doc="text from hexadecimal UTF-8 bytes")
def _hex_to_text(s):
    try:
        return bytes.fromhex(s).decode("utf-8")
    except ValueError:
        raise DelugeError(f"hexToText: {s[:40]!r} is not hexadecimal UTF-8") from None


@builtin("toList", on="text",
         doc="split at a separator (default \",\"; \"\" gives characters); JSON array text "
             "with no separator gives its elements")
def _to_list(s, separator=None):
    if separator is None:
        stripped = s.strip()
        if stripped.startswith("["):
            value = _parse_json(stripped, "toList")
            if isinstance(value, list):
                return value
        separator = ","
    separator = text_arg(separator, "toList", 1)
    count = len(s) if separator == "" else s.count(separator) + 1
    check_collection(count, count)  # before the list is made
    return list(s) if separator == "" else s.split(separator)


def _parse_json(text: str, fn: str):
    try:
        return from_lenient_json(text)
    except ValueError as e:
        raise DelugeError(f"{fn}: the text is not valid JSON ({e})") from None


def _to_long(s: str, fn: str) -> int:
    text = s.strip()
    try:
        if text.lstrip("+-").isdigit():
            value = int(text)
        else:
            value = int(float(text))  # "12.7" -> 12: towards zero, as toLong does
    except (ValueError, OverflowError):
        raise DelugeError(f"{fn}: {s!r} is not a number") from None
    if not MIN_NUMBER <= value <= MAX_NUMBER:
        raise DelugeError(f"{fn}: {s!r} does not fit in a 64-bit NUMBER")
    return value


@builtin("toLong", on="text", aliases=("toNumber", "toInt", "toBigInt"),
         doc="the whole number the text spells (a fraction is cut off)")
def _text_to_long(s):
    return _to_long(s, "toLong")


@builtin("toDecimal", on="text", doc="the decimal number the text spells")
def _text_to_decimal(s):
    try:
        value = float(s.strip())
    except ValueError:
        raise DelugeError(f"toDecimal: {s!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise DelugeError(f"toDecimal: {s!r} is not a finite number")
    return value


@builtin("toMap", on="text",
         doc="the map a JSON object text describes (keys and texts may go without quotes, or "
             "in single quotes)")
def _text_to_map(s):
    if not s.strip():
        return {}
    value = _parse_json(s, "toMap")
    if not isinstance(value, dict):
        raise DelugeError("toMap: the JSON text is not an object {...}")
    return value


@builtin("toJSONList", on="text", aliases=("toListString",),
         doc="the elements of a JSON array text (objects and arrays as JSON text)")
def _to_json_list(s):
    value = _parse_json(s, "toJSONList")
    if not isinstance(value, list):
        raise DelugeError("toJSONList: the JSON text is not an array [...]")
    from ..values import json_text

    return [json_text(v) if isinstance(v, (dict, list)) else to_text(v) for v in value]
