"""Running test cases: each in its own fake world, many at once in worker processes, with
failures described so a person sees what differs.

    cases, problems = collect(["scripts/"], pattern="lead")
    results = run_cases(cases, jobs=2)
    all(r.passed for r in results)
"""

from __future__ import annotations

import difflib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..files import files_ending
from .spec import SUFFIX, Case, SpecError, load
from .world import KeptMail, ScriptedWeb, ThrowawayCrm, describe, includes, matches, same


@dataclass
class CaseResult:
    id: str
    file: str
    name: str
    passed: bool
    failures: list[str] = field(default_factory=list)
    duration: float = 0.0
    info: list[str] = field(default_factory=list)
    # script path -> {line: times run}; and the lines that can run (for coverage)
    hits: dict[str, dict[int, int]] = field(default_factory=dict)
    executable: dict[str, list[int]] = field(default_factory=dict)
    interactions: list[dict] = field(default_factory=list)  # recorded HTTP, for the cassette


# ---------------------------------------------------------------------------- finding cases


def test_files(paths: list[str]) -> list[Path]:
    """The *.test.toml files named, and those inside the folders named (sorted, each once)."""
    return files_ending(paths, SUFFIX)


def collect(paths: list[str], pattern: str | None = None) -> tuple[list[Case], list[str]]:
    """The cases of the test files under `paths` whose id contains `pattern` (any letter
    case), and the problems of files that cannot be read."""
    cases, problems = [], []
    for path in test_files(paths):
        try:
            found = load(path)
        except SpecError as e:
            problems.append(str(e))
            continue
        cases += [c for c in found if not pattern or pattern.lower() in c.id.lower()]
    return cases, problems


# ---------------------------------------------------------------------------- one case


_engine = None


def _runtime():
    global _engine
    if _engine is None:
        import runtime

        _engine = runtime.Runtime()
    return _engine


def _app_of(script: str):
    """The app of the script under test (sluice.app): its functions' calls reach the others."""
    from ..app import AppError, app_of

    try:
        return app_of(script)
    except AppError as e:
        raise SpecError(str(e)) from None


def run_case(case: Case, *, record: bool = False, coverage: bool = False,
             recorded: list[dict] | None = None) -> CaseResult:
    """Run one case in a world of its own and compare what happened with what it expects.
    `recorded`: the case's interactions from its cassette (read from disk when None)."""
    started = time.monotonic()
    result = CaseResult(id=case.id, file=str(case.file), name=case.name, passed=False)
    try:
        _run(case, result, record, coverage, recorded)
    except SpecError as e:
        result.failures.append(str(e))
    result.passed = not result.failures
    result.duration = time.monotonic() - started
    return result


def _run(case: Case, result: CaseResult, record: bool, coverage: bool,
         recorded: list[dict] | None) -> None:
    import runtime
    from runtime.values import to_plain

    try:
        source = case.script.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise SpecError(f"{case.id}: cannot read {case.script}: {e.strerror or e}") from None
    if case.function:
        source = _calling(source, case)
    try:
        limits = runtime.Limits.parse(case.limits)
    except ValueError as e:
        raise SpecError(f"{case.id}: {e}") from None
    if record:
        recorded = []  # recording answers afresh what the case does not declare
    elif recorded is None:
        recorded = read_cassette(case.cassette).get(case.name, [])
    real = None
    if record:
        from ..adapters.web import ConnectionsWeb

        real = ConnectionsWeb()
    web = ScriptedWeb(case.answers, recorded, real)
    mail = KeptMail()
    crm = ThrowawayCrm(case.crm)
    try:
        clock = (lambda: case.now) if case.now is not None else None
        if case.timezone:
            _check_zone(case)
        services = runtime.Services.standard(timezone=case.timezone, web=web, mail=mail,
                                             crm=crm, clock=clock,
                                             settings=case.settings or None)
        filename = str(case.script)
        tracer = _LineTracer(filename) if coverage else None
        if tracer:
            tracer.start()
        try:
            run = _runtime().run(source, case.arguments, limits=limits, services=services,
                                 filename=filename, app=_app_of(filename))
        finally:
            if tracer:
                tracer.stop()
        records = crm.export() if case.expect.records and crm.problem is None else {}
    finally:
        crm.close()
        if real is not None:
            real.close()
    if crm.problem:
        raise SpecError(f"{case.id}: the CRM data: {crm.problem}")
    result.info = list(run.info)
    result.interactions = web.interactions
    if tracer:
        result.hits = {filename: tracer.hits}
        result.executable = {filename: executable_lines(source, filename, case)}
    result.failures += check(case, run, to_plain(run.value) if run.ok else None, web, mail,
                             records)


def _check_zone(case: Case) -> None:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(case.timezone)
    except Exception:
        raise SpecError(f"{case.id}: timezone {case.timezone!r} is not a time zone name "
                        "(such as Europe/Paris)") from None


def _calling(source: str, case: Case) -> str:
    """The script with a body that calls the case's function with its arguments by name."""
    import dsl

    try:
        script = dsl.parse(source, str(case.script))
    except dsl.DelugeSyntaxError:
        return source  # the run reports the syntax error as the case's failure
    wanted = case.function.lower()
    for f in script.functions:
        full = f"{f.namespace}.{f.name}" if f.namespace else f.name
        if wanted in (f.name.lower(), full.lower()):
            if len(script.functions) != len(script.items):
                raise SpecError(f"{case.id}: {case.script.name} has statements of its own; "
                                "`function` picks a function of a file that only defines "
                                "functions")
            call = f"{full}({', '.join(p.name for p in f.params)})"
            return source.rstrip() + f"\nreturn {call};\n"
    names = ", ".join(f.name for f in script.functions) or "none"
    raise SpecError(f"{case.id}: {case.script.name} defines no function {case.function!r} "
                    f"(it defines: {names})")


# ---------------------------------------------------------------------------- expectations


def check(case: Case, run, value, web: ScriptedWeb, mail: KeptMail, records: dict) -> list[str]:
    """What differs between the run and what the case expects, one message each."""
    from runtime.values import to_text

    expect, out = case.expect, []
    for call in web.unanswered:
        out.append(f"no answer for {call}: declare one in [[case.http]], or record the "
                   "case with `sluice test --record`")
    if expect.error is not None:
        wanted = expect.error
        if run.ok:
            out.append(f"expected an error containing {wanted['message']!r}, but the run "
                       f"returned {_show(value)}")
        else:
            message = run.error.render()
            if wanted["message"].lower() not in message.lower():
                out.append(f"expected an error containing {wanted['message']!r}, got: {message}")
            if wanted["line"] is not None and getattr(run.error, "line", None) != wanted["line"]:
                out.append(f"expected the error on line {wanted['line']}, it was on line "
                           f"{getattr(run.error, 'line', '?')}: {message}")
    elif not run.ok and not web.unanswered:
        out.append(f"the script failed: {run.error.render()}")
    if run.ok:
        if expect.has_return and not _equal(value, expect.value):
            out.append("the return value differs:\n" + diff(expect.value, value))
        if expect.includes is not None and not includes(value, expect.includes):
            out.append("the return value does not hold what was expected:\n" +
                       diff(expect.includes, value))
        if expect.text is not None and to_text(run.value) != expect.text:
            out.append(f"the return value prints as {to_text(run.value)!r}, expected "
                       f"{expect.text!r}")
        if expect.returns_null and value is not None:
            out.append(f"expected null, the run returned {_show(value)}")
    if expect.info is not None and run.info != expect.info:
        out.append("the info lines differ:\n" + diff(expect.info, run.info))
    for fragment in expect.info_contains:
        if not any(fragment in line for line in run.info):
            out.append(f"no info line contains {fragment!r}; the lines were:\n" +
                       "\n".join(f"    {line}" for line in run.info or ["(none)"]))
    if expect.http is not None:
        out += _check_calls(expect.http, web.calls)
    if expect.mails is not None:
        out += _check_mails(expect.mails, mail.sent)
    for module, wanted_records in expect.records.items():
        have = records.get(module, [])
        for wanted in wanted_records:
            if not any(includes(record, wanted) for record in have):
                out.append(f"no {module} record holds {json.dumps(wanted, sort_keys=True)}; "
                           f"the module has {len(have)}:\n" +
                           "\n".join(f"    {json.dumps(r, sort_keys=True, default=str)}"
                                     for r in have[:10]))
    return out


def _check_calls(wanted: list, calls: list[dict]) -> list[str]:
    made = "\n".join(f"    {n}. {describe(c)}" for n, c in enumerate(calls, 1)) or "    (none)"
    if len(wanted) != len(calls):
        return [f"expected {len(wanted)} HTTP call(s), the script made {len(calls)}:\n{made}"]
    return [f"HTTP call {n} was not {m.describe()}:\n{made}"
            for n, (m, call) in enumerate(zip(wanted, calls), 1) if not matches(m, call)]


def _check_mails(wanted: list[dict], sent: list[dict]) -> list[str]:
    shown = "\n".join(f"    {n}. to {', '.join(m['to'])}: {m['subject']!r}"
                      for n, m in enumerate(sent, 1)) or "    (none)"
    if len(wanted) != len(sent):
        return [f"expected {len(wanted)} mail(s), the script sent {len(sent)}:\n{shown}"]
    out = []
    for n, (want, mail) in enumerate(zip(wanted, sent), 1):
        for key, value in want.items():
            if key == "message_contains":
                ok = str(value) in mail["message"]
            elif key in ("to", "cc", "bcc"):
                ok = sorted(value if isinstance(value, list) else [value]) == sorted(mail[key])
            else:
                ok = same(mail.get(key), value)
            if not ok:
                out.append(f"mail {n}: {key} is {mail.get(key, mail.get('message'))!r}, "
                           f"expected {value!r}")
    return out


def _equal(actual, wanted) -> bool:
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return actual is wanted
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and actual.keys() == wanted.keys() and all(
            _equal(actual[k], v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(actual, list) and len(actual) == len(wanted) and all(
            _equal(a, w) for a, w in zip(actual, wanted))
    return actual == wanted


def diff(wanted, actual) -> str:
    """A unified diff of the two values as indented JSON (expected first)."""
    def lines(value):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False,
                          default=str).splitlines()

    return "\n".join("    " + line for line in difflib.unified_diff(
        lines(wanted), lines(actual), "expected", "actual", lineterm=""))


def _show(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:200] + "..."


# ---------------------------------------------------------------------------- coverage


class _LineTracer:
    """Counts the lines run of one script's compiled code (only while on: no cost when off)."""

    def __init__(self, filename: str):
        from runtime.code import FILENAME_PREFIX

        self.prefix = f"{FILENAME_PREFIX}{filename} "
        self.hits: dict[int, int] = {}
        self._previous = None

    def start(self) -> None:
        self._previous = sys.gettrace()
        sys.settrace(self._global)

    def stop(self) -> None:
        sys.settrace(self._previous)

    def _global(self, frame, event, arg):
        if frame.f_code.co_filename.startswith(self.prefix):
            return self._local
        return None

    def _local(self, frame, event, arg):
        if event == "line":
            line = frame.f_lineno
            self.hits[line] = self.hits.get(line, 0) + 1
        return self._local


def executable_lines(source: str, filename: str, case: Case) -> list[int]:
    """The lines of the script's statements (those a run can reach), from its AST."""
    import dsl
    from dsl import ast as A

    try:
        script = dsl.parse(source, filename)
    except dsl.DelugeSyntaxError:
        return []
    limit = len(case.script.read_text(encoding="utf-8-sig").splitlines())
    return sorted({node.span.line for node in A.walk(script.items)  # (no recursion: chains)
                   if isinstance(node, A.Stmt) and 0 < node.span.line <= limit})


# ---------------------------------------------------------------------------- many cases


def run_cases(cases: list[Case], *, jobs: int | None = None, record: bool = False,
              coverage: bool = False, on_result=None) -> list[CaseResult]:
    """Run every case; in worker processes when there are enough to gain from it (recording
    runs here, one at a time, as it talks to real services). Results come in the cases' order;
    `on_result` sees each as it finishes."""
    jobs = jobs or os.cpu_count() or 1
    if record or jobs == 1 or len(cases) < 8:
        results = []
        for case in cases:
            results.append(run_case(case, record=record, coverage=coverage))
            if on_result:
                on_result(results[-1])
        if record:
            save_recordings(cases, results)
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(1, min(50, len(cases) // (jobs * 4)))
    batches = [cases[i:i + chunk] for i in range(0, len(cases), chunk)]
    results: list[CaseResult] = []
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        for batch in pool.map(_run_batch, batches, [coverage] * len(batches)):
            for result in batch:
                results.append(result)
                if on_result:
                    on_result(result)
    return results


def _run_batch(cases: list[Case], coverage: bool) -> list[CaseResult]:
    return [run_case(case, coverage=coverage) for case in cases]


# ---------------------------------------------------------------------------- cassettes


def read_cassette(path: Path) -> dict:
    """case name -> its recorded interactions ({} when there is no cassette)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise SpecError(f"{path}: the cassette cannot be read ({e}); record it again with "
                        "`sluice test --record`") from None
    return data.get("cases", {}) if isinstance(data, dict) else {}


def save_recordings(cases: list[Case], results: list[CaseResult]) -> list[Path]:
    """Write what recording saw into each test file's cassette (other cases' kept)."""
    by_file: dict[Path, dict[str, list]] = {}
    for case, result in zip(cases, results):
        if result.interactions:
            by_file.setdefault(case.cassette, {})[case.name] = result.interactions
    written = []
    for path, recorded in by_file.items():
        cases_now = read_cassette(path)
        cases_now.update(recorded)
        text = json.dumps({"version": 1, "cases": cases_now}, indent=2, ensure_ascii=False,
                          sort_keys=True) + "\n"
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
        written.append(path)
    return written
