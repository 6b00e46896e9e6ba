"""Front-end benchmarks: start-up (import + first parse) and parse throughput.

Each measurement is paired, in the same run, with native Python doing the same work: CPython's
own parser (`ast.parse`, written in C) on an equivalent Python program, and plain Lark (its
LALR parser with tree building and positions) on the same Deluge text. Times are the best of
several interleaved rounds, which is the figure least disturbed by other load on the machine.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Blocks of real-looking Deluge, each with an equivalent Python rendering of about the same size.
BLOCKS = [
    (['m = Map();', 'm.put("name", "Lead " + i);', 'm.put("amount", i * 2 + 1);'],
     ['m = {}', 'm["name"] = "Lead " + str(i)', 'm["amount"] = i * 2 + 1']),
    (['if (m.get("amount") > 100 && !done)', '{', '    info "big: " + m.toString();', '}',
      'else', '{', '    total = total + 1;', '}'],
     ['if m.get("amount") > 100 and not done:', '    print("big: " + str(m))', 'else:',
      '    total = total + 1']),
    (['for each  r in records', '{', '    ids.add(r.get("id").toLong());', '}'],
     ['for r in records:', '    ids.append(int(r.get("id")))']),
    (['resp = invokeurl', '[', '    url :"https://api.example.com/v1/items/" + id',
      '    type :GET', '    connection:"example"', '];'],
     ['resp = invoke(', '    url="https://api.example.com/v1/items/" + id,', '    type="GET",',
      '    connection="example",', ')']),
    (['// a comment about the next line',
      'name = ifnull(rec.get("Name"), "").trim().toLowerCase();'],
     ['# a comment about the next line', 'name = (rec.get("Name") or "").strip().lower()']),
    (['x = {"a": 1, "b": {1, 2, 3}, "c": "text"};'],
     ['x = {"a": 1, "b": [1, 2, 3], "c": "text"}']),
    (['try', '{', '    v = a / b;', '}', 'catch (e)', '{', '    info e;', '}'],
     ['try:', '    v = a / b', 'except Exception as e:', '    print(e)']),
]

SMALL_SCRIPT = '''string standalone.greet(String name)
{
    m = Map();
    m.put("name", name.trim());
    if (m.get("name").isEmpty()) { return "nobody"; }
    return "Hello " + m.get("name");
}
'''
SMALL_PYTHON = '''def greet(name):
    m = {}
    m["name"] = name.strip()
    if not m.get("name"):
        return "nobody"
    return "Hello " + m.get("name")
'''


def generate(lines: int = 5000, seed: int = 1) -> tuple[str, str, int]:
    """A Deluge script of about `lines` lines, and the same blocks written in Python."""
    rnd = random.Random(seed)
    deluge, python = [], []
    while len(deluge) < lines:
        d, p = rnd.choice(BLOCKS)
        deluge.extend(d)
        python.extend(p)
    return "\n".join(deluge) + "\n", "\n".join(python) + "\n", len(deluge)


def fresh_process_env(cache: str) -> dict:
    """The environment of a measured new process: our table cache, and Python's bytecode
    cache on (in a folder of its own), as after `pip install`, which compiles the modules."""
    env = dict(os.environ, SLUICE_CACHE_DIR=cache, PYTHONPATH=str(ROOT),
               PYTHONPYCACHEPREFIX=os.path.join(cache, "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def best_of(fn, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def throughput(rounds: int = 7) -> dict:
    import ast

    import dsl
    from dsl.parser import lark_parser

    deluge, python, lines = generate()
    dsl.parse("x = 1;")  # tables loaded; we measure parsing
    lark = lark_parser(propagate_positions=True)
    times = {"sluice": [], "python": [], "lark": []}
    for _ in range(rounds):  # interleaved, so load on the machine hits all three alike
        times["sluice"].append(best_of(lambda: dsl.parse(deluge), 1))
        times["python"].append(best_of(lambda: ast.parse(python), 1))
        times["lark"].append(best_of(lambda: lark.parse(deluge, start="script"), 1))
    best = {k: min(v) for k, v in times.items()}
    return {
        "lines": lines,
        "sluice_s": best["sluice"],
        "sluice_lines_per_s": lines / best["sluice"],
        "python_ast_s": best["python"],
        "lark_tree_s": best["lark"],
        "vs_python": best["sluice"] / best["python"],
        "vs_lark": best["lark"] / best["sluice"],
    }


_STARTUP = """
import time
t = time.perf_counter()
{imports}
{work}
print(time.perf_counter() - t)
"""


def _fresh_process(imports: str, work: str, env: dict) -> float:
    code = _STARTUP.format(imports=imports, work=work)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, cwd=ROOT)
    return float(out.stdout.strip())


def startup(rounds: int = 9) -> dict:
    """`import dsl` + first parse of a small script, in a new interpreter each time (the table
    cache warm, as after a first run), against `import ast` + `ast.parse` of the same function."""
    cache = tempfile.mkdtemp(prefix="sluice-bench-")
    env = fresh_process_env(cache)
    deluge_work = f"dsl.parse({SMALL_SCRIPT!r})"
    python_work = f"ast.parse({SMALL_PYTHON!r})"
    _fresh_process("import dsl", deluge_work, env)  # fills the cache
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(_fresh_process("import dsl", deluge_work, env))
        theirs.append(_fresh_process("import ast", python_work, env))
    ours.sort()
    theirs.sort()
    return {"sluice_ms": ours[len(ours) // 2] * 1e3, "sluice_best_ms": ours[0] * 1e3,
            "python_ms": theirs[len(theirs) // 2] * 1e3}
