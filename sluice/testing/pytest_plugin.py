"""pytest collects `*.test.toml` files: each case is a test item, run by Sluice's runner.

Registered through the package's `pytest11` entry point, so a project with Sluice installed
runs its Deluge tests with plain `pytest`. `-p no:sluice` turns it off."""

from __future__ import annotations

import pytest

from .spec import SUFFIX, SpecError, load


def pytest_collect_file(parent, file_path):
    if file_path.name.endswith(SUFFIX):
        return DelugeTestFile.from_parent(parent, path=file_path)
    return None


class DelugeTestFile(pytest.File):
    def collect(self):
        try:
            cases = load(self.path)
        except SpecError as e:
            raise self.CollectError(str(e)) from None
        for case in cases:
            yield DelugeCase.from_parent(self, name=case.name, case=case)


class DelugeCaseFailed(Exception):
    def __init__(self, failures: list[str]):
        super().__init__("\n".join(failures))
        self.failures = failures


class DelugeCase(pytest.Item):
    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        from .runner import run_case

        result = run_case(self.case)
        if not result.passed:
            raise DelugeCaseFailed(result.failures)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, DelugeCaseFailed):
            return f"{self.case.id}\n" + "\n".join(excinfo.value.failures)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"deluge: {self.case.name}"
