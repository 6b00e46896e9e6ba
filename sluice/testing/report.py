"""What a test run leaves for other tools: a JUnit XML file (CI services show it), an LCOV file
(editors and coverage services read it), and the coverage table's rows."""

from __future__ import annotations

import os
import socket
import time
import xml.etree.ElementTree as ET
from collections import defaultdict

from .runner import CaseResult


def junit_xml(results: list[CaseResult], elapsed: float) -> str:
    """JUnit XML: one <testsuite> per test file, one <testcase> per case."""
    suites: dict[str, list[CaseResult]] = defaultdict(list)
    for result in results:
        suites[result.file].append(result)
    failures = sum(not r.passed for r in results)
    root = ET.Element("testsuites", name="sluice test", tests=str(len(results)),
                      failures=str(failures), errors="0", time=f"{elapsed:.3f}")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    for number, (file, members) in enumerate(suites.items()):
        suite = ET.SubElement(
            root, "testsuite", name=os.path.basename(file), tests=str(len(members)),
            failures=str(sum(not r.passed for r in members)), errors="0", skipped="0",
            time=f"{sum(r.duration for r in members):.3f}", timestamp=stamp,
            hostname=socket.gethostname() or "localhost", id=str(number), package=file)
        ET.SubElement(suite, "properties")
        for result in members:
            case = ET.SubElement(suite, "testcase", name=result.name, classname=file,
                                 time=f"{result.duration:.3f}")
            if not result.passed:
                failure = ET.SubElement(case, "failure", message=result.failures[0][:200],
                                        type="AssertionError")
                failure.text = "\n\n".join(result.failures)
            ET.SubElement(case, "system-out").text = "\n".join(result.info)
        ET.SubElement(suite, "system-out")
        ET.SubElement(suite, "system-err")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def coverage_of(results: list[CaseResult]) -> dict[str, tuple[list[int], dict[int, int]]]:
    """script -> (its statement lines, how often each line ran), over every case."""
    lines: dict[str, set[int]] = defaultdict(set)
    hits: dict[str, dict[int, int]] = defaultdict(dict)
    for result in results:
        for script, executable in result.executable.items():
            lines[script].update(executable)
        for script, counts in result.hits.items():
            for line, n in counts.items():
                hits[script][line] = hits[script].get(line, 0) + n
    return {script: (sorted(lines[script]),
                     {line: hits[script].get(line, 0) for line in sorted(lines[script])})
            for script in sorted(lines)}


def coverage_rows(coverage: dict) -> list[tuple[str, int, int, str]]:
    """(script, statement lines, lines run, the lines never run as ranges) per script."""
    rows = []
    for script, (lines, counts) in coverage.items():
        missed = [line for line in lines if not counts[line]]
        rows.append((script, len(lines), len(lines) - len(missed), _ranges(missed)))
    return rows


def lcov(coverage: dict) -> str:
    out = []
    for script, (lines, counts) in coverage.items():
        out += ["TN:", f"SF:{os.path.abspath(script)}"]
        out += [f"DA:{line},{counts[line]}" for line in lines]
        out += [f"LF:{len(lines)}", f"LH:{sum(1 for line in lines if counts[line])}",
                "end_of_record"]
    return "\n".join(out) + "\n"


def _ranges(lines: list[int]) -> str:
    parts, start = [], None
    for n, line in enumerate(lines):
        if start is None:
            start = line
        if n + 1 == len(lines) or lines[n + 1] != line + 1:
            parts.append(str(start) if start == line else f"{start}-{line}")
            start = None
    return ", ".join(parts)
