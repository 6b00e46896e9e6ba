"""Value semantics against a small reference model: each property runs a Deluge script (through
the whole pipeline) on generated arguments and compares with what the model says."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runtime
from runtime.values import MAX_NUMBER, MIN_NUMBER

RT = runtime.Runtime()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

numbers = st.integers(MIN_NUMBER, MAX_NUMBER)
small = st.integers(-10**6, 10**6)
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
plain_texts = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=0x24f),
                      max_size=15)
json_scalars = st.one_of(st.none(), st.booleans(), small, texts,
                         st.floats(allow_nan=False, allow_infinity=False, width=64))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(plain_texts, inner, max_size=4)), max_leaves=12)


def run(source: str, **args):
    result = RT.run(source, args)
    return result


def value(source: str, **args):
    result = run(source, **args)
    assert result.ok, result.error.render()
    return result.value


def error(source: str, **args) -> str:
    result = run(source, **args)
    assert not result.ok, f"expected an error, got {result.value!r}"
    return result.error.message


# ---------------------------------------------------------------------------- numbers


@SETTINGS
@given(numbers, numbers, st.sampled_from(["+", "-", "*"]))
def test_integer_arithmetic_is_exact_or_overflows(a, b, op):
    exact = {"+": a + b, "-": a - b, "*": a * b}[op]
    if MIN_NUMBER <= exact <= MAX_NUMBER:
        assert value(f"return a {op} b;", a=a, b=b) == exact
    else:
        assert "Number overflow" in error(f"return a {op} b;", a=a, b=b)


@SETTINGS
@given(numbers, numbers.filter(lambda n: n != 0))
def test_division_truncates_toward_zero_and_remainder_follows_the_dividend(a, b):
    q = value("return a / b;", a=a, b=b) if not (a == MIN_NUMBER and b == -1) else None
    if q is not None:
        assert q * b + value("return a % b;", a=a, b=b) == a
        assert abs(q) == abs(a) // abs(b)
        r = value("return a % b;", a=a, b=b)
        assert r == 0 or (r > 0) == (a > 0)


@SETTINGS
@given(small, st.floats(-1e6, 1e6, allow_nan=False))
def test_number_with_decimal_gives_decimal(a, x):
    result = value("return a + x;", a=a, x=x)
    assert type(result) is float and math.isclose(result, a + x, rel_tol=1e-12, abs_tol=1e-9)


@SETTINGS
@given(st.floats(-1e9, 1e9, allow_nan=False), st.integers(0, 6))
def test_round_is_half_away_from_zero(x, places):
    from decimal import ROUND_HALF_UP, Decimal

    expected = Decimal(repr(x)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    got = value("return x.round(n);", x=x, n=places)
    assert got == (int(expected) if places == 0 else float(expected))


@SETTINGS
@given(numbers, numbers)
def test_number_order_and_equality_agree_with_python(a, b):
    assert value("return {a < b, a <= b, a == b, a != b, a > b, a >= b};", a=a, b=b) == \
        [a < b, a <= b, a == b, a != b, a > b, a >= b]


# ---------------------------------------------------------------------------- text


@SETTINGS
@given(texts, texts)
def test_text_functions_agree_with_python(s, t):
    got = value("return {s.length(), s.toUpperCase(), s.toLowerCase(), s.contains(t), "
                "s.startsWith(t), s.endsWith(t), s.indexOf(t), s.lastIndexOf(t), s.reverse(), "
                "s + t, s.replaceAll(t, \"#\", true)};", s=s, t=t)
    assert got == [len(s), s.upper(), s.lower(), t in s, s.startswith(t), s.endswith(t),
                   s.find(t), s.rfind(t), s[::-1], s + t, s.replace(t, "#")]


@SETTINGS
@given(texts, st.data())
def test_substring_is_slicing_within_range(s, data):
    start = data.draw(st.integers(0, len(s)))
    end = data.draw(st.integers(start, len(s)))
    assert value("return s.subString(a, b);", s=s, a=start, b=end) == s[start:end]
    assert "out of range" in error("return s.subString(0, b);", s=s, b=len(s) + 1)


@SETTINGS
@given(texts, st.sampled_from([",", ";", "|", "::", " "]))
def test_to_list_splits_on_the_separator(s, sep):
    assert value("return s.toList(sep);", s=s, sep=sep) == s.split(sep)


@SETTINGS
@given(texts)
def test_trim_removes_what_java_trim_removes(s):
    assert value("return s.trim();", s=s) == s.strip("".join(map(chr, range(33))))


@SETTINGS
@given(texts, small)
def test_text_plus_anything_is_concatenation(s, n):
    assert value('return s + n + null + true;', s=s, n=n) == f"{s}{n}true"


# ---------------------------------------------------------------------------- lists and maps


@SETTINGS
@given(st.lists(small, max_size=20), st.lists(st.sampled_from(["add", "remove", "insert"]),
                                               max_size=20), st.data())
def test_list_operations_agree_with_a_model(initial, ops, data):
    model = list(initial)
    script = ["l = List();", "for each x in start { l.add(x); }"]
    for op in ops:
        if op == "add":
            n = data.draw(small)
            script.append(f"l.add({n});")
            model.append(n)
        elif op == "remove" and model:
            i = data.draw(st.integers(0, len(model) - 1))
            script.append(f"l.remove({i});")
            model.pop(i)
        elif op == "insert":
            i = data.draw(st.integers(0, len(model)))
            n = data.draw(small)
            script.append(f"l.insert({i}, {n});")
            model.insert(i, n)
    script.append("return {l, l.size(), l.sort(), l.distinct(), l.contains(7), l.indexOf(7)};")
    got = value("\n".join(script), start=initial)
    distinct = list(dict.fromkeys(model))
    assert got == [model, len(model), sorted(model), distinct, 7 in model,
                   model.index(7) if 7 in model else -1]


@SETTINGS
@given(st.lists(st.tuples(plain_texts, small), max_size=20), st.lists(plain_texts, max_size=5))
def test_map_operations_agree_with_a_dict(puts, removes):
    model: dict = {}
    script = ["m = Map();"]
    for k, v in puts:
        script.append(f'm.put("{k}", {v});')
        model[k] = v
    for k in removes:
        script.append(f'm.remove("{k}");')
        model.pop(k, None)
    script.append("return {m.keys(), m.values(), m.size(), m.get(\"absent-key\")};")
    assert value("\n".join(script)) == [list(model), list(model.values()), len(model), None]


@SETTINGS
@given(st.dictionaries(plain_texts, json_values, max_size=5))
def test_maps_survive_a_json_round_trip(m):
    assert value("return m.toString().toMap() == m;", m=m) is True


@SETTINGS
@given(json_values, json_values)
def test_equality_is_symmetric_and_reflexive(a, b):
    got = value("return {a == b, b == a, a == a, a != b};", a=a, b=b)
    assert got[0] == got[1] and got[2] is True and got[3] == (not got[0])


@SETTINGS
@given(json_values)
def test_any_value_prints_and_never_escapes_as_python(v):
    result = run("info v; info {v}; info {\"k\": v}; return v;", v=v)
    assert result.ok, result.error.render()
    assert len(result.info) == 3


# ---------------------------------------------------------------------------- conditions


@SETTINGS
@given(json_values.filter(lambda v: not isinstance(v, bool)))
def test_only_booleans_are_conditions(v):
    message = error("if (v) { return 1; } return 2;", v=v)
    assert message.startswith("Condition must be a BOOLEAN")


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("right", [True, False])
def test_boolean_operators(left, right):
    assert value("return {a && b, a || b, !a};", a=left, b=right) == \
        [left and right, left or right, not left]


def _reference_from_plain(v):
    """The host-data conversion, element by element: numbers past 64 bits become decimals."""
    if type(v) is int:
        return v if MIN_NUMBER <= v <= MAX_NUMBER else float(v)
    if type(v) is list:
        return [_reference_from_plain(x) for x in v]
    if type(v) is dict:
        return {k: _reference_from_plain(x) for k, x in v.items()}
    return v


host_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), texts, st.floats(allow_nan=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=6),
                            st.dictionaries(plain_texts, inner, max_size=4)), max_leaves=20)


@SETTINGS
@given(host_values)
def test_host_data_converts_as_element_by_element(v):
    from runtime.values import from_plain

    converted = from_plain(v)
    expected = _reference_from_plain(v)
    assert converted == expected
    assert repr(converted) == repr(expected)  # the same types too (True stays True, 2**70 a float)
    if type(v) is list:
        assert converted is not v  # a script's changes never reach the host's list
