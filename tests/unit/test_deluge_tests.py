"""sluice.testing on itself: every expectation kind passing and failing, the HTTP answers the
world gives, the frozen clock, fixtures, and test files written wrong."""

from __future__ import annotations

import textwrap

import pytest

from sluice.testing.runner import collect, run_case
from sluice.testing.spec import SpecError, load

SCRIPT = """\
string standalone.quote(string country, int kilos)
{
    rates = invokeurl [ url: "https://rates.example.test/v1/rates" type: GET parameters: {"country": country} ];
    if (rates.get("price") == null)
    {
        throw "no rate for " + country;
    }
    info "rate " + rates.get("price");
    return country + ":" + (rates.get("price") * kilos);
}
"""


def case_file(tmp_path, body: str, script: str = SCRIPT, name: str = "quote.dg"):
    (tmp_path / name).write_text(script)
    path = tmp_path / "quote.test.toml"
    path.write_text(f'script = "{name}"\n' + textwrap.dedent(body))
    return path


def only(tmp_path, body: str, **kwargs):
    cases = load(case_file(tmp_path, body, **kwargs))
    assert len(cases) == 1
    return run_case(cases[0])


RATE = """
[[case]]
name = "DE"
arguments = { country = "DE", kilos = 3 }
[[case.http]]
method = "GET"
url = "https://rates.example.test/v1/*"
query = { country = "DE" }
json = { price = 4 }
"""


@pytest.mark.parametrize("expect, passes, fragment", [
    ('return = "DE:12"', True, ""),
    ('return = "DE:13"', False, '-"DE:13"'),
    ('return_text = "DE:12"', True, ""),
    ('return_text = "DE:1"', False, "prints as 'DE:12'"),
    ('returns_null = true', False, "expected null"),
    ('info = ["rate 4"]', True, ""),
    ('info = ["rate 5"]', False, "the info lines differ"),
    ('info_contains = ["rate"]', True, ""),
    ('info_contains = ["price"]', False, "no info line contains 'price'"),
    ('error = "no rate"', False, "expected an error containing 'no rate'"),
    ('http = [{ method = "GET", url = "https://rates.example.test/v1/rates", '
     'query = { country = "DE" } }]', True, ""),
    ('http = [{ method = "POST" }]', False, "HTTP call 1 was not POST"),
    ('http = []', False, "expected 0 HTTP call(s), the script made 1"),
    ('mails = []', True, ""),
    ('records = { Leads = [{ Last_Name = "X" }] }', False, "no Leads record holds"),
])
def test_each_expectation_passes_and_fails(tmp_path, expect, passes, fragment):
    result = only(tmp_path, RATE + "[case.expect]\n" + expect + "\n")
    assert result.passed is passes, result.failures
    if not passes:
        assert fragment in "\n".join(result.failures)


def test_a_map_return_value_exact_or_a_subset_with_a_diff(tmp_path):
    script = 'return {"a": 1, "b": {"c": [1, 2], "d": "x"}};'
    exact = only(tmp_path, '[[case]]\n[case.expect]\nreturn = { a = 1, b = { c = [1, 2], '
                           'd = "x" } }\n', script=script)
    assert exact.passed, exact.failures
    wrong = only(tmp_path, '[[case]]\n[case.expect]\nreturn = { a = 1, b = { c = [1, 3], '
                           'd = "x" } }\n', script=script)
    text = "\n".join(wrong.failures)
    assert "the return value differs" in text and "-      3" in text and "+      2" in text
    subset = only(tmp_path, '[[case]]\n[case.expect]\nreturn_includes = { b = { d = "x" } }\n',
                  script=script)
    assert subset.passed, subset.failures
    missing = only(tmp_path, '[[case]]\n[case.expect]\nreturn_includes = { e = 1 }\n',
                   script=script)
    assert "does not hold" in missing.failures[0]


def test_an_expected_error_with_its_line(tmp_path):
    body = """
    [[case]]
    arguments = { country = "FR", kilos = 1 }
    [[case.http]]
    url = "https://rates.example.test/v1/rates"
    json = { other = 1 }
    [case.expect]
    error = { line = 6, message = "no rate for FR" }
    """
    assert only(tmp_path, body).passed
    wrong_line = only(tmp_path, body.replace("line = 6", "line = 7"))
    assert "expected the error on line 7, it was on line 6" in wrong_line.failures[0]


def test_an_unexpected_error_fails_the_case_with_the_message(tmp_path):
    body = RATE.replace("price = 4", "other = 4") + "[case.expect]\nreturn = \"x\"\n"
    result = only(tmp_path, body)
    assert not result.passed
    assert "the script failed" in result.failures[0] and "line 6" in result.failures[0]


def test_a_request_with_no_answer_fails_the_case_naming_it(tmp_path):
    result = only(tmp_path, '[[case]]\narguments = { country = "NL", kilos = 1 }\n')
    assert not result.passed
    assert "no answer for GET https://rates.example.test/v1/rates?country=NL" in \
        result.failures[0]
    assert "--record" in result.failures[0]


def test_answers_in_order_then_the_last_one_again_then_a_timeout(tmp_path):
    script = """
    for each n in {1, 2, 3}
    {
        r = invokeurl [ url: "https://x.test/n" type: POST parameters: {"n": n} ];
        info r;
    }
    try { invokeurl [ url: "https://x.test/slow" ]; }
    catch (e) { info "caught: " + e; }
    """
    body = """
    [[case]]
    [[case.http]]
    url = "https://x.test/n"
    text = "first"
    [[case.http]]
    url = "https://x.test/n"
    status = 503
    text = "again"
    [[case.http]]
    url = "https://x.test/slow"
    timeout = true
    [case.expect]
    info_contains = ["socket timeout"]
    http = [{ body = { n = 1 } }, { body = { n = 2 } }, { body = { n = "3" } }, { url = "*/slow" }]
    """
    result = only(tmp_path, body, script=textwrap.dedent(script))
    assert result.passed, result.failures
    assert result.info[:3] == ["first", "again", "again"]


def test_body_and_connection_select_the_answer(tmp_path):
    script = """
    a = invokeurl [ url: "https://x.test/m" type: POST parameters: {"who": "ann"}.toString()
                    connection: "one" ];
    b = invokeurl [ url: "https://x.test/m" type: POST parameters: {"who": "bo"}.toString()
                    connection: "two" ];
    return a.get("n") + b.get("n");
    """
    body = """
    [[case]]
    [[case.http]]
    url = "https://x.test/m"
    body = { who = "bo" }
    json = { n = 20 }
    [[case.http]]
    url = "https://x.test/m"
    connection = "one"
    json = { n = 1 }
    [case.expect]
    return = 21
    http = [{ connection = "one" }, { connection = "two", body = { who = "bo" } }]
    """
    result = only(tmp_path, body, script=textwrap.dedent(script))
    assert result.passed, result.failures


def test_the_clock_stands_still_where_the_case_says(tmp_path):
    script = 'return zoho.currentdate.toString("yyyy-MM-dd") + " " + ' \
             'zoho.currenttime.toString("HH:mm");'
    body = '[[case]]\nnow = 2026-03-02T09:30:00\n[case.expect]\nreturn = "2026-03-02 09:30"\n'
    assert only(tmp_path, body, script=script).passed
    text = '[[case]]\nnow = "2026-12-31 23:59:00"\ntimezone = "Asia/Kolkata"\n' \
           '[case.expect]\nreturn = "2026-12-31 23:59"\n'
    assert only(tmp_path, text, script=script).passed


def test_crm_fixtures_org_variables_and_records_after_the_run(tmp_path):
    script = """
    lead = zoho.crm.getRecordById("Leads", 4876876000000000001);
    zoho.crm.createRecord("Tasks", {"Subject": "Call " + lead.get("Last_Name"),
                                    "Priority": zoho.crm.getOrgVariable("task_priority")});
    """
    body = """
    [[case]]
    org_variables = { task_priority = "High" }
    [case.crm]
    Leads = [{ id = "4876876000000000001", Last_Name = "Doe" }]
    [case.expect]
    records = { Tasks = [{ Subject = "Call Doe", Priority = "High" }], Leads = [{ Last_Name = "Doe" }] }
    """
    result = only(tmp_path, body, script=textwrap.dedent(script))
    assert result.passed, result.failures
    wrong = only(tmp_path, body.replace('Subject = "Call Doe"', 'Subject = "Call Roe"'),
                 script=textwrap.dedent(script))
    assert 'no Tasks record holds {"Priority": "High", "Subject": "Call Roe"}' in \
        wrong.failures[0]
    assert '"Subject": "Call Doe"' in wrong.failures[0]


def test_crm_fixtures_from_a_file(tmp_path):
    (tmp_path / "leads.json").write_text('{"Leads": [{"id": "7", "Last_Name": "Roe"}]}')
    script = 'return zoho.crm.getRecordById("Leads", 7).get("Last_Name");'
    body = '[[case]]\ncrm_data = "leads.json"\n[case.expect]\nreturn = "Roe"\n'
    assert only(tmp_path, body, script=script).passed
    bad = only(tmp_path, '[[case]]\n[case.crm]\n_nonsense = 1\n', script=script)
    assert not bad.passed and "the CRM data" in bad.failures[0]


def test_mails_are_kept_and_compared(tmp_path):
    script = """
    sendmail [ from: zoho.adminuserid to: "ann@x.test", "bo@x.test" subject: "Hi" message: "Hello there" ];
    """
    body = """
    [[case]]
    settings = { adminuserid = "shop@x.test" }
    [case.expect]
    mails = [{ from = "shop@x.test", to = ["bo@x.test", "ann@x.test"], subject = "Hi", message_contains = "Hello" }]
    """
    assert only(tmp_path, body, script=script).passed
    wrong = only(tmp_path, body.replace('subject = "Hi"', 'subject = "Ho"'), script=script)
    assert "mail 1: subject is 'Hi', expected 'Ho'" in wrong.failures[0]
    none = only(tmp_path, body.replace("mails = [{", "mails = []\n#"), script=script)
    assert "expected 0 mail(s), the script sent 1" in none.failures[0]


def test_a_function_of_the_file_by_name(tmp_path):
    script = """
    int standalone.double(int n) { return n * 2; }
    int triple(int n) { return n * 3; }
    """
    body = """
    [[case]]
    name = "first"
    arguments = { n = 2 }
    [case.expect]
    return = 4
    [[case]]
    name = "named"
    function = "triple"
    arguments = { n = 2 }
    [case.expect]
    return = 6
    [[case]]
    name = "namespaced"
    function = "standalone.double"
    arguments = { n = 5 }
    [case.expect]
    return = 10
    [[case]]
    name = "missing"
    function = "quadruple"
    """
    cases = load(case_file(tmp_path, body, script=textwrap.dedent(script)))
    results = {c.name: run_case(c) for c in cases}
    assert all(results[n].passed for n in ("first", "named", "namespaced")), \
        {n: r.failures for n, r in results.items()}
    assert "defines no function 'quadruple' (it defines: double, triple)" in \
        results["missing"].failures[0]


@pytest.mark.parametrize("body, fragment", [
    ('[[case]]\nnmae = "x"\n', "unknown key 'nmae'"),
    ('[[case]]\n[[case]]\nname = "case 1"\n', "two cases are named 'case 1'"),
    ('[[case]]\nscript = "nope.dg"\n', "the script nope.dg does not exist"),
    ('[[case]]\n[[case.http]]\nmethod = "FETCH"\n', "method must be GET, POST"),
    ('[[case]]\n[case.expect]\nerror = 5\n', "error is a fragment"),
    ('[[case]]\nnow = "soon"\n', "now must be a date and time"),
    ('[[case]\n', "not valid TOML"),
    ('title = "x"\n', "unknown key 'title'"),
])
def test_a_test_file_written_wrong_is_named_with_its_case(tmp_path, body, fragment):
    with pytest.raises(SpecError) as e:
        load(case_file(tmp_path, body))
    assert fragment in str(e.value)
    assert "quote.test.toml" in str(e.value)


def test_collect_filters_by_pattern_and_reports_broken_files(tmp_path):
    case_file(tmp_path, RATE + '[[case]]\nname = "FR"\n')
    (tmp_path / "broken.test.toml").write_text("[[case]\n")
    cases, problems = collect([str(tmp_path)], pattern="fr")
    assert [c.name for c in cases] == ["FR"]
    assert len(problems) == 1 and "broken.test.toml" in problems[0]
