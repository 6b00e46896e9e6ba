"""`sluice events check`, `sluice trigger` and `sluice runs`, as a user types them."""

from __future__ import annotations

import json

from conftest import ROOT


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_events_check_finds_what_is_wrong(sluice, tmp_path):
    ok = sluice("events", "check", "--bindings", ROOT / "scripts" / "events.toml")
    assert ok.returncode == 0 and "2 binding(s) ok" in ok.stdout
    write(tmp_path, "broken.dg", "x = (1 + ;\n")
    bindings = write(tmp_path, "events.toml", '[[binding]]\nevent = "a.b"\nscript = "broken.dg"\n'
                     '[[binding]]\nevent = "c"\nscript = "missing.dg"\n')
    bad = sluice("events", "check", "--bindings", bindings)
    assert bad.returncode == 1
    assert "broken.dg:1:10: expected a value after '+'" in bad.stderr
    assert "missing.dg does not exist" in bad.stderr
    write(tmp_path, "typo.toml", '[[binding]]\nevnt = "a"\nscript = "x.dg"\n')
    typo = sluice("events", "check", "--bindings", tmp_path / "typo.toml")
    assert typo.returncode == 2 and "unknown key(s) evnt" in typo.stderr
    nofile = sluice("events", "check", "--bindings", tmp_path / "none.toml")
    assert nofile.returncode == 2 and "no such bindings file" in nofile.stderr


def test_trigger_runs_the_bound_scripts_and_keeps_them_in_history(sluice, tmp_path):
    write(tmp_path, "hello.dg", 'info "hello " + name;\nreturn name.length();\n')
    write(tmp_path, "greet.dg", 'void greet(string name) { info "hi " + name; }\n')
    write(tmp_path, "leaky.dg", 'r = invokeurl [ url: "http://127.0.0.1:9/" connection: "crm" ];\n')
    bindings = write(tmp_path, "events.toml",
                     '[[binding]]\nevent = "user.*"\nscript = "hello.dg"\n'
                     '[[binding]]\nevent = "user.created"\nscript = "greet.dg"\n'
                     'arguments = { name = "profile.first" }\n'
                     '[[binding]]\nevent = "crm.touch"\nscript = "leaky.dg"\n'
                     'connections = ["mailchimp"]\n')
    payload = write(tmp_path, "payload.json", '{"name": "Ann", "profile": {"first": "Annie"}}')
    done = sluice("trigger", "user.created", "--payload", payload, "--bindings", bindings)
    assert done.returncode == 0, done.stderr
    assert "info: hello Ann" in done.stdout and "returned: 3" in done.stdout
    assert "info: hi Annie" in done.stdout
    piped = sluice("trigger", "user.deleted", "--payload", "-", "--bindings", bindings,
                   "--json", input='{"name": "Bo"}')
    (run,) = json.loads(piped.stdout)
    assert run["status"] == "done" and run["return"] == 2 and run["info"] == ["hello Bo"]
    refused = sluice("trigger", "crm.touch", "--bindings", bindings)
    assert refused.returncode == 1
    assert "may not use connection 'crm' (it may use: mailchimp)" in refused.stdout
    none = sluice("trigger", "nobody.cares", "--bindings", bindings)
    assert none.returncode == 2 and "no binding for event" in none.stderr

    listed = json.loads(sluice("runs", "list", "--json").stdout)
    assert [r["event"] for r in listed] == ["crm.touch", "user.deleted", "user.created",
                                           "user.created"]
    shown = sluice("runs", "show", listed[0]["id"])
    assert "failed" in shown.stdout and "event: crm.touch" in shown.stdout
    assert sluice("runs", "show", "nope").returncode == 1
    assert "kept 7 days" in sluice("runs", "retention", "7").stdout
    assert "0 finished run(s)" in sluice("runs", "prune").stdout
    assert "4 finished run(s)" in sluice("runs", "prune", "--older-than", "0").stdout


def test_an_event_script_uses_the_crm_backend_chosen_with_sluice_crm(sluice, tmp_path):
    write(tmp_path, "data.json", '{"Leads": [{"id": "41", "Last_Name": "Ng"}]}')
    write(tmp_path, "touch.dg", 'r = zoho.crm.updateRecord("Leads", leadId, {"Touched": true});\n'
                                'return zoho.crm.getRecordById("Leads", leadId).get("Touched");\n')
    bindings = write(tmp_path, "events.toml", '[[binding]]\nevent = "lead.seen"\n'
                     'script = "touch.dg"\narguments = { leadId = "id" }\n')
    payload = write(tmp_path, "payload.json", '{"id": 41}')
    unchosen = sluice("trigger", "lead.seen", "--payload", payload, "--bindings", bindings)
    assert unchosen.returncode == 1 and "sluice crm use" in unchosen.stdout
    assert sluice("crm", "load", tmp_path / "data.json").returncode == 0
    assert sluice("crm", "use", "local").returncode == 0
    done = sluice("trigger", "lead.seen", "--payload", payload, "--bindings", bindings, "--json")
    (run,) = json.loads(done.stdout)
    assert run["status"] == "done" and run["return"] is True


def test_a_payload_without_a_path_fails_that_run_naming_binding_parameter_and_path(sluice,
                                                                                  tmp_path):
    write(tmp_path, "greet.dg", 'string greet(string name, string tag) {\n'
                                '    return name + " " + ifnull(tag, "-");\n}\n')
    write(tmp_path, "hello.dg", 'return "hello";\n')
    bindings = write(tmp_path, "events.toml",
                     '[[binding]]\nname = "greet leads"\nevent = "lead.created"\n'
                     'script = "greet.dg"\narguments = { name = "data.name", tag = "data.tags.0?" }\n'
                     '[[binding]]\nevent = "lead.*"\nscript = "hello.dg"\n')
    missing = sluice("trigger", "lead.created", "--payload", "-", "--bindings", bindings,
                     input='{"data": {"tags": ["vip"]}}')
    assert missing.returncode == 1
    assert ("binding 'greet leads': parameter 'name' has no value: the payload has nothing at "
            "'data.name'") in missing.stdout
    assert "returned: hello" in missing.stdout  # the other binding still ran
    optional = sluice("trigger", "lead.created", "--payload", "-", "--bindings", bindings,
                      input='{"data": {"name": "Ann"}}')
    assert optional.returncode == 0 and "returned: Ann -" in optional.stdout
    null = sluice("trigger", "lead.created", "--payload", "-", "--bindings", bindings, "--json",
                  input='{"data": {"name": null, "tags": []}}')
    assert null.returncode == 0, null.stdout  # a null is a value

    listed = sluice("runs", "list")
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "CREATED", "STATUS", "TOOK", "EVENT", "BINDING", "RESULT"]
    assert any(line.endswith("  Ann -") for line in lines)
    assert any(line.endswith("  hello") for line in lines)
    failed = next(line for line in lines if " failed " in line)
    assert failed.endswith("binding 'greet leads': parameter 'name' has no ...")


def test_the_readme_s_events_example_on_a_fresh_home(sluice, tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("$ sluice events check"):]
    payload = block[block.index("<<'EOF'\n") + 8:block.index("\nEOF\n")]
    (tmp_path / "order.json").write_text(payload)
    assert sluice("events", "check", cwd=ROOT).returncode == 0
    ran = sluice("trigger", "webhook.shop", "--payload", tmp_path / "order.json", cwd=ROOT)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    shown = block[block.index("  returned: "):].splitlines()[0]
    assert shown in ran.stdout.splitlines()
    assert "done" in sluice("runs", "list").stdout


def test_binding_limits_take_whole_numbers_written_as_decimals(sluice, tmp_path):
    write(tmp_path, "loop.dg", 'n = 0;\nfor each i in {1,2,3,4,5,6,7,8,9,10} { n = n + i; }\n'
                               'return n;\n')
    bindings = write(tmp_path, "events.toml", '[[binding]]\nevent = "go"\nscript = "loop.dg"\n'
                     'limits = { statements = 5000.0, time = 30 }\n')
    assert sluice("events", "check", "--bindings", bindings).returncode == 0
    ran = sluice("trigger", "go", "--bindings", bindings)
    assert ran.returncode == 0 and "returned: 55" in ran.stdout
    write(tmp_path, "half.toml", '[[binding]]\nevent = "go"\nscript = "loop.dg"\n'
          'limits = { statements = 5000.5 }\n')
    half = sluice("events", "check", "--bindings", tmp_path / "half.toml")
    assert half.returncode == 2 and "statements is a whole number" in half.stderr
