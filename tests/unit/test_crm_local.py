"""The local CRM backend: criteria edge cases, write answers, related lists, Creator forms."""

from __future__ import annotations

import pytest

import runtime
from runtime.tasks.crm import search_kind
from sluice.crm.local import LocalCrm, parse_criteria

RECORDS = [
    {"id": "1", "Last_Name": "O'Neil (Jr)", "Email": "a@x.com", "Amount": 100,
     "Tags": ["vip", "eu"], "Phone": "+1 (555) 010-2000", "City": "Paris, FR"},
    {"id": "2", "Last_Name": "Smith", "Email": "b@x.com", "Amount": 250, "Tags": ["us"]},
    {"id": "3", "Last_Name": "smithers", "Email": None, "Amount": "75"},
]


def matching(criteria):
    test = parse_criteria(criteria)
    return [r["id"] for r in RECORDS if test(r)]


def test_criteria_operators():
    assert matching("(Last_Name:equals:smith)") == ["2"]  # case-insensitive, as Zoho
    assert matching("(Last_Name:starts_with:Smith)") == ["2", "3"]
    assert matching("(Amount:greater_than:99)") == ["1", "2"]
    assert matching("(Amount:less_equal:100)") == ["1", "3"]  # numbers by value, "75" too
    assert matching("(Amount:between:80,200)") == ["1"]
    assert matching("(Last_Name:in:Smith,smithers)") == ["2", "3"]
    # a record whose field is empty matches no condition on it, not even not_equal (as Zoho)
    assert matching("(Email:not_equal:a@x.com)") == ["2"]
    assert matching("(Tags:equals:eu)") == ["1"]  # a multi-select: any of its values
    assert matching(r"(Last_Name:equals:O'Neil \(Jr\))") == ["1"]
    assert matching(r"(City:equals:Paris\, FR)") == ["1"]


def test_criteria_and_or_and_nesting():
    assert matching("((Amount:greater_than:50) and (Last_Name:starts_with:s))") == ["2", "3"]
    assert matching("(Amount:equals:100) or (Amount:equals:250)") == ["1", "2"]
    # and binds tighter than or
    assert matching("(Amount:equals:100) or (Amount:equals:250) and (Email:equals:none)") \
        == ["1"]
    assert matching("((Amount:equals:100) or (Amount:equals:250)) and (Email:equals:b@x.com)") \
        == ["2"]


@pytest.mark.parametrize("bad", ["Amount:equals:1", "(Amount:like:1)", "(Amount:equals)",
                                 "(Amount:equals:1) xor (Amount:equals:2)", "((Amount:equals:1)"])
def test_bad_criteria_are_refused(bad):
    with pytest.raises(ValueError):
        parse_criteria(bad)


@pytest.mark.parametrize("criteria, expected", [
    ("(Email:equals:a@x.com)", ("criteria", "(Email:equals:a@x.com)")),
    ("Email:equals:a@x.com", ("criteria", "(Email:equals:a@x.com)")),  # parentheses left out
    ("email:a@x.com", ("email", "a@x.com")),
    ("Phone:555", ("phone", "555")),
    ("word:acme", ("word", "acme")),
])
def test_search_kinds(criteria, expected):
    assert search_kind(criteria) == expected


@pytest.fixture
def crm(tmp_path):
    store = LocalCrm(tmp_path / "crm.db")
    store.load({"Leads": RECORDS, "Accounts": [{"id": "9", "Account_Name": "Acme"}],
                "Contacts": [{"id": "7", "Last_Name": "Lee"}],
                "_variables": {"rate": "5"}, "_forms": {"Orders": []}})
    return store


def run(crm, source, **args):
    services = runtime.Services.standard(crm=crm)
    result = runtime.run(source, args, services=services)
    assert result.ok, result.error
    return result


def test_searches_and_the_answers_of_writes(crm):
    r = run(crm, """
    info zoho.crm.searchRecords("Leads", "email:B@X.COM").size();
    info zoho.crm.searchRecords("Leads", "phone:5550102000").get(0).get("id");
    info zoho.crm.searchRecords("Leads", "word:smith").size();
    info zoho.crm.searchRecords("Leads", "(Amount:oops:1)").get("code");
    info zoho.crm.searchRecords("Nope", "(a:equals:b)").get("code");
    made = zoho.crm.createRecord("Leads", {"Last_Name": "New", "Company": "C"});
    info made.get("id").length() + " " + made.containKey("Created_Time");
    info zoho.crm.createRecord("Leads", {"Company": "C"}).get("details").get("api_name");
    info zoho.crm.updateRecord("Leads", 999, {"a": 1}).get("code");
    info zoho.crm.deleteRecord("Leads", 2).get("id");
    info zoho.crm.getRecords("Leads").size();
    info zoho.crm.getOrgVariable("rate") + " " + zoho.crm.getOrgVariable("none").get("code");
    bulk = zoho.crm.bulkUpdate("Leads", {{"id": "1", "City": "Rome"}, {"City": "x"}});
    info bulk.get(0).get("id") + " " + bulk.get(1).get("code");
    info zoho.crm.getRecordById("Leads", 1).get("City");
    info zoho.crm.searchRecords("Leads", "Last_Name:equals:SMITHERS").get(0).get("id");
    info zoho.crm.getRecords("Deals").size() + " " + zoho.crm.getRecordById("Deals", 5).get("code");
    """)
    assert r.info == ["1", "1", "2", "INVALID_QUERY", "INVALID_MODULE", "19 true",
                      "Last_Name", "INVALID_DATA", "2", "3", "5 INVALID_DATA",
                      "1 MANDATORY_NOT_FOUND", "Rome", "3",
                      "0 INVALID_DATA"]  # a standard module with no records is still there


def test_related_records_by_link_and_attachments(crm):
    r = run(crm, """
    info zoho.crm.getRelatedRecords("Contacts", "Accounts", 9).size();
    zoho.crm.updateRelatedRecord("Contacts", 7, "Accounts", 9, {"Role": "Buyer"});
    linked = zoho.crm.getRelatedRecords("Contacts", "Accounts", 9);
    info linked.get(0).get("Last_Name") + " " + linked.get(0).get("Role");
    f = "hello".toFile("note.txt");
    a = zoho.crm.attachFile("Accounts", 9, f);
    info zoho.crm.getRelatedRecords("Attachments", "Accounts", 9).get(0).get("File_Name");
    """)
    assert r.info == ["0", "Lee Buyer", "note.txt"]


def test_creator_statements_on_the_local_backend(crm):
    r = run(crm, """
    a = insert into Orders [ Item = "Pen" Qty = 3 ];
    b = insert into Orders [ Item = "Ink" Qty = 1 ];
    c = insert into Orders [ Item = "Cap" Qty = 7 ];
    info (b - a) + " " + (c - b);
    for each o in Orders[Qty > 1] sort by Qty desc { info o.Item; }
    firstTwo = Orders[Qty > 0] sort by Item range from 1 to 2;
    info firstTwo.size() + " " + firstTwo.get(0).get("Item");
    delete from Orders[Item == "Pen"];
    info Orders[Qty > 0].size();
    want = 7;
    info Orders[Qty == want].get(0).get("Item");
    """)
    assert r.info == ["1 1", "Cap", "Pen", "2 Cap", "2", "Cap"]


def test_export_round_trips(crm, tmp_path):
    run(crm, 'zoho.crm.createRecord("Contacts", {"Last_Name": "Mo"});')
    exported = crm.export()
    again = LocalCrm(tmp_path / "other.db")
    again.load(exported)
    assert again.export() == exported
    assert [c["Last_Name"] for c in exported["Contacts"]] == ["Lee", "Mo"]
    assert exported["_variables"] == {"rate": "5"}
    assert crm.counts() == {"Leads": 3, "Accounts": 1, "Contacts": 2, "form:Orders": 0}


def test_fixtures_may_be_saved_api_answers(tmp_path):
    store = LocalCrm(tmp_path / "crm.db")
    store.load({"Leads": {"data": [{"id": "5", "Last_Name": "Api"}], "info": {"count": 1}}})
    assert store.export() == {"Leads": [{"id": "5", "Last_Name": "Api"}]}


def test_dates_reach_the_store_as_the_api_takes_them(crm):
    services = runtime.Services.standard(crm=crm, timezone="Asia/Kolkata")
    result = runtime.run("""
    made = zoho.crm.createRecord("Deals", {"Deal_Name": "D", "Stage": "New",
        "Closing_Date": "2024-01-31".toDate(), "Met": "2024-01-31 09:30:00".toDateTime(),
        "Steps": {{"On": "2024-02-01".toDate()}}});
    deal = zoho.crm.getRecordById("Deals", made.get("id"));
    steps = deal.get("Steps");
    return deal.get("Closing_Date") + " " + deal.get("Met") + " " + steps.get(0).get("On");
    """, services=services)
    assert result.value == "2024-01-31 2024-01-31T09:30:00+05:30 2024-02-01", result.error


def test_lookups_set_by_id_read_back_as_zoho_shows_them(tmp_path):
    store = LocalCrm(tmp_path / "crm.db")
    store.load({"Accounts": [{"id": "4876876000000000301", "Account_Name": "Acme"}],
                "Users": [{"id": "4876876000000000099", "full_name": "Pat Lee"}],
                "Deals": [{"id": "4876876000000000401", "Deal_Name": "D", "Stage": "New",
                           "Campaign_Source": {"name": "Old", "id": "1"}}]})
    r = run(store, """
    zoho.crm.updateRecord("Deals", 4876876000000000401, {"Owner": "4876876000000000099",
        "Account_Name": 4876876000000000301, "Campaign_Source": "4876876000000000777",
        "Description": "4876876000000000301"});
    deal = zoho.crm.getRecordById("Deals", 4876876000000000401);
    info deal.get("Owner").get("name") + " / " + deal.get("Account_Name").get("name");
    info deal.get("Campaign_Source");
    info deal.get("Description");
    acme = "4876876000000000301";
    made = zoho.crm.createRecord("Contacts", {"Last_Name": "Kim", "Account_Name": acme});
    info zoho.crm.getRelatedRecords("Contacts", "Accounts", acme).size();
    info zoho.crm.updateRecord("Accounts", acme, {"Phone": "1"}).get("Created_By").get("id");
    """)
    assert r.info == ["Pat Lee / Acme", '{"id":"4876876000000000777"}', "4876876000000000301", "1",
                      "4876876000000000000"]


def test_convert_lead_upsert_and_bulk_create(tmp_path):
    store = LocalCrm(tmp_path / "crm.db")
    store.load({"Leads": [{"id": "4876876000000000501", "First_Name": "Ann", "Last_Name": "Lee",
                           "Email": "ann@acme.com", "Company": "Acme", "City": "Lyon"},
                          {"id": "4876876000000000502", "Last_Name": "Bo", "Email": "bo@x.com"}],
                "Accounts": [{"id": "4876876000000000301", "Account_Name": "ACME"}]})
    r = run(store, """
    bad = zoho.crm.convertLead(4876876000000000501, {"Deals": {"Deal_Name": "Big"}});
    info bad.get("code") + " " + bad.get("details").get("api_name");
    done = zoho.crm.convertLead(4876876000000000501, {"Deals": {"Deal_Name": "Big", "Stage": "New"}});
    info done.get("Accounts");
    contact = zoho.crm.getRecordById("Contacts", done.get("Contacts"));
    info contact.get("First_Name") + " " + contact.get("Mailing_City") + " " +
        contact.get("Account_Name").get("name");
    deal = zoho.crm.getRecordById("Deals", done.get("Deals"));
    info deal.get("Contact_Name").get("id") == done.get("Contacts");
    info zoho.crm.getRecordById("Leads", 4876876000000000501).get("code");
    plain = zoho.crm.convertLead(4876876000000000502, Map());
    info plain.get("Accounts") + " " + plain.get("Deals");
    again = zoho.crm.upsert("Contacts", {"Email": "ANN@acme.com", "Phone": "12"});
    info again.get("id") == done.get("Contacts");
    fresh = zoho.crm.upsert("Contacts", {"Email": "new@acme.com", "Last_Name": "New"});
    info fresh.get("id") != done.get("Contacts");
    many = zoho.crm.bulkCreate("Leads", {{"Last_Name": "A"}, {"Company": "no name"}});
    info many.get(0).containKey("id") + " " + many.get(1).get("code");
    """)
    assert r.info == ["MANDATORY_NOT_FOUND Stage", "4876876000000000301", "Ann Lyon ACME", "true",
                      "INVALID_DATA", " ", "true", "true", "true MANDATORY_NOT_FOUND"]
