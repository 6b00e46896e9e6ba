"""`sluice test`: run the cases of *.test.toml files (sluice.testing holds the runner)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .common import EXIT_FAILED, EXIT_OK, UsageError, command_help, plural, write_atomically


def cmd_test(args) -> int:
    from ..testing.report import coverage_of, coverage_rows, junit_xml, lcov
    from ..testing.runner import collect, run_cases

    started = time.monotonic()
    try:
        cases, problems = collect(args.paths or ["."], args.k)
    except FileNotFoundError as e:
        raise UsageError(str(e)) from None
    for problem in problems:
        print(f"ERROR {problem}", file=sys.stderr)
    if not cases and not problems:
        print("no test cases found (files named *.test.toml)")
        return EXIT_FAILED

    def show(result) -> None:
        if args.json:
            return
        mark = "PASS" if result.passed else "FAIL"
        print(f"{mark} {result.id} ({result.duration * 1000:.0f} ms)", flush=True)
        for failure in result.failures:
            print("    " + failure.replace("\n", "\n    "))

    results = run_cases(cases, jobs=args.jobs, record=args.record, coverage=args.coverage,
                        on_result=show)
    elapsed = time.monotonic() - started
    failed = sum(not r.passed for r in results) + len(problems)
    passed = len(results) - sum(not r.passed for r in results)
    coverage = coverage_of(results) if args.coverage else {}
    if args.junit:
        write_atomically(Path(args.junit), junit_xml(results, elapsed))
    if args.coverage:
        write_atomically(Path(args.lcov), lcov(coverage))
    if args.json:
        print(json.dumps({
            "passed": passed, "failed": failed, "seconds": round(elapsed, 3),
            "problems": problems,
            "cases": [{"id": r.id, "file": r.file, "name": r.name, "passed": r.passed,
                       "failures": r.failures, "ms": round(r.duration * 1000, 1)}
                      for r in results],
            "coverage": [{"script": s, "lines": n, "run": hit, "missed": missed}
                         for s, n, hit, missed in coverage_rows(coverage)]}, indent=2))
    else:
        if args.coverage:
            _print_coverage(coverage_rows(coverage), args.lcov)
        if args.record:
            print("recorded the HTTP answers into the cassettes next to the test files")
        print(f"{plural(len(results), 'case')}: {passed} passed, {failed} failed "
              f"({elapsed:.2f} s)")
    return EXIT_FAILED if failed else EXIT_OK


def _print_coverage(rows, lcov_path: str) -> None:
    if not rows:
        return
    width = max(len(r[0]) for r in rows)
    print(f"\n{'script'.ljust(width)}  lines    run  cover  never run")
    for script, lines, run, missed in rows:
        share = f"{100 * run / lines:.0f}%" if lines else "-"
        print(f"{script.ljust(width)}  {lines:5}  {run:5}  {share:>5}  {missed}")
    print(f"(LCOV written to {lcov_path})\n")


def add_parser(sub, name: str = "test") -> None:
    p = sub.add_parser(name, help=command_help(name),
                       description="Run the cases of *.test.toml files: each runs its script "
                                   "with declared or recorded HTTP answers, a throwaway CRM "
                                   "store, kept mail and a frozen clock, and compares the "
                                   "result, info lines, error, HTTP calls, mails and records "
                                   "with what it expects. Nothing reaches the network unless "
                                   "--record. See docs/testing.md.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="test files or folders (default: the current folder)")
    p.add_argument("-k", metavar="PATTERN", help="only cases whose file::name contains this")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    p.add_argument("--coverage", action="store_true",
                   help="report the script lines the cases ran; write an LCOV file")
    p.add_argument("--lcov", metavar="FILE", default="lcov.info",
                   help="where --coverage writes LCOV (default: lcov.info)")
    p.add_argument("--record", action="store_true",
                   help="send the requests no case declares through the real connections "
                        "and keep the answers (secrets scrubbed) in a cassette next to each "
                        "test file")
    p.add_argument("-j", "--jobs", type=int, metavar="N",
                   help="worker processes (default: one per core)")
    p.set_defaults(run=cmd_test)
