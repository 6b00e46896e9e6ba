"""`sluice test` as a user runs it: output and exit codes, -k, --json, --junit, --coverage, the
pytest plugin, and record once / replay forever through a real OAuth 2.0 connection."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """\
// shipping: a price by weight band
string standalone.band(int kilos)
{
    if (kilos <= 0)
    {
        throw "no weight";
    }
    if (kilos < 5)
    {
        return "small";
    }
    info "heavy parcel";
    return "large";
}
"""

TESTS = """\
script = "band.dg"

[[case]]
name = "a light parcel is small"
arguments = { kilos = 2 }
[case.expect]
return = "small"

[[case]]
name = "no weight is an error"
arguments = { kilos = 0 }
[case.expect]
error = { line = 6, message = "no weight" }
"""


def write(folder: Path, tests: str = TESTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "band.dg").write_text(SCRIPT)
    (folder / "band.test.toml").write_text(tests)
    return folder


def test_passing_cases_print_a_line_each_and_exit_0(sluice, tmp_path):
    write(tmp_path / "fns")
    done = sluice("test", "fns")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("PASS band.test.toml::a light parcel is small")
    assert lines[1].startswith("PASS band.test.toml::no weight is an error")
    assert lines[-1].startswith("2 cases: 2 passed, 0 failed")


def test_a_failing_case_shows_a_diff_and_exits_1(sluice, tmp_path):
    write(tmp_path / "fns", TESTS.replace('return = "small"', 'return = "tiny"'))
    done = sluice("test", "fns")
    assert done.returncode == 1
    assert "FAIL band.test.toml::a light parcel is small" in done.stdout
    assert '-"tiny"' in done.stdout and '+"small"' in done.stdout
    assert done.stdout.splitlines()[-1].startswith("2 cases: 1 passed, 1 failed")
    assert "Traceback" not in done.stderr


def test_k_json_and_a_broken_file(sluice, tmp_path):
    write(tmp_path / "fns")
    (tmp_path / "fns" / "other.test.toml").write_text("[[case]]\nscript = 'missing.dg'\n")
    done = sluice("test", "fns", "-k", "LIGHT", "--json")
    report = json.loads(done.stdout)
    assert [c["name"] for c in report["cases"]] == ["a light parcel is small"]
    assert report["passed"] == 1 and report["failed"] == 1
    assert "missing.dg does not exist" in report["problems"][0]
    assert done.returncode == 1


def test_no_cases_found_is_a_failure(sluice, tmp_path):
    (tmp_path / "empty").mkdir()
    done = sluice("test", "empty")
    assert done.returncode == 1 and "no test cases found" in done.stdout
    assert sluice("test", "nowhere").returncode == 2


def test_junit_report_has_the_shape_ci_services_read(sluice, tmp_path):
    write(tmp_path / "fns", TESTS.replace('return = "small"', 'return = "tiny"'))
    sluice("test", "fns", "--junit", "report.xml")
    root = ET.parse(tmp_path / "report.xml").getroot()
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "1"
    (suite,) = root.findall("testsuite")
    # the attributes and children the JUnit schema (junit-10.xsd) requires of a testsuite
    for attribute in ("name", "tests", "failures", "errors", "time", "timestamp", "hostname",
                      "id", "package"):
        assert suite.get(attribute) is not None, attribute
    assert [child.tag for child in suite][0] == "properties"
    assert [child.tag for child in suite][-2:] == ["system-out", "system-err"]
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["a light parcel is small", "no weight is an error"]
    failure = cases[0].find("failure")
    assert failure is not None and "tiny" in failure.text and failure.get("message")
    assert cases[1].find("failure") is None
    float(suite.get("time"))


def test_coverage_counts_the_lines_run_by_hand(sluice, tmp_path):
    write(tmp_path / "fns")
    done = sluice("test", "fns", "--coverage", "--lcov", "cov.info")
    assert done.returncode == 0
    # statements: lines 4, 6, 8, 10, 12, 13 (six); the cases run 4, 6 (kilos 0) and 4, 8, 10
    row = next(line for line in done.stdout.splitlines() if "band.dg" in line)
    assert row.split()[1:5] == ["6", "4", "67%", "12-13"]
    lcov = (tmp_path / "cov.info").read_text().splitlines()
    assert lcov[1] == f"SF:{(tmp_path / 'fns' / 'band.dg').resolve()}"
    counts = dict(line[3:].split(",") for line in lcov if line.startswith("DA:"))
    assert counts == {"4": "2", "6": "1", "8": "1", "10": "1", "12": "0", "13": "0"}
    assert "LF:6" in lcov and "LH:4" in lcov and lcov[-1] == "end_of_record"


def test_the_pytest_plugin_collects_the_same_cases(tmp_path):
    write(tmp_path / "fns", TESTS.replace('return = "small"', 'return = "tiny"'))
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "sluice.testing.pytest_plugin",
                           "-q", "-p", "no:cacheprovider", "fns", "-rA"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=120)
    assert "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    assert "band.test.toml::a light parcel is small" in done.stdout
    assert '-"tiny"' in done.stdout


def test_the_example_tests_in_scripts_pass(sluice, tmp_path):
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    done = sluice("test", "scripts")
    assert done.returncode == 0, done.stdout + done.stderr


def test_record_once_then_replay_without_the_network(admin, provider, tmp_path):
    from connect_helpers import CLIENT_SECRET

    admin.sluice("connections", "add-service", "local", "--auth", "oauth2",
                 "--client-id", "sluice-test-client", "--client-secret-env", "APP_SECRET",
                 "--authorize-url", provider.url + "/oauth2/authorize",
                 "--token-url", provider.url + "/oauth2/token",
                 "--api-base-url", provider.url + "/api", "--scope", "read")
    admin.sluice("connections", "create", "crm", "--service", "local")
    tokens = provider.issue_tokens("sluice-test-client", "read")
    admin.sluice("connections", "connect", "crm", "--access-token-env", "AT",
                 "--refresh-token-env", "RT", AT=tokens.access_token, RT=tokens.refresh_token)
    folder = tmp_path / "fns"
    folder.mkdir()
    (folder / "who.dg").write_text(textwrap.dedent("""\
        me = invokeurl [ url: api + "/me" type: GET connection: "crm" ];
        info me.get("user");
        return me.get("user");
        """))
    (folder / "who.test.toml").write_text(textwrap.dedent(f"""\
        script = "who.dg"
        [[case]]
        name = "who am I"
        arguments = {{ api = "{provider.url}/api" }}
        [case.expect]
        return = "alice"
        http = [{{ method = "GET", url = "*/api/me", connection = "crm" }}]
        """))
    replay_first = admin.sluice("test", str(folder), expect=1)
    assert "no answer for GET " + provider.url + "/api/me (connection crm)" in \
        replay_first.stdout
    calls = provider.counts["api"]
    recorded = admin.sluice("test", str(folder), "--record")
    assert "1 passed" in recorded.stdout
    assert provider.counts["api"] == calls + 1
    cassette = (folder / "who.cassette.json").read_text()
    interaction = json.loads(cassette)["cases"]["who am I"][0]
    assert interaction["request"]["url"] == provider.url + "/api/me"
    assert interaction["response"]["status"] == 200
    for secret in [CLIENT_SECRET, tokens.access_token, tokens.refresh_token,
                   *provider.all_secrets()]:
        assert secret not in cassette
    assert "authorization" not in cassette.lower()
    provider.stop()  # replay needs nobody on the other end
    replayed = admin.sluice("test", str(folder))
    assert "1 passed" in replayed.stdout
    for text in admin.printed:
        for secret in [tokens.access_token, tokens.refresh_token]:
            assert secret not in text


def test_the_example_in_docs_testing_md_passes_as_shown(sluice, tmp_path):
    import re

    text = (ROOT / "docs" / "testing.md").read_text()
    blocks = re.findall(r"```(\w*)\n(.*?)```", text, re.S)
    script = next(body for kind, body in blocks if "standalone.quote" in body)
    tests = next(body for kind, body in blocks if kind == "toml" and 'script = "shipping.dg"'
                 in body)
    (tmp_path / "shipping.dg").write_text(script)
    (tmp_path / "shipping.test.toml").write_text(tests)
    done = sluice("test", ".", "--coverage")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 cases: 2 passed, 0 failed" in done.stdout
    assert "shipping.dg      5      5   100%" in done.stdout
