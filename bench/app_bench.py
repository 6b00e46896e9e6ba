"""Calls across the files of an app cost what calls inside one file cost.

The same recursive program runs twice: once with its two functions in one file, once with each
in a file of its own (a call to the other goes through `standalone.` / `thisapp.`). Both
compile into one program (runtime.app), so the ratio of their times should be 1.0; a Python
twin shows where both stand. Also the start of `sluice run` of a script whose app has 40 files
(cached code: every file is read and hashed, none parsed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EVEN = """int evenSteps(int n)
{
    if (n <= 0) { return 0; }
    return 1 + {call_odd}(n - 1);
}
"""
ODD = """int oddSteps(int n)
{
    if (n <= 0) { return 0; }
    return 1 + {call_even}(n - 1);
}
"""
BODY = """total = 0;
for each index i in items { total = total + {call_even}(30); }
return total;
"""


def twin(items: int) -> int:
    def even(n):
        return 0 if n <= 0 else 1 + odd(n - 1)

    def odd(n):
        return 0 if n <= 0 else 1 + even(n - 1)

    return sum(even(30) for _ in range(items))


def _sources(folder: Path, split: bool) -> Path:
    if split:
        (folder / "even.dg").write_text(EVEN.replace("{call_odd}", "standalone.oddSteps"))
        (folder / "odd.dg").write_text(ODD.replace("{call_even}", "thisapp.evenSteps"))
        main = BODY.replace("{call_even}", "standalone.evenSteps")
    else:
        main = EVEN.replace("{call_odd}", "oddSteps") + ODD.replace("{call_even}", "evenSteps") \
            + BODY.replace("{call_even}", "evenSteps")
    (folder / "main.dg").write_text(main)
    return folder / "main.dg"


def cross_file_calls(items: int = 3000, rounds: int = 15) -> dict:
    import runtime
    from sluice.app import app_of

    engine = runtime.Runtime(limits=runtime.Limits(statements=0, time=0))
    runs = {}
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        for name, folder, split in (("one file", one, False), ("two files", two, True)):
            path = _sources(Path(folder), split)
            source, app = path.read_text(), app_of(str(path))
            args = {"items": [0] * items}
            first = engine.run(source, args, filename=str(path), app=app)
            assert first.ok and first.value == twin(items), first
            runs[name] = (source, str(path), app, args)
        times = {name: [] for name in runs}
        times["python"] = []
        for _ in range(rounds):
            for name, (source, path, app, args) in runs.items():
                start = time.perf_counter()
                engine.run(source, args, filename=path, app=app)
                times[name].append(time.perf_counter() - start)
            start = time.perf_counter()
            twin(items)
            times["python"].append(time.perf_counter() - start)
    best = {name: min(t) for name, t in times.items()}
    return {"calls": items * 31, "one_s": best["one file"], "two_s": best["two files"],
            "python_s": best["python"], "ratio": best["two files"] / best["one file"]}


def startup_with_app(files: int = 40, rounds: int = 7) -> dict:
    """Median wall time of `sluice run` (cached) of a script alone, and beside `files` others."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as alone, tempfile.TemporaryDirectory() as crowded, \
            tempfile.TemporaryDirectory() as cache:
        env["SLUICE_CACHE_DIR"] = cache
        for folder in (alone, crowded):
            Path(folder, "main.dg").write_text("return 1;\n")
        for i in range(files):
            Path(crowded, f"f{i}.dg").write_text(
                "".join(f"int f{i}x{j}(int n)\n{{\n    return n + {j};\n}}\n" for j in range(5)))
        Path(crowded, "main.dg").write_text("return standalone.f3x2(1);\n")
        commands = {name: [sys.executable, "-m", "sluice", "run", str(Path(folder, "main.dg"))]
                    for name, folder in (("alone", alone), ("app", crowded))}
        for command in commands.values():
            subprocess.run(command, env=env, check=True, capture_output=True)  # fills the cache
        times = {name: [] for name in commands}
        for _ in range(rounds):  # interleaved, so a busy moment costs both alike
            for name, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, env=env, check=True, capture_output=True)
                times[name].append(time.perf_counter() - start)
        out = {name: sorted(t)[len(t) // 2] for name, t in times.items()}
    return {"files": files, "alone_ms": out["alone"] * 1e3, "app_ms": out["app"] * 1e3}


if __name__ == "__main__":
    r = cross_file_calls()
    print(f"app: {r['calls']:,} recursive calls, two functions in one file "
          f"{r['one_s'] * 1e3:.1f} ms, in two files {r['two_s'] * 1e3:.1f} ms: "
          f"{r['ratio']:.2f}x (target 1.0); python {r['python_s'] * 1e3:.1f} ms")
    s = startup_with_app()
    print(f"app: `sluice run` (cached) of a script alone {s['alone_ms']:.0f} ms, in an app of "
          f"{s['files']} files {s['app_ms']:.0f} ms (median)")
