"""Runtime benchmarks: Deluge programs beside plain-Python twins doing the same work.

Each Deluge program runs through `runtime` (compiled once, then timed on a warm Runtime, limits
lifted); its twin is what a Python programmer would write for the same result. The ratio is
Sluice time / Python time, best of interleaved rounds, in CPU time of this process (the programs
are single-threaded: on a machine shared with others, wall time mostly measures the others). Both sides check they computed the same
answer, so neither can be faster by doing less.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.parse_bench import fresh_process_env  # noqa: E402

# ---------------------------------------------------------------------------- the programs

ARITHMETIC = """
total = 0;
hits = 0;
for each index i in items {
    total = total + i * i % 7;
    if (total > 1000000) {
        total = total - 1000000;
        hits = hits + 1;
    }
}
return total + hits;
"""


def arithmetic_py(items):
    total = 0
    hits = 0
    for i in range(len(items)):
        total = total + i * i % 7
        if total > 1000000:
            total = total - 1000000
            hits = hits + 1
    return total + hits


TEXT = """
out = "";
for each index i in items {
    name = "row" + i;
    if (name.endsWith("7")) {
        out = out + name.toUpperCase() + ";";
    } else {
        out = out + name + ",";
    }
}
return out.length() + out.indexOf("ROW77");
"""


def text_py(items):
    out = ""
    for i in range(len(items)):
        name = "row" + str(i)
        if name.endswith("7"):  # += : CPython then grows the text in place
            out += name.upper() + ";"
        else:
            out += name + ","
    return len(out) + out.find("ROW77")


COLLECTIONS = """
rows = List();
for each index i in items {
    rows.add({"id": i, "group": "g" + i % 10, "value": i * 3});
}
totals = Map();
for each row in rows {
    g = row.get("group");
    totals.put(g, ifnull(totals.get(g), 0) + row.get("value"));
}
big = List();
for each k in totals.keys() {
    if (totals.get(k) > 1000) { big.add(k); }
}
return big.size() + rows.size() + totals.get("g3");
"""


def collections_py(items):
    rows = []
    for i in range(len(items)):
        rows.append({"id": i, "group": "g" + str(i % 10), "value": i * 3})
    totals = {}
    for row in rows:
        g = row.get("group")
        current = totals.get(g)
        totals[g] = (current if current is not None else 0) + row.get("value")
    big = []
    for k in list(totals):
        if totals.get(k) > 1000:
            big.append(k)
    return len(big) + len(rows) + totals.get("g3")


JSON = """
count = 0;
for each index i in items {
    record = {"id": i, "name": "item " + i, "tags": {"a", "b"}, "price": 2.5, "ok": true};
    text = record.toString();
    back = text.toMap();
    count = count + back.get("tags").size() + back.get("id");
}
return count;
"""


def json_py(items):
    count = 0
    for i in range(len(items)):
        record = {"id": i, "name": "item " + str(i), "tags": ["a", "b"], "price": 2.5, "ok": True}
        text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        back = json.loads(text)
        count = count + len(back.get("tags")) + back.get("id")
    return count


RECURSION = """
int fib(int n)
{
    if (n < 2) { return n; }
    return fib(n - 1) + fib(n - 2);
}
return fib(depth);
"""


def recursion_py(depth):
    def fib(n):
        if n < 2:
            return n
        return fib(n - 1) + fib(n - 2)

    return fib(depth)


CALLS = """
int clamp(int x, int low, int high)
{
    return if(x < low, low, if(x > high, high, x));
}
int scale(int x)
{
    return x * 3 + 1;
}
total = 0;
for each index i in items { total = total + clamp(scale(i), 10, 500); }
return total;
"""


def calls_py(items):
    def clamp(x, low, high):
        return low if x < low else (high if x > high else x)

    def scale(x):
        return x * 3 + 1

    total = 0
    for i in range(len(items)):
        total = total + clamp(scale(i), 10, 500)
    return total


RECORDS = """
statuses = {"New", "Won", "Lost", "Open"};
records = List();
for each index i in items {
    records.add({"id": i, "name": "Deal " + i, "owner": "user" + i % 7,
                 "status": statuses.get(i % 4), "amount": i % 1000 + 0.5});
}
byOwner = Map();
for each r in records {
    if (r.get("status") != "Lost" && r.get("amount") > 100) {
        owner = r.get("owner");
        if (!byOwner.containKey(owner)) { byOwner.put(owner, List()); }
        byOwner.get(owner).add(r);
    }
}
lines = List();
for each owner in byOwner.keys().sort() {
    deals = byOwner.get(owner);
    total = 0.0;
    for each d in deals { total = total + d.get("amount"); }
    lines.add(owner + ": " + deals.size() + " deals, " + total.round(2) + " (" +
              deals.get(0).get("name").toUpperCase() + ")");
}
return lines.size() + lines.get(0).length();
"""


def records_py(items):
    statuses = ["New", "Won", "Lost", "Open"]
    records = []
    for i in range(len(items)):
        records.append({"id": i, "name": "Deal " + str(i), "owner": "user" + str(i % 7),
                        "status": statuses[i % 4], "amount": i % 1000 + 0.5})
    by_owner = {}
    for r in records:
        if r.get("status") != "Lost" and r.get("amount") > 100:
            owner = r.get("owner")
            if owner not in by_owner:
                by_owner[owner] = []
            by_owner[owner].append(r)
    lines = []
    for owner in sorted(by_owner):
        deals = by_owner[owner]
        total = 0.0
        for d in deals:
            total = total + d.get("amount")
        lines.append(owner + ": " + str(len(deals)) + " deals, " + str(round(total, 2)) + " ("
                     + deals[0].get("name").upper() + ")")
    return len(lines) + len(lines[0])


LOOKUPS = """
prices = Map();
for each index i in items {
    if (i % 2 == 0) { prices.put("sku" + i, i); }
}
found = 0;
missing = 0;
for each index i in items {
    key = "sku" + i;
    price = prices.get(key);
    if (price == null) { missing = missing + 1; } else { found = found + price; }
    if (prices.containKey("sku" + (i + 1))) { found = found + 1; }
}
return found + missing;
"""


def lookups_py(items):
    prices = {}
    for i in range(len(items)):
        if i % 2 == 0:
            prices["sku" + str(i)] = i
    found = 0
    missing = 0
    for i in range(len(items)):
        key = "sku" + str(i)
        price = prices.get(key)
        if price is None:
            missing = missing + 1
        else:
            found = found + price
        if "sku" + str(i + 1) in prices:
            found = found + 1
    return found + missing


TEXT_METHODS = """
count = 0;
for each index i in items {
    line = "  Name-" + i + " , Email-user" + i + "@Example.com  ";
    clean = line.trim().toLowerCase();
    at = clean.indexOf("@");
    user = clean.subString(clean.indexOf("email-") + 6, at);
    if (clean.contains("name-1") || user.startsWith("user2")) { count = count + 1; }
    count = count + clean.replaceAll("-", "_").length() + user.length();
}
return count;
"""


def text_methods_py(items):
    count = 0
    for i in range(len(items)):
        line = "  Name-" + str(i) + " , Email-user" + str(i) + "@Example.com  "
        clean = line.strip().lower()
        at = clean.find("@")
        user = clean[clean.find("email-") + 6:at]
        if "name-1" in clean or user.startswith("user2"):
            count = count + 1
        count = count + len(clean.replace("-", "_")) + len(user)
    return count


DATES = """
start = '01-Jan-2024';
days = 0;
label = "";
for each index i in items {
    d = start.addDay(i % 400);
    days = days + start.daysBetween(d);
    if (d.getDay() == 1) { label = d.toString("yyyy-MM-dd"); }
}
return days + label.length();
"""


def dates_py(items):
    start = datetime.date(2024, 1, 1)
    days = 0
    label = ""
    for i in range(len(items)):
        d = start + datetime.timedelta(days=i % 400)
        days = days + (d - start).days
        if d.day == 1:
            label = d.strftime("%Y-%m-%d")
    return days + len(label)


PROGRAMS = [
    # name, Deluge source, Python twin, arguments
    ("arithmetic loop", ARITHMETIC, arithmetic_py, {"items": 100_000}),
    ("text building", TEXT, text_py, {"items": 40_000}),
    ("lists and maps", COLLECTIONS, collections_py, {"items": 40_000}),
    ("JSON round trips", JSON, json_py, {"items": 10_000}),
    ("function calls", CALLS, calls_py, {"items": 100_000}),
    ("recursion", RECURSION, recursion_py, {"depth": 22}),
    ("record shaping", RECORDS, records_py, {"items": 20_000}),
    ("map lookups", LOOKUPS, lookups_py, {"items": 40_000}),
    ("text methods", TEXT_METHODS, text_methods_py, {"items": 20_000}),
    ("date arithmetic", DATES, dates_py, {"items": 20_000}),
]


def _arguments(spec: dict) -> dict:
    """`items` is a list of that many elements (Deluge's only way to count); others as given."""
    return {k: ([0] * v if k == "items" else v) for k, v in spec.items()}


def programs(rounds: int = 9) -> list[dict]:
    import runtime

    # every limit on but the count of statements (these programs run millions)
    rt = runtime.Runtime(limits=runtime.Limits(statements=0))
    out = []
    for name, source, twin, spec in PROGRAMS:
        args = _arguments(spec)
        first = rt.run(source, args)  # compiles, and checks both sides agree
        if not first.ok:
            raise RuntimeError(f"{name}: {first.error.render()}")
        expected = twin(**args)
        if first.value != expected:
            raise RuntimeError(f"{name}: Sluice gave {first.value!r}, Python {expected!r}")
        ours, theirs = [], []
        for _ in range(rounds):
            start = time.process_time()
            rt.run(source, args)
            ours.append(time.process_time() - start)
            start = time.process_time()
            twin(**args)
            theirs.append(time.process_time() - start)
        out.append({"name": name, "sluice_s": min(ours), "python_s": min(theirs),
                    "ratio": min(ours) / min(theirs)})
    return out


MANY_MAPS = """
rows = List();
for each index i in items {
    rows.add({"id": i, "name": "row " + i, "score": i % 100, "active": i % 2 == 0});
}
return rows;
"""


def many_maps_py(items):
    rows = []
    for i in range(len(items)):
        rows.append({"id": i, "name": "row " + str(i), "score": i % 100, "active": i % 2 == 0})
    return rows


def memory(count: int = 100_000) -> dict:
    """Peak memory (tracemalloc) of a script that builds and returns a list of `count` maps,
    against its Python twin; the run's size limits on (they count elements as they are added,
    never walking what is held)."""
    import tracemalloc

    import runtime

    rt = runtime.Runtime(limits=runtime.Limits(statements=0))
    args = _arguments({"items": count})
    rt.run(MANY_MAPS, {"items": [0]})  # compiled before measuring
    peaks = {}
    for side, work in (("sluice", lambda: rt.run(MANY_MAPS, args).value),
                       ("python", lambda: many_maps_py(**args))):
        tracemalloc.start()
        held = work()
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert len(held) == count
        peaks[side] = (current, peak)
        del held
    return {"count": count, "sluice_bytes": peaks["sluice"][1], "python_bytes": peaks["python"][1],
            "sluice_held": peaks["sluice"][0], "python_held": peaks["python"][0],
            "ratio": peaks["sluice"][1] / peaks["python"][1]}


def geometric_mean(values) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


# ---------------------------------------------------------------------------- start-up, compile


def startup(rounds: int = 20) -> dict:
    """Wall time of `sluice run` on a one-line script (a new process each time), against
    `python -c pass` (the interpreter's own start) in the same rounds, interleaved: once as a
    script runs the first time (parsed and compiled), then as it runs again (its code cached).
    The ratio is of the medians (and of the minimums, the machine's noise taken out)."""
    cache = tempfile.mkdtemp(prefix="sluice-bench-")
    script = Path(cache) / "one.dg"
    script.write_text('info "hi";\n')
    env = fresh_process_env(cache)
    command = [sys.executable, "-m", "sluice", "run", str(script)]
    subprocess.run([sys.executable, "-c", "import sluice.cli, runtime, dsl; dsl.parse('x=1;')"],
                   env=env, check=True)  # the grammar's tables and Python's bytecode cached
    first = []
    for i in range(rounds):
        script.write_text(f'info "hi {i}";\n')  # a new script each time: nothing cached
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        first.append(time.perf_counter() - start)
    ours, bare = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        bare.append(time.perf_counter() - start)
    median = statistics.median
    return {"sluice_ms": median(ours) * 1e3, "python_ms": median(bare) * 1e3,
            "first_ms": median(first) * 1e3, "sluice_min_ms": min(ours) * 1e3,
            "python_min_ms": min(bare) * 1e3, "ratio": median(ours) / median(bare),
            "ratio_min": min(ours) / min(bare)}


def _thousand_lines() -> str:
    from bench.parse_bench import generate

    return generate(1000)[0]


def compile_time(rounds: int = 5) -> dict:
    """Parse + compile a 1,000-line script (no cache), and the overhead of re-running a small
    cached script (its run time minus the same work done in plain Python)."""
    import dsl
    import runtime
    from runtime.compile import compile_script

    source = _thousand_lines()
    lines = source.count("\n")
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        compile_script(dsl.parse(source), source).make()
        best = min(best, time.perf_counter() - start)
    rt = runtime.Runtime()
    small = "x = 1;\nreturn x + 1;\n"
    rt.run(small)
    rerun = float("inf")
    for _ in range(200):
        start = time.perf_counter()
        rt.run(small)
        rerun = min(rerun, time.perf_counter() - start)
    return {"lines": lines, "compile_ms": best * 1e3, "rerun_ms": rerun * 1e3}
