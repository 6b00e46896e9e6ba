"""`sluice demo`, the README's first command: offline, on loopback, every step printed."""

from __future__ import annotations

import re


def test_the_demo_runs_a_script_through_a_connection(sluice, tmp_path):
    done = sluice("demo")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Traceback" not in done.stderr
    for step in range(1, 9):
        assert re.search(rf"^{step}\. ", out, re.M), f"step {step} missing:\n{out}"
    assert "mailchimp: connected" in out
    assert "code_challenge_method=S256" in out
    assert '"title":"Autumn news"' in out and '"code":200' in out
    assert "no secret appears in their output" in out
    assert 'connection: "mailchimp"' in out
    home = re.search(r"a throwaway store is in (\S+);", out).group(1)
    assert not (tmp_path / home).exists()


def test_the_demo_can_keep_its_store(sluice):
    done = sluice("demo", "--keep")
    assert done.returncode == 0, done.stderr
    home = re.search(r"SLUICE_HOME=(\S+) sluice connections list", done.stdout).group(1)
    listed = sluice("connections", "list", "--json", env={"SLUICE_HOME": home})
    assert '"link_name": "mailchimp"' in listed.stdout
    assert '"status": "connected"' in listed.stdout
