"""zoho.crm.* and zoho.creator.* on both backends: the local record store, and the Zoho API
(a strict fake on loopback) through the built-in Zoho service and a connection. The same
real-looking CRM functions give the same results on both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from connect_helpers import CLIENT_ID, CLIENT_SECRET
from fake_zoho import FakeZoho
from sluice.demo.provider import LocalProvider
from test_cli_connections import free_port, read_url_line

HERE = Path(__file__).parent / "crm"
FIXTURES = {
    "Leads": [{"id": "4876876000000100001", "Last_Name": "Smith", "Email": "ann@acme.com",
               "Company": "Acme"}],
    "Deals": [{"id": "4876876000000200001", "Deal_Name": "Acme renewal", "Stage": "Proposal",
               "Contact_Email": "ann@acme.com", "Amount": 5000},
              {"id": "4876876000000200002", "Deal_Name": "Other", "Stage": "Proposal",
               "Contact_Email": "bo@bolt.com", "Amount": 10}],
    "Accounts": [{"id": "4876876000000300001", "Account_Name": "Acme",
                  "Billing_City": "Lisbon"}],
    "Contacts": [{"id": "4876876000000400001", "Last_Name": "Lee",
                  "Account_Name": {"name": "Acme", "id": "4876876000000300001"}},
                 {"id": "4876876000000400002", "Last_Name": "Kim",
                  "Account_Name": {"name": "Acme", "id": "4876876000000300001"}},
                 {"id": "4876876000000400003", "Last_Name": "Ray"}],
    "Tasks": [],
    "Products": [],
    "_variables": {"discount_rate": "12"},
    "_forms": {"Orders": [{"ID": "3000000000000000011", "Customer": "Ann", "Item": "Pen"},
                          {"ID": "3000000000000000012", "Customer": "Bo", "Item": "Cap"}]},
}


@pytest.fixture
def fake():
    modules = {k: v for k, v in FIXTURES.items() if not k.startswith("_")}
    return FakeZoho(modules, FIXTURES["_variables"], FIXTURES["_forms"])


@pytest.fixture
def provider(fake):
    p = LocalProvider(extend=fake.install)
    p.add_client(CLIENT_ID, CLIENT_SECRET, scope="ZohoCRM.modules.ALL ZohoCRM.settings.ALL "
                 "ZohoCreator.report.ALL ZohoCreator.form.CREATE")
    yield p
    p.stop()


def run(admin, script, *args, expect=0):
    return json.loads(admin.sluice("run", HERE / script, "--json", *args, expect=expect).stdout)


def connect_zoho(admin, provider):
    """The built-in Zoho service, pointed at the local provider and the fake API."""
    admin("create", "zoho", "--service", "zoho", "--client-id", CLIENT_ID,
          "--client-secret-env", "APP_SECRET", "--param", f"accounts_url={provider.url}",
          "--param", f"api_domain={provider.url}")
    connecting = admin.start("connect", "zoho", "--no-browser", "--port", free_port())
    requests.get(read_url_line(connecting), timeout=20)
    admin.finish(connecting)


def test_the_same_functions_on_both_backends(admin, provider, fake, tmp_path):
    data = tmp_path / "fixtures.json"
    data.write_text(json.dumps(FIXTURES))
    local = run(admin, "lead_converted.dg", "--crm", "local", "--crm-data", data,
                "--arg", "leadId=4876876000000100001")
    connect_zoho(admin, provider)
    remote = run(admin, "lead_converted.dg", "--crm", "zoho", "--arg",
                 "leadId=4876876000000100001")
    expected = {"lead": "Smith", "deals": ["4876876000000200001"], "task": True,
                "refused": "MANDATORY_NOT_FOUND"}
    assert local["return"] == expected
    assert remote["return"] == expected
    deal = fake.modules["Deals"]["4876876000000200001"]
    assert deal["Stage"] == "Closed Won" and deal["Discount"] == 12
    assert fake.modules["Deals"]["4876876000000200002"]["Stage"] == "Proposal"
    assert [t["Subject"] for t in fake.modules["Tasks"].values()] == ["Welcome Smith"]
    # the fake saw the API as documented: the token prefix, the paths, the search criteria
    paths = [(m, p) for m, p, _ in fake.calls]
    assert ("GET", "/crm/v8/Leads/4876876000000100001") in paths
    assert ("PUT", "/crm/v8/Deals/4876876000000200001") in paths
    assert ("GET", "/crm/v8/settings/variables/discount_rate") in paths
    search = next(a for m, p, a in fake.calls if p == "/crm/v8/Deals/search")
    assert search["criteria"] == "(Contact_Email:equals:ann@acme.com)"
    admin.assert_no_secret_shown()


def test_related_records_and_listing_on_both_backends(admin, provider, fake, tmp_path):
    data = tmp_path / "fixtures.json"
    data.write_text(json.dumps(FIXTURES))
    out = tmp_path / "after.json"
    local = run(admin, "copy_city.dg", "--crm", "local", "--crm-data", data, "--crm-export",
                out, "--arg", "accountId=4876876000000300001")
    connect_zoho(admin, provider)
    remote = run(admin, "copy_city.dg", "--crm", "zoho", "--arg",
                 "accountId=4876876000000300001")
    expected = ["moved Lee to Lisbon", "moved Kim to Lisbon", "3 contacts in all",
                "INVALID_DATA"]
    assert local["info"] == expected and remote["info"] == expected
    exported = {c["Last_Name"]: c.get("Mailing_City") for c in
                json.loads(out.read_text())["Contacts"]}
    assert exported == {"Lee": "Lisbon", "Kim": "Lisbon", "Ray": None}
    assert {c["Last_Name"]: c.get("Mailing_City") for c in fake.modules["Contacts"].values()} \
        == exported
    listing = next(a for m, p, a in fake.calls if p == "/crm/v8/Contacts" and m == "GET")
    assert listing["page"] == "1" and listing["per_page"] == "10" and "Last_Name" in \
        listing["fields"]


def test_creator_on_both_backends(admin, provider, fake, tmp_path):
    data = tmp_path / "fixtures.json"
    data.write_text(json.dumps(FIXTURES))
    local = run(admin, "creator_orders.dg", "--crm", "local", "--crm-data", data, "--arg",
                "customer=Ann")
    connect_zoho(admin, provider)
    remote = run(admin, "creator_orders.dg", "--crm", "zoho", "--arg", "customer=Ann")
    expected = {"open": 1, "added": 3000, "shipped": "Data Updated Successfully"}
    assert local["return"] == expected and remote["return"] == expected
    assert fake.forms["Orders"]["3000000000000000011"]["Status"] == "Shipped"


def test_lead_conversion_upsert_and_bulk_create_on_both_backends(admin, provider, fake,
                                                                 tmp_path):
    data = tmp_path / "fixtures.json"
    data.write_text(json.dumps(FIXTURES))
    local = run(admin, "convert_lead.dg", "--crm", "local", "--crm-data", data,
                "--arg", "leadId=4876876000000100001")
    connect_zoho(admin, provider)
    remote = run(admin, "convert_lead.dg", "--crm", "zoho", "--arg",
                 "leadId=4876876000000100001")
    expected = {"converted": True, "has_deal": True, "lead_gone": True, "products": 2,
                "refused": "INVALID_DATA"}
    assert local["return"] == expected, local
    assert remote["return"] == expected, remote
    assert [p["Product_Name"] for p in fake.modules["Products"].values()] == ["Pen", "Ink"]
    bodies = dict(reversed(fake.bodies))  # the first body sent to each path
    assert bodies["/crm/v8/Contacts/upsert"]["duplicate_check_fields"] == ["Email"]
    converted = bodies["/crm/v8/Leads/4876876000000100001/actions/convert"]["data"][0]
    assert converted["overwrite"] is True and converted["Deals"]["Stage"] == "Qualification"
    assert len(bodies["/crm/v8/Products"]["data"]) == 2


def test_crm_sendmail_connector_on_both_backends(admin, provider, fake, tmp_path):
    data = tmp_path / "fixtures.json"
    data.write_text(json.dumps(FIXTURES))
    local = run(admin, "welcome_mail.dg", "--crm", "local", "--crm-data", data,
                "--arg", "contactId=4876876000000400001")
    assert local["return"] == "200 SUCCESS", local
    (mail,) = (admin.home / "outbox").glob("*.eml")
    text = mail.read_text()
    assert "To: lee@acme.com" in text and "Subject: Welcome, Lee" in text
    connect_zoho(admin, provider)
    remote = run(admin, "welcome_mail.dg", "--crm", "zoho", "--arg",
                 "contactId=4876876000000400001")
    assert remote["return"] == "200 SUCCESS", remote
    (sent,) = fake.mails
    assert sent["to"] == [{"user_name": "Lee", "email": "lee@acme.com"}]
    assert sent["record"] == "4876876000000400001"
    other = tmp_path / "other.dg"
    other.write_text('return zoho.crm.invokeConnector("mailchimp.getlists", Map());\n')
    refused = admin.sluice("run", other, "--crm", "local", "--json", expect=1)
    assert "only crm.sendmail is here" in json.loads(refused.stdout)["error"]["message"]


def test_without_a_backend_the_error_says_how_to_choose_one(admin):
    done = run(admin, "copy_city.dg", "--arg", "accountId=1", expect=1)
    assert "--crm local" in done["error"]["message"]


def test_a_wrong_token_prefix_is_refused_by_the_fake(provider):
    answer = requests.get(provider.url + "/crm/v8/Leads/1", timeout=5,
                          headers={"Authorization": "Bearer whatever"})
    assert answer.status_code == 401 and answer.json()["code"] == "INVALID_TOKEN"


def crm_command(admin, *args, expect=0):
    return admin.sluice("crm", *args, expect=expect).stdout


def test_a_saved_choice_serves_every_run(admin, provider, fake, tmp_path):
    data = tmp_path / "fixtures.json"
    data.write_text(json.dumps(FIXTURES))
    assert "none chosen" in crm_command(admin, "show")
    assert "loaded 9 records" in crm_command(admin, "load", data)
    crm_command(admin, "use", "local")
    shown = json.loads(crm_command(admin, "show", "--json"))
    assert shown["backend"] == "local" and shown["local_records"]["Contacts"] == 3
    assert shown["local_records"]["form:Orders"] == 2
    local = run(admin, "copy_city.dg", "--arg", "accountId=4876876000000300001")
    assert local["info"][0] == "moved Lee to Lisbon"
    exported = json.loads(crm_command(admin, "export"))
    assert {c["Last_Name"]: c.get("Mailing_City") for c in exported["Contacts"]}["Kim"] \
        == "Lisbon"
    # the same script, now against Zoho, with no --crm on the run
    connect_zoho(admin, provider)
    assert "connection 'zoho'" in crm_command(admin, "use", "zoho")
    remote = run(admin, "copy_city.dg", "--arg", "accountId=4876876000000300001")
    assert remote["info"] == local["info"]
    assert any(p == "/crm/v8/Contacts" for _, p, _ in fake.calls)
    crm_command(admin, "use", "local", "--connection", "x", expect=2)
    assert "removed" in crm_command(admin, "forget")
    bad = tmp_path / "bad.json"
    bad.write_text('{"Leads": 3}')
    assert crm_command(admin, "load", bad, expect=2) == ""
    admin.assert_no_secret_shown()


def test_zoho_connected_without_a_browser(admin, provider, fake, tmp_path):
    """The ways an admin connects Zoho on a server: a Self Client grant code, a refresh token
    alone, or an access token."""
    admin("create", "zoho", "--service", "zoho", "--client-id", CLIENT_ID,
          "--client-secret-env", "APP_SECRET", "--param", f"accounts_url={provider.url}",
          "--param", f"api_domain={provider.url}")
    code = provider.console_code(CLIENT_ID, "ZohoCRM.modules.ALL")
    done = admin("connect", "zoho", "--code-env", "GRANT", GRANT=code)
    assert "connected" in done.stdout
    got = run(admin, "lead_converted.dg", "--crm", "zoho", "--arg",
              "leadId=4876876000000100001")
    assert got["return"]["lead"] == "Smith"

    issued = provider.issue_tokens(CLIENT_ID, "ZohoCRM.modules.ALL")
    admin("connect", "zoho", "--refresh-token-env", "RT", RT=issued.refresh_token)
    assert run(admin, "copy_city.dg", "--crm", "zoho", "--arg",
               "accountId=4876876000000300001")["info"][0] == "moved Lee to Lisbon"
    admin("connect", "zoho", "--access-token-env", "AT", "--expires-in", "3600",
          AT=issued.access_token)
    shown = admin("show", "zoho").stdout
    assert "connected" in shown
    assert run(admin, "copy_city.dg", "--crm", "zoho", "--arg",
               "accountId=4876876000000300001")["info"][2] == "3 contacts in all"

    refused = admin("connect", "zoho", "--code-env", "GRANT", GRANT="code-never-made", expect=1)
    assert "invalid_grant" in refused.stderr
    admin("connect", "zoho", "--code-env", "GRANT", "--access-token-env", "AT", GRANT="x",
          AT="y", expect=2)
    admin.assert_no_secret_shown()


def test_a_module_wider_than_one_call_is_read_whole(admin, provider, tmp_path):
    wide = {f"Field_{i:02}": i for i in range(70)}
    modules = {"Wide__c": [dict(wide, id="4876876000000900001")], "Leads": []}
    fake = FakeZoho(modules, {}, {})
    wide_provider = LocalProvider(extend=fake.install)
    wide_provider.add_client(CLIENT_ID, CLIENT_SECRET, scope="ZohoCRM.modules.ALL")
    try:
        script = tmp_path / "wide.dg"
        script.write_text('r = zoho.crm.getRecords("Wide__c").get(0);\n'
                          'return r.size() + " " + r.get("Field_69");\n')
        data = tmp_path / "wide.json"
        data.write_text(json.dumps(modules))
        local = admin.sluice("run", script, "--crm-data", data, "--json")
        connect_zoho(admin, wide_provider)
        remote = admin.sluice("run", script, "--crm", "zoho", "--json")
        assert json.loads(local.stdout)["return"] == json.loads(remote.stdout)["return"] == "71 69"
        listings = [a["fields"] for m, p, a in fake.calls if p == "/crm/v8/Wide__c"]
        assert [len(f.split(",")) for f in listings] == [50, 21]
    finally:
        wide_provider.stop()
