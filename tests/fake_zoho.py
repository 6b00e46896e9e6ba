"""A fake of the Zoho CRM v8 and Creator v2.1 REST APIs, strict about what it accepts: the
`Zoho-oauthtoken` header (a token of the local provider), paths, query parameters (`fields` is
required where the API requires it) and JSON bodies (`{"data": [...]}`), answering with the
documented shapes, success and error. It runs inside the LocalProvider (`LocalProvider(
extend=FakeZoho(...).install)`), so OAuth and the API share tokens, as at Zoho."""

from __future__ import annotations

import copy
import itertools
import re

from flask import jsonify, request

from sluice.crm.local import parse_criteria

MODULE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
TRIGGERS = {"workflow", "approval", "blueprint", "pathfinder", "orchestration"}


def err(code, message, status=400, **details):
    return jsonify(code=code, details=details, message=message, status="error"), status


def item_error(code, message, status=400, **details):
    return jsonify(data=[{"code": code, "details": details, "message": message,
                          "status": "error"}]), status


UNIQUE = {"Leads": ["Email"], "Contacts": ["Email"], "Accounts": ["Account_Name"],
          "Deals": ["Deal_Name"]}


class FakeZoho:
    def __init__(self, modules: dict, variables: dict | None = None, forms: dict | None = None):
        self.modules = {m: {str(r["id"]): copy.deepcopy(r) for r in rs}
                        for m, rs in modules.items()}
        self.variables = dict(variables or {})
        self.forms = {f: {str(r["ID"]): copy.deepcopy(r) for r in rs}
                      for f, rs in (forms or {}).items()}
        self.ids = itertools.count(4876876000000900001)
        self.calls: list[tuple] = []  # (method, path, query)
        self.bodies: list[tuple] = []  # (path, JSON body) of each write
        self.mails: list[dict] = []  # what send_mail sent
        self.mandatory = {"Leads": ["Last_Name"], "Contacts": ["Last_Name"],
                          "Deals": ["Deal_Name", "Stage"], "Accounts": ["Account_Name"]}

    def install(self, app, provider):
        fake = self

        def authorized():
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme != "Zoho-oauthtoken":
                return False
            with provider.lock:
                found = provider.tokens.get(token.strip())
            return found is not None and not found.is_expired() and not found.revoked

        @app.before_request
        def check():
            if not request.path.startswith(("/crm/", "/creator/")):
                return None
            fake.calls.append((request.method, request.path, request.args.to_dict()))
            if request.method != "GET":
                fake.bodies.append((request.path, request.get_json(silent=True)))
            if not authorized():
                return err("INVALID_TOKEN", "invalid oauth token", 401)
            return None

        def module_or_error(module):
            if module not in fake.modules:
                return None, err("INVALID_MODULE", "the module name given seems to be invalid",
                                 resource_path_index=0)
            return fake.modules[module], None

        def fields_required():
            if not request.args.get("fields"):
                return err("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                           param="fields")
            if len(request.args["fields"].split(",")) > 50:
                return err("LIMIT_EXCEEDED", "the number of fields exceeds the limit",
                           param="fields", maximum_length=50)
            return None

        def listing(records):
            page = int(request.args.get("page", 1))
            per_page = int(request.args.get("per_page", 200))
            chosen = records[(page - 1) * per_page: page * per_page]
            if not chosen:
                return "", 204
            fields = request.args.get("fields")
            if fields:
                names = set(fields.split(",")) | {"id"}
                chosen = [{k: v for k, v in r.items() if k in names} for r in chosen]
            return jsonify(data=chosen, info={"per_page": per_page, "count": len(chosen),
                                              "page": page,
                                              "more_records": len(records) > page * per_page})

        def body_data():
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list) or \
                    not body["data"] or not all(isinstance(d, dict) for d in body["data"]):
                return None, err("INVALID_DATA", "invalid data", expected_data_type="jsonarray",
                                 api_name="data")
            trigger = body.get("trigger")
            if trigger is not None and (not isinstance(trigger, list) or
                                        not set(trigger) <= TRIGGERS):
                return None, err("INVALID_DATA", "invalid data", api_name="trigger")
            return body, None

        def module_and_body(module, record_id=None):
            """(records, body, None) of a write (to an existing record, given its id), or
            (None, None, the error answer)."""
            records, problem = module_or_error(module)
            if problem:
                return None, None, problem
            body, problem = body_data()
            if problem is None and record_id is not None and record_id not in records:
                problem = item_error("INVALID_DATA", "the id given seems to be invalid",
                                     id=record_id)
            return records, body, problem

        def stamp(record):
            record.update(Modified_Time="2026-11-28T10:00:00+05:30",
                          Modified_By={"name": "Fake Admin", "id": "4876876000000000007"})

        def details(record):
            return {"Modified_Time": record["Modified_Time"],
                    "Modified_By": record["Modified_By"],
                    "Created_Time": record.get("Created_Time"), "id": record["id"],
                    "Created_By": record.get("Created_By")}

        @app.get("/crm/v8/settings/fields")
        def fields_meta():
            module = request.args.get("module", "")
            records, problem = module_or_error(module)
            if problem:
                return problem
            names = sorted({k for r in records.values() for k in r})
            return jsonify(fields=[{"api_name": n, "id": str(i)} for i, n in enumerate(names)])

        @app.get("/crm/v8/settings/variables/<name>")
        def variable(name):
            if name not in fake.variables:
                return err("INVALID_DATA", "the given variable does not exist")
            return jsonify(variables=[{"api_name": name, "value": fake.variables[name],
                                       "id": "4876876000000000555"}])

        @app.get("/crm/v8/<module>/search")
        def search(module):
            records, problem = module_or_error(module)
            if problem:
                return problem
            if "criteria" in request.args:
                try:
                    test = parse_criteria(request.args["criteria"])
                except ValueError:
                    return err("INVALID_QUERY", "invalid query formed")
                found = [r for r in records.values() if test(r)]
            elif "email" in request.args:
                wanted = request.args["email"].lower()
                found = [r for r in records.values() if str(r.get("Email", "")).lower() == wanted]
            elif "word" in request.args:
                wanted = request.args["word"].lower()
                found = [r for r in records.values()
                         if any(wanted in str(v).lower() for v in r.values())]
            else:
                return err("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                           param="criteria")
            return listing(found)

        @app.get("/crm/v8/<module>/<record_id>")
        def get_one(module, record_id):
            records, problem = module_or_error(module)
            if problem:
                return problem
            if record_id not in records:
                return err("INVALID_DATA", "the id given seems to be invalid", id=record_id)
            return jsonify(data=[records[record_id]])

        @app.get("/crm/v8/<module>")
        def get_many(module):
            records, problem = module_or_error(module)
            if problem:
                return problem
            return fields_required() or listing(list(records.values()))

        def insert(module, records, item, index):
            """One record of a create: (its answer item, whether it was made)."""
            record = dict(item)
            for field in fake.mandatory.get(module, []):
                if not record.get(field):
                    return {"code": "MANDATORY_NOT_FOUND", "message": "required field not found",
                            "details": {"api_name": field,
                                        "json_path": f"$.data[{index}].{field}"},
                            "status": "error"}, False
            record["id"] = str(next(fake.ids))
            record.update(Created_Time="2026-11-28T10:00:00+05:30",
                          Created_By={"name": "Fake Admin", "id": "4876876000000000007"})
            stamp(record)
            records[record["id"]] = record
            return {"code": "SUCCESS", "details": details(record), "message": "record added",
                    "status": "success"}, True

        @app.post("/crm/v8/<module>")
        def create(module):
            records, body, problem = module_and_body(module)
            if problem:
                return problem
            if len(body["data"]) > 100:
                return err("LIMIT_EXCEEDED", "the number of records exceeds the limit")
            answers = [insert(module, records, item, i) for i, item in enumerate(body["data"])]
            made = any(ok for _, ok in answers)
            return jsonify(data=[a for a, _ in answers]), (201 if made else 400)

        @app.post("/crm/v8/<module>/upsert")
        def upsert(module):
            records, body, problem = module_and_body(module)
            if problem:
                return problem
            item = body["data"][0]
            keys = body.get("duplicate_check_fields") or UNIQUE.get(module, [])
            for record in records.values():
                if keys and all(str(record.get(k, "")).lower() == str(item.get(k, "")).lower()
                                and item.get(k) for k in keys):
                    record.update({k: v for k, v in item.items() if k != "id"})
                    stamp(record)
                    return jsonify(data=[{"code": "SUCCESS", "duplicate_field": keys[0],
                                          "action": "update", "details": details(record),
                                          "message": "record updated", "status": "success"}])
            answer, ok = insert(module, records, item, 0)
            answer.update(action="insert", duplicate_field=None)
            return jsonify(data=[answer]), (201 if ok else 400)

        @app.post("/crm/v8/<module>/<record_id>/actions/send_mail")
        def send_mail(module, record_id):
            records, body, problem = module_and_body(module, record_id)
            if problem:
                return problem
            for mail in body["data"]:
                if not mail.get("to") or not mail.get("from"):
                    return item_error("MANDATORY_NOT_FOUND", "required field not found",
                                      api_name="to" if not mail.get("to") else "from")
                fake.mails.append(dict(mail, record=record_id))
            return jsonify(data=[{"code": "SUCCESS", "details": {"message_id": "m-1"},
                                  "message": "Your mail has been sent successfully.",
                                  "status": "success"} for _ in body["data"]])

        @app.post("/crm/v8/Leads/<record_id>/actions/convert")
        def convert(record_id):
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                return err("INVALID_DATA", "invalid data", api_name="data")
            lead = fake.modules["Leads"].pop(record_id, None)
            if lead is None:
                return item_error("INVALID_DATA", "the id given seems to be invalid",
                                  id=record_id)
            values = body["data"][0]
            made = {}
            account = {"Account_Name": lead.get("Company")} if lead.get("Company") else None
            contact = {k: lead[k] for k in ("First_Name", "Last_Name", "Email") if k in lead}
            for module, record in (("Accounts", account), ("Contacts", contact),
                                   ("Deals", values.get("Deals"))):
                if record is None:
                    continue
                answer, ok = insert(module, fake.modules.setdefault(module, {}), record, 0)
                if not ok:
                    return jsonify(data=[answer]), 400
                made[module] = {"name": next(iter(record.values()), ""),
                                "id": answer["details"]["id"]}
            return jsonify(data=[{"code": "SUCCESS", "details": made,
                                  "message": "Successfully converted", "status": "success"}])

        @app.put("/crm/v8/<module>/<record_id>")
        def update(module, record_id):
            records, body, problem = module_and_body(module, record_id)
            if problem:
                return problem
            changes = {k: v for k, v in body["data"][0].items() if k != "id"}
            records[record_id].update(changes)
            stamp(records[record_id])
            return jsonify(data=[{"code": "SUCCESS", "details": details(records[record_id]),
                                  "message": "record updated", "status": "success"}])

        @app.put("/crm/v8/<module>")
        def bulk(module):
            records, body, problem = module_and_body(module)
            if problem:
                return problem
            out = []
            for item in body["data"]:
                rid = str(item.get("id", ""))
                if rid not in records:
                    out.append({"code": "INVALID_DATA", "details": {"id": rid},
                                "message": "the id given seems to be invalid",
                                "status": "error"})
                    continue
                records[rid].update({k: v for k, v in item.items() if k != "id"})
                stamp(records[rid])
                out.append({"code": "SUCCESS", "details": details(records[rid]),
                            "message": "record updated", "status": "success"})
            return jsonify(data=out)

        @app.delete("/crm/v8/<module>/<record_id>")
        def delete(module, record_id):
            records, problem = module_or_error(module)
            if problem:
                return problem
            if records.pop(record_id, None) is None:
                return item_error("INVALID_DATA", "the id given seems to be invalid",
                                  id=record_id)
            return jsonify(data=[{"code": "SUCCESS", "details": {"id": record_id},
                                  "message": "record deleted", "status": "success"}])

        @app.get("/crm/v8/<module>/<record_id>/<related>")
        def related(module, record_id, related):
            records, problem = module_or_error(module)
            if problem:
                return problem
            if record_id not in records:
                return err("INVALID_DATA", "the id given seems to be invalid", id=record_id)
            problem = fields_required()
            if problem:
                return problem
            children = fake.modules.get(related, {}).values()
            found = [r for r in children
                     if any(isinstance(v, dict) and v.get("id") == record_id
                            for k, v in r.items() if k not in ("Owner", "Created_By",
                                                               "Modified_By"))]
            return listing(found)

        @app.put("/crm/v8/<module>/<record_id>/<related>/<related_id>")
        def update_related(module, record_id, related, related_id):
            body, problem = body_data()
            if problem:
                return problem
            target = fake.modules.get(related, {}).get(related_id)
            if target is None or record_id not in fake.modules.get(module, {}):
                return item_error("INVALID_DATA", "the related id given seems to be invalid",
                                  id=related_id)
            target.update(body["data"][0])
            return jsonify(data=[{"code": "SUCCESS", "details": {"id": related_id},
                                  "message": "relation updated", "status": "success"}])

        @app.post("/crm/v8/<module>/<record_id>/Attachments")
        def attach(module, record_id):
            if "file" not in request.files:
                return err("REQUIRED_PARAM_MISSING", "file is missing", param="file")
            record = {"id": str(next(fake.ids)), "File_Name": request.files["file"].filename,
                      "Created_Time": "2026-11-28T10:00:00+05:30"}
            stamp(record)
            record["Created_By"] = record["Modified_By"]
            return jsonify(data=[{"code": "SUCCESS", "details": details(record),
                                  "message": "attachment uploaded", "status": "success"}])

        @app.get("/creator/v2.1/data/<owner>/<app_name>/report/<report>")
        def creator_report(owner, app_name, report):
            form = report[4:].rstrip("s") + "s" if report.startswith("All_") else report
            records = list(fake.forms.get(form, {}).values())
            criteria = request.args.get("criteria", "")
            m = re.fullmatch(r'\s*(\w+)\s*==\s*"([^"]*)"\s*', criteria)
            if criteria and m:
                records = [r for r in records if str(r.get(m.group(1))) == m.group(2)]
            if not records:
                return jsonify(code=3100, message="No Data Available"), 404
            return jsonify(code=3000, data=records)

        @app.post("/creator/v2.1/data/<owner>/<app_name>/form/<form>")
        def creator_add(owner, app_name, form):
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
                return jsonify(code=3001, message="Invalid data"), 400
            record = dict(body["data"], ID=str(next(fake.ids)))
            fake.forms.setdefault(form, {})[record["ID"]] = record
            return jsonify(code=3000, data={"ID": record["ID"]},
                           message="Data Added Successfully")

        @app.patch("/creator/v2.1/data/<owner>/<app_name>/report/<report>/<record_id>")
        def creator_update(owner, app_name, report, record_id):
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
                return jsonify(code=3001, message="Invalid data"), 400
            for records in fake.forms.values():
                if record_id in records:
                    records[record_id].update(body["data"])
                    return jsonify(code=3000, data={"ID": record_id},
                                   message="Data Updated Successfully")
            return jsonify(code=3100, message="No Data Available"), 404
