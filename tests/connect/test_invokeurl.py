"""invokeurl through connections when the provider changes its mind during a run."""

from __future__ import annotations

import runtime
from sluice.adapters.web import ConnectionsWeb

TWO_CALLS = """
first = invokeurl [ url: api + "/me" connection: "crm" ];
info first.get("user");
zoho.test.provider();
second = invokeurl [ url: api + "/me" connection: "crm" ];
info second.get("user");
"""


def run(conns, provider, source, action):
    services = runtime.Services.standard(web=ConnectionsWeb(conns))
    services.register("zoho.test.provider", lambda run: action())
    return runtime.run(source, {"api": provider.url + "/api"}, services=services)


def test_a_401_in_a_run_refreshes_once_and_the_script_never_knows(connected, provider):
    result = run(connected, provider, TWO_CALLS, provider.expire_access_tokens)
    assert result.ok, result.error
    assert result.info == ["alice", "alice"]
    assert provider.counts["refresh_token"] == 1


def test_a_connection_revoked_in_the_middle_of_a_run(connected, provider, clock):
    def revoke():
        provider.revoke_all()
        clock.advance(3600)

    result = run(connected, provider, TWO_CALLS, revoke)
    assert result.info == ["alice"]
    assert result.error.line == 5
    assert "connection crm is no longer authorized" in result.error.message
    assert "sluice connections connect crm" in result.error.message
    assert connected.get("crm").status == "expired"
    shown = result.error.render() + "\n".join(result.info)
    for secret in provider.all_secrets():
        assert secret not in shown


def test_a_revoked_connection_error_can_be_caught(connected, provider, clock):
    source = """
    zoho.test.provider();
    try { r = invokeurl [ url: api + "/me" connection: "crm" ]; }
    catch (e) { info "caught: " + e.message.contains("sluice connections connect crm"); }
    """

    def revoke():
        provider.revoke_all()
        clock.advance(3600)

    result = run(connected, provider, source, revoke)
    assert result.ok and result.info == ["caught: true"]


def test_the_default_response_size_limit_is_five_megabytes(connected, provider):
    source = 'r = invokeurl [ url: api + "/big?n=" + n ]; return r.length();'
    services = runtime.Services.standard(web=ConnectionsWeb(connected))
    fits = runtime.run(source, {"api": provider.url + "/api", "n": 5 * 1024 * 1024},
                       services=services)
    assert fits.ok and fits.value == 5 * 1024 * 1024
    too_big = runtime.run(source, {"api": provider.url + "/api", "n": 5 * 1024 * 1024 + 1},
                          services=services)
    assert "limit response_size" in too_big.error.message
