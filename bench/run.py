"""Run the benchmarks and print each result beside what native Python takes for the same work.

    python bench/run.py            # everything
    python bench/run.py parse      # one group

Benchmarks are programs, not tests: they print numbers and check nothing, so a slow machine
never fails a build. Targets are shown beside the numbers.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse_group() -> None:
    from bench import parse_bench

    s = parse_bench.startup()
    print("front end: import dsl + first parse of a small script (fresh process, median)")
    print(f"  sluice {s['sluice_ms']:6.1f} ms   (best {s['sluice_best_ms']:.1f} ms; "
          f"target <= 60 ms)")
    print(f"  python {s['python_ms']:6.1f} ms   (import ast + ast.parse of the same function)")
    t = parse_bench.throughput()
    print(f"front end: parse a generated {t['lines']}-line script (best of interleaved rounds)")
    print(f"  sluice {t['sluice_s'] * 1e3:6.1f} ms = {t['sluice_lines_per_s']:,.0f} lines/s "
          f"(target >= 50,000)")
    print(f"  python {t['python_ast_s'] * 1e3:6.1f} ms   ast.parse of the same program in Python "
          f"(C parser): sluice takes {t['vs_python']:.1f}x")
    print(f"  lark   {t['lark_tree_s'] * 1e3:6.1f} ms   Lark's own LALR parser on the same text "
          f"(tree + positions): sluice is {t['vs_lark']:.1f}x faster")


def runtime_group() -> None:
    from bench import runtime_bench as rb

    results = rb.programs()
    print("runtime: Deluge programs against plain-Python twins (best of interleaved rounds, "
          "CPU time)")
    for r in results:
        print(f"  {r['name']:<18} sluice {r['sluice_s'] * 1e3:8.1f} ms   python "
              f"{r['python_s'] * 1e3:7.1f} ms   {r['ratio']:5.2f}x")
    mean = rb.geometric_mean([r["ratio"] for r in results])
    worst = max(results, key=lambda r: r["ratio"])
    print(f"  geometric mean {mean:.2f}x (target <= 1.5x); worst "
          f"{worst['ratio']:.2f}x, {worst['name']} (target: none above 2x)")
    s = rb.startup()
    print(f"runtime: `sluice run` of a one-line script, new process (median of 20): "
          f"{s['sluice_ms']:.0f} ms, `python -c pass` {s['python_ms']:.0f} ms: "
          f"{s['ratio']:.2f}x (target <= 2.5x); minimums {s['sluice_min_ms']:.0f} / "
          f"{s['python_min_ms']:.0f} ms: {s['ratio_min']:.2f}x; {s['first_ms']:.0f} ms the "
          f"first time (parse and compile)")
    m = rb.memory()
    print(f"runtime: memory of a script holding a list of {m['count']:,} maps (tracemalloc "
          f"peak): {m['sluice_bytes'] / 2**20:.1f} MB, Python {m['python_bytes'] / 2**20:.1f} MB: "
          f"{m['ratio']:.2f}x (target <= 1.5x)")
    c = rb.compile_time()
    print(f"runtime: parse + compile {c['lines']} lines: {c['compile_ms']:.1f} ms "
          f"(target <= 100 ms); cached re-run of a small script: {c['rerun_ms'] * 1000:.0f} us "
          f"(target <= 1 ms)")


def connections_group() -> None:
    from bench import connections_bench as cb

    r = cb.request_overhead()
    print(f"connections: GETs to a loopback server (best of 25 interleaved rounds of "
          f"{r['calls']})")
    print(f"  via an OAuth 2.0 connection {r['oauth_us']:7.0f} us per call   "
          f"{r['oauth_ratio']:.2f}x")
    print(f"  via an API-key connection   {r['key_us']:7.0f} us per call   "
          f"{r['key_ratio']:.2f}x")
    print(f"  plain requests.Session.get  {r['plain_us']:7.0f} us per call   1.00x "
          "(the header set by hand)")
    r = cb.request_overhead_postgres()
    if r is None:
        print("  (the store in PostgreSQL: no server answers at "
              f"{cb.BENCH_DATABASE}; set SLUICE_BENCH_DATABASE_URL)")
    else:
        print(f"  the store in PostgreSQL: OAuth 2.0 {r['oauth_us']:7.0f} us per call   "
              f"{r['oauth_ratio']:.2f}x, API key {r['key_us']:.0f} us   {r['key_ratio']:.2f}x "
              f"(target <= 1.15x; plain {r['plain_us']:.0f} us)")
    r = cb.invokeurl_overhead()
    print(f"invokeurl: {r['calls']:,} calls through an OAuth 2.0 connection in one script "
          f"{r['sluice_s'] * 1e3:.0f} ms; a Python loop over requests.Session "
          f"{r['plain_s'] * 1e3:.0f} ms: {r['ratio']:.2f}x (target <= 1.15x)")


def events_group() -> None:
    from bench import events_bench as eb

    r = eb.events_end_to_end()
    print(f"events: {r['events']:,} events from 8 loopback clients to `sluice serve` "
          f"(stored, run, run stored): {r['per_second']:.0f} events/s end to end "
          f"({r['accept_per_second']:.0f}/s accepted); accepted -> finished p50 "
          f"{r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms; {r['done']:,} done")


def functions_group() -> None:
    from bench import functions_bench as fb

    r = fb.calls_end_to_end()
    print(f"functions: {r['calls']:,} calls of a small published function from 8 loopback "
          f"clients to `sluice serve` (key checked, run, run stored, answered): "
          f"{r['per_second']:.0f} calls/s (target >= 500); p50 {r['p50_ms']:.1f} ms, p99 "
          f"{r['p99_ms']:.1f} ms (target < 100 ms); {r['failures']} failed")
    if r["first_failure"]:
        print(f"  first failure: {r['first_failure']}")


def testing_group() -> None:
    from bench import testing_bench as tb

    r = tb.cases_per_second()
    print(f"sluice test: {r['cases']:,} small cases (HTTP answer, info, return compared) in "
          f"{r['seconds']:.2f} s with start-up: {r['per_second']:.0f} cases/s (target: 1,000 "
          f"in under 10 s)")


def app_group() -> None:
    from bench import app_bench as ab

    r = ab.cross_file_calls()
    print(f"app: {r['calls']:,} recursive calls, two functions in one file "
          f"{r['one_s'] * 1e3:.1f} ms, in two files {r['two_s'] * 1e3:.1f} ms: "
          f"{r['ratio']:.2f}x (target 1.0); python {r['python_s'] * 1e3:.1f} ms")
    s = ab.startup_with_app()
    print(f"app: `sluice run` (cached) of a script alone {s['alone_ms']:.0f} ms, in an app of "
          f"{s['files']} files {s['app_ms']:.0f} ms")


GROUPS = {"parse": parse_group, "runtime": runtime_group, "connections": connections_group,
          "events": events_group, "functions": functions_group, "testing": testing_group,
          "app": app_group}


def main(argv: list[str]) -> int:
    names = argv or list(GROUPS)
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        print(f"unknown benchmark group(s): {', '.join(unknown)}; have {', '.join(GROUPS)}",
              file=sys.stderr)
        return 2
    for name in names:
        GROUPS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
