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


GROUPS = {"parse": parse_group}


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
