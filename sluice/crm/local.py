"""The local CRM backend: Zoho CRM modules and Creator forms in one SQLite file, offline.

`$SLUICE_HOME/crm.db` holds one table per module (and per Creator form), each row a JSON record,
plus the org variables. It is seeded from a JSON file and exported to one:

    {
      "Leads": [{"id": "4876876000000000001", "Last_Name": "Smith", "Email": "s@x.com"}],
      "Deals": [{"Deal_Name": "Big", "Stage": "Qualification",
                 "Account_Name": {"id": "4876876000000000007"}}],
      "_variables": {"discount_rate": "10"},
      "_forms": {"Orders": [{"ID": 3000000000000000001, "Item": "Pen"}]}
    }

It answers as the Zoho API does: write tasks return the record's `details` (id, times, users)
or an error map (`MANDATORY_NOT_FOUND`, `INVALID_DATA`, `INVALID_MODULE`); search criteria
`((Field:op:value) and (...))` with equals, not_equal, starts_with, in, between, greater_than,
greater_equal, less_than, less_equal, plus the email / phone / word searches. A related list
is the records of that module that point at the parent through a lookup field (`{"id": ...}`
or the bare id), or that `updateRelatedRecord` linked to it. A lookup written as a bare id
(`"Owner": "4876..."`) is kept as Zoho shows it, `{"name": ..., "id": ...}`.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from connections.localdb import ThreadConnections
from runtime.errors import DelugeError
from runtime.tasks.crm import CRITERIA_OPERATORS, search_kind
from runtime.values import to_plain, to_text

DB_FILE = "crm.db"
FIRST_CRM_ID = 4_876_876_000_000_000_000
FIRST_CREATOR_ID = 3_000_000_000_000_000_000
USER = {"name": "Sluice", "id": "4876876000000000000", "email": "user@sluice.local"}
# What Zoho refuses to create without (standard modules).
MANDATORY = {"Leads": ("Last_Name",), "Contacts": ("Last_Name",), "Accounts": ("Account_Name",),
             "Deals": ("Deal_Name", "Stage"), "Tasks": ("Subject",), "Calls": ("Subject",),
             "Products": ("Product_Name",), "Campaigns": ("Campaign_Name",),
             "Vendors": ("Vendor_Name",), "Cases": ("Subject",), "Solutions": ("Solution_Title",),
             "Events": ("Event_Title",), "Quotes": ("Subject",), "Sales_Orders": ("Subject",),
             "Purchase_Orders": ("Subject",), "Invoices": ("Subject",)}
# Modules every CRM org has: reading one that has no records yet finds none, not INVALID_MODULE.
STANDARD_MODULES = frozenset(MANDATORY) | {"Notes", "Attachments", "Price_Books", "Users",
                                           "Activities", "Appointments__s", "Services__s"}
# Fields that hold a lookup (`{"name": ..., "id": ...}`) in the standard modules; a write may set
# one (or any field that holds a lookup already) by a bare record id.
LOOKUP_FIELDS = frozenset({"Owner", "Account_Name", "Contact_Name", "Deal_Name", "Vendor_Name",
                           "Campaign_Source", "What_Id", "Who_Id", "Parent_Id", "Reporting_To",
                           "Product_Name", "Quote_Name", "Sales_Order"})
RECORD_ID = re.compile(r"^\d{15,19}$")
NAME_FIELDS = ("Full_Name", "full_name", "Account_Name", "Deal_Name", "Product_Name",
               "Vendor_Name", "Campaign_Name", "Subject", "Name", "name", "Last_Name")
EMAIL_FIELDS = ("Email", "Secondary_Email")
# What upsert matches on when the script names no duplicate-check fields (Zoho's defaults).
UNIQUE_FIELDS = {"Leads": ("Email",), "Contacts": ("Email",), "Accounts": ("Account_Name",),
                 "Deals": ("Deal_Name",), "Products": ("Product_Name",),
                 "Vendors": ("Vendor_Name",), "Campaigns": ("Campaign_Name",)}
# What a converted lead gives its new contact: lead field -> contact field.
CONVERTED_FIELDS = {**{f: f for f in ("Salutation", "First_Name", "Last_Name", "Email", "Phone",
                                      "Mobile", "Fax", "Description", "Lead_Source",
                                      "Secondary_Email", "Skype_ID", "Twitter")},
                    "Designation": "Title", "Street": "Mailing_Street", "City": "Mailing_City",
                    "State": "Mailing_State", "Zip_Code": "Mailing_Zip",
                    "Country": "Mailing_Country"}
PHONE_FIELDS = ("Phone", "Mobile", "Home_Phone", "Other_Phone", "Asst_Phone", "Fax")


def error(code: str, message: str, **details) -> dict:
    return {"code": code, "details": details, "message": message, "status": "error"}


def now_text() -> str:
    return datetime.now(timezone.utc).astimezone().replace(microsecond=0).isoformat()


class LocalCrm:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._connections = ThreadConnections(self.path)
        self._db = self._connections.get
        db = self._db()
        db.executescript("""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS modules (name TEXT PRIMARY KEY, kind TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS records (
                kind TEXT NOT NULL, module TEXT NOT NULL, id TEXT NOT NULL,
                seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL,
                UNIQUE (kind, module, id));
            CREATE TABLE IF NOT EXISTS variables (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        """)

    @classmethod
    def open(cls, home=None) -> "LocalCrm":
        from connections.store import default_home

        return cls(Path(home if home is not None else default_home()) / DB_FILE)

    def close(self) -> None:
        self._connections.close()

    def _write(self, sql_and_args: list[tuple]) -> None:
        with self._connections.transaction() as db:
            for sql, args in sql_and_args:
                db.execute(sql, args)

    # ------------------------------------------------------------------ seed and export

    def load(self, data: dict) -> None:
        """Replace everything with the contents of a fixtures map (see the module doc)."""
        if not isinstance(data, dict):
            raise ValueError("the CRM data must be a JSON object of modules")
        writes = [("DELETE FROM records", ()), ("DELETE FROM modules", ()),
                  ("DELETE FROM variables", ())]
        next_crm, next_form = FIRST_CRM_ID, FIRST_CREATOR_ID
        for name, value in data.items():
            if name == "_variables":
                if not isinstance(value, dict):
                    raise ValueError("_variables must map names to values")
                writes += [("INSERT INTO variables VALUES (?, ?)", (k, json.dumps(v)))
                           for k, v in value.items()]
                continue
            if name == "_forms":
                if not isinstance(value, dict):
                    raise ValueError("_forms must map form names to lists of records")
                for form, records in value.items():
                    writes.append(("INSERT INTO modules VALUES (?, 'form')", (form,)))
                    for record in _records(records, f"_forms.{form}"):
                        if "ID" not in record:
                            next_form += 1
                            record["ID"] = next_form
                        elif str(record["ID"]).isdigit():
                            next_form = max(next_form, int(record["ID"]))
                        writes.append(("INSERT INTO records (kind, module, id, record) VALUES "
                                       "('form', ?, ?, ?)", (form, str(record["ID"]),
                                                             json.dumps(record))))
                continue
            if name.startswith("_"):
                raise ValueError(f"unknown section {name}: modules, _variables or _forms")
            if isinstance(value, dict) and "data" in value:  # a saved API answer
                value = value["data"]
            writes.append(("INSERT INTO modules VALUES (?, 'crm')", (name,)))
            for record in _records(value, name):
                if "id" not in record:
                    next_crm += 1
                    record["id"] = str(next_crm)
                record["id"] = str(record["id"])
                writes.append(("INSERT INTO records (kind, module, id, record) VALUES "
                               "('crm', ?, ?, ?)", (name, record["id"], json.dumps(record))))
                if record["id"].isdigit():
                    next_crm = max(next_crm, int(record["id"]))
        writes += [("INSERT OR REPLACE INTO meta VALUES ('crm_id', ?)", (str(next_crm),)),
                   ("INSERT OR REPLACE INTO meta VALUES ('form_id', ?)", (str(next_form),))]
        self._write(writes)

    def load_file(self, path: str | os.PathLike) -> int:
        """`load` a fixtures file; the number of records loaded. Any problem with the file is a
        ValueError that names it."""
        try:
            self.load(json.loads(Path(path).read_text(encoding="utf-8-sig")))
        except OSError as e:
            raise ValueError(f"{path}: {e.strerror}") from None
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
        return sum(self.counts().values())

    def export(self) -> dict:
        out: dict = {}
        forms: dict = {}
        for name, kind in self._db().execute("SELECT name, kind FROM modules ORDER BY rowid"):
            (forms if kind == "form" else out)[name] = []
        for kind, module, record in self._db().execute(
                "SELECT kind, module, record FROM records ORDER BY seq"):
            (forms if kind == "form" else out).setdefault(module, []).append(json.loads(record))
        variables = {k: json.loads(v) for k, v in
                     self._db().execute("SELECT name, value FROM variables ORDER BY name")}
        if variables:
            out["_variables"] = variables
        if forms:
            out["_forms"] = forms
        return out

    def counts(self) -> dict[str, int]:
        """Records per module (Creator forms as `form:Name`)."""
        out = {}
        for kind, module, count in self._db().execute(
                "SELECT m.kind, m.name, COUNT(r.id) FROM modules m LEFT JOIN records r ON "
                "r.kind = m.kind AND r.module = m.name GROUP BY m.kind, m.name ORDER BY m.rowid"):
            out[f"form:{module}" if kind == "form" else module] = count
        return out

    # ------------------------------------------------------------------ records

    def _has_module(self, module: str, kind: str = "crm") -> bool:
        if kind == "crm" and module in STANDARD_MODULES:
            return True
        return self._db().execute("SELECT 1 FROM modules WHERE name = ? AND kind = ?",
                                  (module, kind)).fetchone() is not None

    def _all(self, module: str, kind: str = "crm") -> list[dict]:
        return [json.loads(r[0]) for r in self._db().execute(
            "SELECT record FROM records WHERE kind = ? AND module = ? ORDER BY seq",
            (kind, module))]

    def _one(self, module: str, record_id: str, kind: str = "crm") -> dict | None:
        row = self._db().execute("SELECT record FROM records WHERE kind = ? AND module = ? AND "
                                 "id = ?", (kind, module, str(record_id))).fetchone()
        return json.loads(row[0]) if row else None

    def _next_id(self, key: str, first: int) -> int:
        """A new record id, taken in a transaction of its own: two processes never get one
        id."""
        with self._connections.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            value = max(first, int(row[0]) if row else first) + 1
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))
        return value

    def _save(self, module: str, record: dict, kind: str = "crm", new: bool = False) -> None:
        key = str(record["id"] if kind == "crm" else record["ID"])
        writes = [("INSERT OR IGNORE INTO modules VALUES (?, ?)", (module, kind))]
        if new:
            writes.append(("INSERT INTO records (kind, module, id, record) VALUES (?, ?, ?, ?)",
                           (kind, module, key, json.dumps(record))))
        else:
            writes.append(("UPDATE records SET record = ? WHERE kind = ? AND module = ? AND "
                           "id = ?", (json.dumps(record), kind, module, key)))
        self._write(writes)

    @staticmethod
    def _details(record: dict) -> dict:
        """What a write answers; a record seeded without the system fields gets them here."""
        modified = record.get("Modified_Time")
        return {"Modified_Time": modified, "Modified_By": record.get("Modified_By") or dict(USER),
                "Created_Time": record.get("Created_Time") or modified, "id": record["id"],
                "Created_By": record.get("Created_By") or dict(USER)}

    def _lookups(self, changes: dict, existing: dict) -> dict:
        """A lookup set by a bare id (`"Owner": "4876..."`) is kept as Zoho shows it:
        `{"name": ..., "id": ...}`, the name taken from the record it points at."""
        for key, value in changes.items():
            if isinstance(value, bool) or not isinstance(value, (str, int)) or \
                    not RECORD_ID.match(str(value)):
                continue
            if key in LOOKUP_FIELDS or isinstance(existing.get(key), dict):
                changes[key] = self._lookup(str(value))
        return changes

    def _lookup(self, record_id: str) -> dict:
        if record_id == USER["id"]:
            return dict(USER)
        row = self._db().execute("SELECT record FROM records WHERE kind = 'crm' AND id = ?",
                                 (record_id,)).fetchone()
        target = json.loads(row[0]) if row else {}
        name = next((target[f] for f in NAME_FIELDS if isinstance(target.get(f), str)), None)
        if name is None and (target.get("First_Name") or target.get("Last_Name")):
            name = " ".join(filter(None, (target.get("First_Name"), target.get("Last_Name"))))
        return {"name": name, "id": record_id} if name else {"id": record_id}

    def _invalid_module(self, module: str) -> dict:
        return error("INVALID_MODULE", "the module name given seems to be invalid",
                     resource_path_index=0, module=module)

    # ------------------------------------------------------------------ the backend interface

    def get_record(self, run, module, record_id, connection):
        if not self._has_module(module):
            return self._invalid_module(module)
        record = self._one(module, record_id)
        if record is None:
            return error("INVALID_DATA", "the id given seems to be invalid", id=record_id)
        return _deluge(record)

    def get_records(self, run, module, page, per_page, query, connection):
        if not self._has_module(module):
            return self._invalid_module(module)
        records = self._all(module)
        sort_by = query.get("sort_by")
        if sort_by:
            records.sort(key=lambda r: _sort_key(r.get(sort_by)),
                         reverse=str(query.get("sort_order", "asc")).lower() == "desc")
        return _deluge(_page(records, page, per_page))

    def search(self, run, module, criteria, page, per_page, query, connection):
        if not self._has_module(module):
            return self._invalid_module(module)
        kind, value = search_kind(criteria)
        if kind != "criteria":
            test = _simple_search(kind, value)
        else:
            try:
                test = parse_criteria(value)
            except ValueError as e:
                return error("INVALID_QUERY", f"invalid query formed: {e}", criteria=criteria)
        return _deluge(_page([r for r in self._all(module) if test(r)], page, per_page))

    def create(self, run, module, data, options, connection):
        record = self._lookups(_plain_record(data), {})
        missing = [f for f in MANDATORY.get(module, ()) if record.get(f) in (None, "")]
        if missing:
            return error("MANDATORY_NOT_FOUND", "required field not found",
                         api_name=missing[0], json_path=f"$.data[0].{missing[0]}")
        stamp = now_text()
        record.update(id=str(self._next_id("crm_id", FIRST_CRM_ID)), Created_Time=stamp,
                      Modified_Time=stamp, Created_By=dict(USER), Modified_By=dict(USER))
        record.setdefault("Owner", dict(USER))
        self._save(module, record, new=True)
        return _deluge(self._details(record))

    def update(self, run, module, record_id, data, options, connection):
        if not self._has_module(module):
            return self._invalid_module(module)
        record = self._one(module, record_id)
        if record is None:
            return error("INVALID_DATA", "the id given seems to be invalid", id=record_id)
        changes = self._lookups(_plain_record(data), record)
        changes.pop("id", None)
        record.update(changes)
        record.update(Modified_Time=now_text(), Modified_By=dict(USER))
        self._save(module, record)
        return _deluge(self._details(record))

    def delete(self, run, module, record_id, options, connection):
        if not self._has_module(module):
            return self._invalid_module(module)
        if self._one(module, record_id) is None:
            return error("INVALID_DATA", "the id given seems to be invalid", id=record_id)
        self._write([("DELETE FROM records WHERE kind = 'crm' AND module = ? AND id = ?",
                      (module, record_id))])
        return {"id": record_id}

    def related(self, run, relation, module, record_id, page, per_page, query, connection):
        if not self._has_module(module):
            return self._invalid_module(module)
        if self._one(module, record_id) is None:
            return error("INVALID_DATA", "the id given seems to be invalid", id=record_id)
        found = [r for r in self._all(relation) if _points_at(r, module, record_id)]
        return _deluge(_page(found, page, per_page))

    def update_related(self, run, relation, related_id, module, record_id, data, connection):
        if self._one(module, record_id) is None:
            return error("INVALID_DATA", "the id given seems to be invalid", id=record_id)
        related = self._one(relation, related_id)
        if related is None:
            return error("INVALID_DATA", "the related id given seems to be invalid",
                         id=related_id)
        related.update(_plain_record(data))
        links = related.setdefault("$linked_to", [])
        if {"module": module, "id": record_id} not in links:
            links.append({"module": module, "id": record_id})
        related["Modified_Time"] = now_text()
        self._save(relation, related)
        return {"id": related_id}

    def org_variable(self, run, name, connection):
        row = self._db().execute("SELECT value FROM variables WHERE name = ?",
                                 (name,)).fetchone()
        if row is None:
            return error("INVALID_DATA", "the variable name given seems to be invalid",
                         api_name=name)
        return json.loads(row[0])

    def attach_file(self, run, module, record_id, file, connection):
        if self._one(module, record_id) is None:
            return error("INVALID_DATA", "the id given seems to be invalid", id=record_id)
        stamp = now_text()
        record = {"id": str(self._next_id("crm_id", FIRST_CRM_ID)), "File_Name": file.name,
                  "Size": str(len(file.content)), "Parent_Id": {"id": record_id},
                  "$se_module": module, "Created_Time": stamp, "Modified_Time": stamp,
                  "Created_By": dict(USER), "Modified_By": dict(USER)}
        self._save("Attachments", record, new=True)
        return _deluge(self._details(record))

    def bulk_update(self, run, module, records, options, connection):
        results = []
        for r in records:
            plain = _plain_record(r)
            if not plain.get("id"):
                results.append(error("MANDATORY_NOT_FOUND", "required field not found",
                                     api_name="id"))
                continue
            results.append(self.update(run, module, str(plain["id"]), plain, options,
                                       connection))
        return results

    def bulk_create(self, run, module, records, options, connection):
        return [self.create(run, module, r, options, connection) for r in records]

    def upsert(self, run, module, data, options, connection):
        """Update the record that has the same values in the duplicate-check fields (the
        option `duplicate_check_fields`, else the module's unique field), or create one."""
        fields = options.get("duplicate_check_fields") or UNIQUE_FIELDS.get(module, ())
        if isinstance(fields, str):
            fields = [fields]
        record = _plain_record(data)
        wanted = {f: _as_text(record.get(f)).lower() for f in fields if record.get(f) not in
                  (None, "")}
        if wanted and self._has_module(module):
            for existing in self._all(module):
                if all(_as_text(existing.get(f)).lower() == v for f, v in wanted.items()):
                    return self.update(run, module, existing["id"], data, options, connection)
        return self.create(run, module, data, options, connection)

    def convert_lead(self, run, lead_id, values, connection):
        """As Zoho converts a lead: its account (found by company name, or new), its contact
        (found by email, or new), a deal when `values` has one; the lead leaves Leads."""
        lead = self._one("Leads", lead_id)
        if lead is None:
            return error("INVALID_DATA", "the id given seems to be invalid", id=lead_id)
        values = _plain_record(values)
        deal = values.get("Deals")
        if deal is not None and (not isinstance(deal, dict) or
                                 any(deal.get(f) in (None, "") for f in MANDATORY["Deals"])):
            missing = next(f for f in MANDATORY["Deals"]
                           if not isinstance(deal, dict) or deal.get(f) in (None, ""))
            return error("MANDATORY_NOT_FOUND", "required field not found", api_name=missing,
                         json_path=f"$.data[0].Deals.{missing}")
        owner = values.get("assign_to") or lead.get("Owner") or dict(USER)
        owner = owner if isinstance(owner, dict) else {"id": str(owner)}
        account_id = _lookup_id(values.get("Accounts")) or self._find("Accounts", "Account_Name",
                                                                      lead.get("Company"))
        if account_id is None and lead.get("Company"):
            account_id = self.create(run, "Accounts", {"Account_Name": lead["Company"],
                                                       "Owner": owner}, {}, None)["id"]
        contact_id = _lookup_id(values.get("Contacts")) or self._find("Contacts", "Email",
                                                                      lead.get("Email"))
        if contact_id is None:
            copied = {to: lead[of] for of, to in CONVERTED_FIELDS.items()
                      if lead.get(of) not in (None, "")}
            if account_id:
                copied["Account_Name"] = str(account_id)
            contact_id = self.create(run, "Contacts", dict(copied, Owner=owner), {},
                                     None)["id"]
        deal_id = None
        if deal is not None:
            links = {"Contact_Name": str(contact_id), "Owner": owner}
            if account_id:
                links["Account_Name"] = str(account_id)
            deal_id = self.create(run, "Deals", dict(links, **deal), {}, None)["id"]
        self._write([("DELETE FROM records WHERE kind = 'crm' AND module = 'Leads' AND id = ?",
                      (lead_id,))])
        return {"Contacts": str(contact_id), "Deals": deal_id,
                "Accounts": str(account_id) if account_id else None}

    def send_mail(self, run, module, record_id, mails, connection):
        """`crm.sendmail`: each mail goes through the run's mail (SMTP, or the outbox)."""
        if self._one(module, record_id) is None:
            answer = {"data": [error("INVALID_DATA", "the id given seems to be invalid",
                                     id=record_id)]}
            return {"status_code": 400, "response": json.dumps(answer)}
        if run.services.mail is None:
            raise DelugeError("crm.sendmail cannot send mail here (no mail is set up)")
        sent = []
        for mail in mails:
            mail = _plain_record(mail)
            to = [_address(a) for a in _as_list(mail.get("to"))]
            if not any(to):
                answer = {"data": [error("MANDATORY_NOT_FOUND", "required field not found",
                                         api_name="to")]}
                return {"status_code": 400, "response": json.dumps(answer)}
            content = _as_text(mail.get("content"))
            note = run.services.mail.send({
                "from": _address(mail.get("from")) or USER["email"], "to": to,
                "cc": [_address(a) for a in _as_list(mail.get("cc"))],
                "bcc": [_address(a) for a in _as_list(mail.get("bcc"))],
                "reply_to": _address(mail.get("reply_to")) or None,
                "subject": _as_text(mail.get("subject")), "message": content,
                "attachments": [],
                "html": str(mail.get("mail_format", "html")).lower() == "html"})
            if note:
                run.note(note)
            sent.append({"code": "SUCCESS", "details": {"message_id": f"local-{len(sent) + 1}"},
                         "message": "Your mail has been sent successfully.",
                         "status": "success"})
        return {"status_code": 200, "response": json.dumps({"data": sent})}

    def _find(self, module: str, field: str, value) -> str | None:
        if value in (None, ""):
            return None
        wanted = _as_text(value).lower()
        for record in self._all(module):
            if _as_text(record.get(field)).lower() == wanted:
                return record["id"]
        return None

    # ------------------------------------------------------------------ Creator

    def _form_of(self, report: str) -> str:
        """A report is read from its form: `All_Orders` -> `Orders` (or `Order`)."""
        if self._has_module(report, "form"):
            return report
        base = report[4:] if report.lower().startswith("all_") else report
        for candidate in (base, base.rstrip("s"), base + "s"):
            if self._has_module(candidate, "form"):
                return candidate
        return base

    def creator_records(self, run, owner, app, report, criteria, page, size, connection):
        form = self._form_of(report)
        records = self._all(form, "form")
        if criteria.strip():
            test = creator_criteria(criteria)
            records = [r for r in records if test(r)]
        chosen = _page(records, page, size)
        if not chosen:
            return {"code": 3100, "message": "No Data Available"}
        return {"code": 3000, "data": _deluge(chosen)}

    def creator_create(self, run, owner, app, form, data, options, connection):
        record = dict(_plain_record(data), ID=self._next_id("form_id", FIRST_CREATOR_ID))
        self._save(form, record, kind="form", new=True)
        return {"code": 3000, "data": {"ID": record["ID"]}, "message": "Data Added Successfully"}

    def creator_update(self, run, owner, app, report, record_id, data, options, connection):
        form = self._form_of(report)
        record = self._one(form, record_id, "form")
        if record is None:
            return {"code": 3100, "message": "No Data Available"}
        record.update(_plain_record(data))
        self._save(form, record, kind="form")
        return {"code": 3000, "data": {"ID": record["ID"]},
                "message": "Data Updated Successfully"}

    def form_insert(self, run, form, values):
        record = dict(_plain_record(values), ID=self._next_id("form_id", FIRST_CREATOR_ID))
        self._save(form, record, kind="form", new=True)
        return record["ID"]

    def form_query(self, run, form, predicate, sort_by, descending, low, high):
        from runtime.values import from_plain

        records = [from_plain(r) for r in self._all(form, "form")]
        found = [r for r in records if predicate(r)]
        if sort_by:
            found.sort(key=lambda r: _sort_key(r.get(sort_by)), reverse=bool(descending))
        if low is not None:
            start = max(int(low), 1) - 1
            end = int(high) if high is not None else len(found)
            found = found[start:end]
        return found

    def form_delete(self, run, form, predicate):
        from runtime.values import from_plain

        doomed = [r["ID"] for r in self._all(form, "form") if predicate(from_plain(r))]
        self._write([("DELETE FROM records WHERE kind = 'form' AND module = ? AND id = ?",
                      (form, str(i))) for i in doomed])
        return None


# ---------------------------------------------------------------------------- helpers


def _records(value, where: str) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise ValueError(f"{where} must be a list of records (JSON objects)")
    return [dict(r) for r in value]


def _plain_record(data: dict) -> dict:
    return {str(k): to_plain(v) for k, v in data.items()}


def _deluge(value):
    from runtime.values import from_plain

    return from_plain(value)


def _page(records: list, page: int, per_page: int) -> list:
    start = (page - 1) * per_page
    return records[start:start + per_page]


def _sort_key(value):
    if value is None:
        return (2, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    text = to_text(value) if not isinstance(value, str) else value
    try:
        return (0, float(text))
    except ValueError:
        return (1, text.lower())


def _as_list(value) -> list:
    return value if isinstance(value, list) else [] if value in (None, "") else [value]


def _address(value) -> str:
    """`{"user_name": ..., "email": ...}` or a bare address -> the address."""
    if isinstance(value, dict):
        value = value.get("email")
    return _as_text(value).strip() if value is not None else ""


def _lookup_id(value):
    if isinstance(value, dict):
        return value.get("id")
    return value


def _points_at(record: dict, module: str, record_id: str) -> bool:
    for link in record.get("$linked_to", ()):
        if link.get("module") == module and str(link.get("id")) == record_id:
            return True
    for key, value in record.items():
        if key in ("id", "Created_By", "Modified_By", "Owner") or key.startswith("$"):
            continue
        if isinstance(value, (dict, str, int)) and str(_lookup_id(value)) == record_id:
            return True
    return False


def _field_value(record: dict, field: str):
    if field in record:
        return record[field]
    low = field.lower()
    for key, value in record.items():
        if key.lower() == low:
            return value
    return None


def _as_text(value) -> str:
    value = _lookup_id(value) if isinstance(value, dict) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return to_text(value) if not isinstance(value, str) else value


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _compare(op: str, actual, wanted: str) -> bool:
    if isinstance(actual, list):  # a multi-select picklist: any of its values
        return any(_compare(op, a, wanted) for a in actual) if op != "not_equal" else \
            all(_compare(op, a, wanted) for a in actual)
    text = _as_text(actual)
    if text == "":  # the API leaves out records whose field is empty, whatever the condition
        return False
    if op == "equals":
        return text.lower() == wanted.lower()
    if op == "not_equal":
        return text.lower() != wanted.lower()
    if op == "starts_with":
        return text.lower().startswith(wanted.lower())
    if op == "in":
        return text.lower() in {w.strip().lower() for w in _split_values(wanted)}
    if op == "between":
        parts = _split_values(wanted)
        if len(parts) != 2:
            raise ValueError("between needs two values: (Field:between:low,high)")
        return _compare("greater_equal", actual, parts[0]) and \
            _compare("less_equal", actual, parts[1])
    if op in ("greater_than", "greater_equal", "less_than", "less_equal"):
        a, b = _number(text), _number(wanted)
        left, right = (a, b) if a is not None and b is not None else (text, wanted)
        return {"greater_than": left > right, "greater_equal": left >= right,
                "less_than": left < right, "less_equal": left <= right}[op]
    raise ValueError(f"unknown operator {op}")


def _split_values(text: str) -> list[str]:
    out, current, escape = [], "", False
    for ch in text:
        if escape:
            current += ch
            escape = False
        elif ch == "\\":
            escape = True
        elif ch == ",":
            out.append(current)
            current = ""
        else:
            current += ch
    out.append(current)
    return out




def parse_criteria(text: str):
    """`((Field:op:value) and (Field:op:value)) or (...)` as a test of a record."""
    parser = _CriteriaParser(text)
    test = parser.expression()
    parser.skip_spaces()
    if parser.pos != len(parser.text):
        raise ValueError(f"unexpected {parser.text[parser.pos:parser.pos + 10]!r}")
    return test


class _CriteriaParser:
    def __init__(self, text: str):
        self.text, self.pos = text.strip(), 0

    def skip_spaces(self):
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def expression(self):
        tests = [self.term()]
        joins = []
        while True:
            self.skip_spaces()
            m = re.match(r"(and|or)\b", self.text[self.pos:], re.IGNORECASE)
            if not m:
                break
            joins.append(m.group(1).lower())
            self.pos += len(m.group(0))
            tests.append(self.term())
        if not joins:
            return tests[0]

        def combined(record):  # `and` binds tighter than `or`, as usual
            result = None
            current = tests[0](record)
            for join, test in zip(joins, tests[1:]):
                if join == "and":
                    current = current and test(record)
                else:
                    result = current if result is None else (result or current)
                    current = test(record)
            return current if result is None else (result or current)

        return combined

    def term(self):
        self.skip_spaces()
        if self.pos >= len(self.text) or self.text[self.pos] != "(":
            raise ValueError(f"expected '(' at {self.pos + 1}")
        self.pos += 1
        self.skip_spaces()
        if self.pos < len(self.text) and self.text[self.pos] == "(":
            inner = self.expression()
            self.skip_spaces()
            self.expect(")")
            return inner
        body, escape = "", False
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if escape:
                body += "\\" + ch
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == ")":
                break
            else:
                body += ch
            self.pos += 1
        self.expect(")")
        field, sep, rest = body.partition(":")
        op, sep2, value = rest.partition(":")
        op = op.strip().lower()
        if not sep or not sep2 or op not in CRITERIA_OPERATORS:
            raise ValueError(f"({body}) is not (Field:operator:value) with an operator of "
                             f"{', '.join(CRITERIA_OPERATORS)}")
        value = re.sub(r"\\(.)", r"\1", value) if op not in ("in", "between") else value
        field = field.strip()
        return lambda record: _compare(op, _field_value(record, field), value.strip())

    def expect(self, ch: str):
        if self.pos >= len(self.text) or self.text[self.pos] != ch:
            raise ValueError(f"expected '{ch}' at {self.pos + 1}")
        self.pos += 1


def _simple_search(kind: str, value: str):
    wanted = value.strip().lower()
    if kind == "email":
        return lambda r: any(_as_text(_field_value(r, f)).lower() == wanted
                             for f in EMAIL_FIELDS)
    if kind == "phone":
        digits = re.sub(r"\D", "", wanted)
        return lambda r: bool(digits) and any(
            digits in re.sub(r"\D", "", _as_text(_field_value(r, f))) for f in PHONE_FIELDS)
    return lambda r: any(wanted in _as_text(v).lower() for k, v in r.items()
                         if isinstance(v, str) and not k.startswith("$"))


def creator_criteria(text: str):
    """A Creator criteria (a Deluge expression over the form's fields) as a test of a record."""
    import dsl
    import runtime
    from dsl import ast as A

    try:
        expression = dsl.parse_expr(text, "<criteria>")
    except Exception as e:
        raise DelugeError(f"the criteria {text!r} is not an expression: {e}") from None
    names = set()

    def collect(node):
        if type(node) is A.Name:
            names.add(node.name)
        for name in getattr(node, "__slots__", ()):
            child = getattr(node, name, None)
            if isinstance(child, tuple):
                for c in child:
                    if isinstance(c, A.Node):
                        collect(c)
            elif isinstance(child, A.Node):
                collect(child)

    collect(expression)
    engine = runtime.Runtime()
    source = f"return {text}\n;"

    def test(record):
        args = {n: _field_value(record, n) for n in names}
        result = engine.run(source, args, filename="<criteria>")
        if result.error is not None:
            raise DelugeError(f"criteria {text!r}: {result.error.message}")
        return result.value is True

    return test
