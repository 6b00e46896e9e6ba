"""Secrets through the command line: a run with the wrong key, an echoing token endpoint, a
call to a host the connection does not belong to, a store that cannot be written."""

from __future__ import annotations

import json

from connections.secrets import generate_key

SCRIPT = """response = invokeurl
[
    url: "{url}"
    type: GET
    connection: "k"
];
info response;
"""


def test_a_run_with_a_wrong_key_leaves_healthy_connections_alone(admin, provider, tmp_path):
    provider.api_keys.add("api-key-healthy-1")
    admin("add-service", "keyed", "--auth", "apikey", "--api-base-url", provider.url + "/api",
          "--check-url", provider.url + "/api/key")
    admin("create", "k", "--service", "keyed", "--api-key-env", "KEY", KEY="api-key-healthy-1")
    assert "k: ok" in admin("test", "k").stdout
    before = json.loads(admin("show", "k", "--json").stdout)
    script = tmp_path / "call.dg"
    script.write_text(SCRIPT.format(url=provider.url + "/api/key"))
    wrong = admin.sluice("run", script, expect=1, SLUICE_SECRET_KEY=generate_key())
    assert "key" in wrong.stderr + wrong.stdout
    after = json.loads(admin("show", "k", "--json").stdout)
    assert after["status"] == before["status"] == "connected"
    assert after["last_error"] is None
    assert "k: ok" in admin("test", "k").stdout
    assert '"ok":true' in admin.sluice("run", script).stdout
    admin.assert_no_secret_shown()
