"""The integration tasks: `zoho.crm.*` and `zoho.creator.*`, and the Creator statements.

Each task sorts out its arguments the way real scripts write them (optional trailing options
map, page and per-page numbers, a connection link name; names in any letter case and with the
spelling drift real code has) and hands the work to the run's CRM backend (`services.crm`):
`ZohoApi` below, which speaks the Zoho CRM v8 and Creator v2.1 REST APIs through the run's Web
and a connection, or the sluice package's local record store. Results come back as Deluge
returns them: a record map, a list of records, or an error map `{"code", "message", ...}` —
an API error is a value the script inspects, not an exception.
"""

from __future__ import annotations

import datetime
import json
from urllib.parse import quote
from zoneinfo import ZoneInfo

from ..errors import DelugeError
from ..hosts import WebRequest
from ..values import Collection, DelugeFile, TypedList, from_json, to_text, type_name

CRM = "zoho.crm."
CREATOR = "zoho.creator."
MAX_PER_PAGE = 200
FIELDS_PER_CALL = 50  # the v8 API takes at most 50 field names in `fields`


NO_BACKEND = ("no CRM backend is chosen: run with --crm local (an offline record store, "
              "seeded with --crm-data FILE) or --crm zoho (the Zoho API through a connection), "
              "or save a choice with `sluice crm use local|zoho`")


def _backend(run, task: str):
    backend = run.services.crm
    if backend is None:
        raise DelugeError(f"{task}: {NO_BACKEND}")
    return backend


class _Args:
    """The arguments after the required ones: maps, numbers and a connection name, in the
    order the task documents but each optional."""

    def __init__(self, task: str, rest: tuple):
        self.task = task
        self.maps: list[dict] = []
        self.numbers: list[int] = []
        self.connection: str | None = None
        self.lists: list[list] = []
        for value in rest:
            t = type(value)
            if t is dict or (t is Collection and value.is_map):
                self.maps.append(value.items if t is Collection else value)
            elif t is bool:
                raise DelugeError(f"{task}: true/false is not one of its arguments")
            elif t is int:
                self.numbers.append(value)
            elif t is str:
                if self.connection is not None:
                    raise DelugeError(f"{task}: more than one connection name given")
                self.connection = value
            elif t in (list, TypedList):
                self.lists.append(value)
            elif value is None:
                continue
            else:
                raise DelugeError(f"{task}: {type_name(value)} is not one of its arguments")

    def options(self) -> dict:
        return self.maps[0] if self.maps else {}

    def page(self) -> tuple[int, int]:
        page = self.numbers[0] if self.numbers else 1
        per_page = self.numbers[1] if len(self.numbers) > 1 else MAX_PER_PAGE
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise DelugeError(f"{self.task}: page starts at 1 and per_page is 1 to "
                              f"{MAX_PER_PAGE}")
        return page, per_page


def _text(value, task: str, what: str) -> str:
    if type(value) is not str or not value.strip():
        raise DelugeError(f"{task}: the {what} must be a text, found {type_name(value)}")
    return value.strip()


def _record_id(value, task: str) -> str:
    if type(value) is int:
        return str(value)
    if type(value) is str and value.strip().isdigit():
        return value.strip()
    raise DelugeError(f"{task}: a record id is a number, found {type_name(value)} "
                      f"{to_text(value)!r}")


def _data(run, value, task: str) -> dict:
    t = type(value)
    if t is Collection and value.is_map:
        value, t = value.items, dict
    if t is not dict:
        raise DelugeError(f"{task}: the record data must be a map, found {type_name(value)}")
    return _api_values(run, value)


def _api_values(run, value):
    """Dates and date-times as the CRM and Creator APIs take them (`2024-01-31`,
    `2024-01-31T09:30:00+05:30`, in the run's time zone), as Deluge sends them."""
    t = type(value)
    if t is datetime.datetime:
        zone = ZoneInfo(run.services.timezone) if run.services.timezone else None
        placed = value.replace(tzinfo=zone) if zone else value.astimezone()
        return placed.isoformat(timespec="seconds")
    if t is datetime.date:
        return value.isoformat()
    if t is dict:
        return {k: _api_values(run, v) for k, v in value.items()}
    if t is Collection:
        return _api_values(run, value.items if value.is_map else list(value))
    if t in (list, TypedList):
        return [_api_values(run, v) for v in value]
    return value


# ---------------------------------------------------------------------------- zoho.crm.*


def get_record_by_id(run, module=None, record_id=None, *rest):
    task = CRM + "getRecordById"
    args = _Args(task, rest)
    return _backend(run, task).get_record(run, _text(module, task, "module"),
                                          _record_id(record_id, task), args.connection)


def get_records(run, module=None, *rest):
    task = CRM + "getRecords"
    args = _Args(task, rest)
    page, per_page = args.page()
    return _backend(run, task).get_records(run, _text(module, task, "module"), page, per_page,
                                           args.options(), args.connection)


def search_records(run, module=None, criteria=None, *rest):
    task = CRM + "searchRecords"
    args = _Args(task, rest)
    page, per_page = args.page()
    return _backend(run, task).search(run, _text(module, task, "module"),
                                      _text(criteria, task, "criteria"), page, per_page,
                                      args.options(), args.connection)


def create_record(run, module=None, data=None, *rest):
    task = CRM + "createRecord"
    args = _Args(task, rest)
    return _backend(run, task).create(run, _text(module, task, "module"),
                                      _data(run, data, task), args.options(), args.connection)


def update_record(run, module=None, record_id=None, data=None, *rest):
    task = CRM + "updateRecord"
    args = _Args(task, rest)
    return _backend(run, task).update(run, _text(module, task, "module"),
                                      _record_id(record_id, task), _data(run, data, task),
                                      args.options(), args.connection)


def delete_record(run, module=None, record_id=None, *rest):
    task = CRM + "deleteRecord"
    args = _Args(task, rest)
    return _backend(run, task).delete(run, _text(module, task, "module"),
                                      _record_id(record_id, task), args.options(),
                                      args.connection)


def get_related_records(run, relation=None, module=None, record_id=None, *rest):
    task = CRM + "getRelatedRecords"
    args = _Args(task, rest)
    page, per_page = args.page()
    return _backend(run, task).related(run, _text(relation, task, "related list"),
                                       _text(module, task, "module"),
                                       _record_id(record_id, task), page, per_page,
                                       args.options(), args.connection)


def update_related_record(run, relation=None, related_id=None, module=None, record_id=None,
                          data=None, *rest):
    task = CRM + "updateRelatedRecord"
    args = _Args(task, rest)
    return _backend(run, task).update_related(run, _text(relation, task, "related list"),
                                              _record_id(related_id, task),
                                              _text(module, task, "module"),
                                              _record_id(record_id, task),
                                              _data(run, data if data is not None else {}, task),
                                              args.connection)


def get_org_variable(run, name=None, *rest):
    task = CRM + "getOrgVariable"
    args = _Args(task, rest)
    return _backend(run, task).org_variable(run, _text(name, task, "variable name"),
                                            args.connection)


def attach_file(run, module=None, record_id=None, file=None, *rest):
    task = CRM + "attachFile"
    if type(file) is not DelugeFile:
        raise DelugeError(f"{task}: the file must be a FILE, found {type_name(file)}")
    args = _Args(task, rest)
    return _backend(run, task).attach_file(run, _text(module, task, "module"),
                                           _record_id(record_id, task), file, args.connection)


def _records(run, records, task: str, what: str) -> list[dict]:
    """The records of a bulk task, at most 100 (the API's limit a call)."""
    if type(records) not in (list, TypedList) or not all(type(r) is dict for r in records):
        raise DelugeError(f"{task}: the records must be a list of maps{what}")
    if len(records) > 100:
        raise DelugeError(f"{task}: at most 100 records a call, found {len(records)}")
    return [_data(run, r, task) for r in records]


def bulk_update(run, module=None, records=None, *rest):
    task = CRM + "bulkUpdate"
    records = _records(run, records, task, ", each with its id")
    args = _Args(task, rest)
    return _backend(run, task).bulk_update(run, _text(module, task, "module"), records,
                                           args.options(), args.connection)


def bulk_create(run, module=None, records=None, *rest):
    task = CRM + "bulkCreate"
    records = _records(run, records, task, "")
    args = _Args(task, rest)
    return _backend(run, task).bulk_create(run, _text(module, task, "module"), records,
                                           args.options(), args.connection)


def upsert(run, module=None, data=None, *rest):
    task = CRM + "upsert"
    args = _Args(task, rest)
    return _backend(run, task).upsert(run, _text(module, task, "module"), _data(run, data, task),
                                      args.options(), args.connection)


def convert_lead(run, lead_id=None, values=None, *rest):
    task = CRM + "convertLead"
    args = _Args(task, rest)
    return _backend(run, task).convert_lead(run, _record_id(lead_id, task),
                                            _data(run, values if values is not None else {},
                                                  task), args.connection)


SEND_MAIL_CONNECTORS = ("crm.sendmail", "crm.send_mail")


def invoke_connector(run, name=None, params=None, *rest):
    """Only CRM's own mail connector (`crm.sendmail`: a mail sent from a record, as Send Mail
    does) is here; the others run inside Zoho."""
    task = CRM + "invokeConnector"
    if type(name) is not str or name.strip().lower() not in SEND_MAIL_CONNECTORS:
        raise DelugeError(f"{task}({to_text(name)!r}) is not available in Sluice: connectors "
                          "run inside Zoho (only crm.sendmail is here); call the service's API "
                          "with invokeurl and a connection")
    given = {k.lower(): v for k, v in _data(run, params if params is not None else {},
                                            task).items()}
    mails = given.get("data")
    if type(mails) is dict:
        mails = [mails]
    if type(mails) not in (list, TypedList) or not mails or \
            not all(type(m) is dict for m in mails):
        raise DelugeError(f"{task}: crm.sendmail needs \"data\": a list of mails, each a map "
                          "with from, to, subject and content")
    args = _Args(task, rest)
    return _backend(run, task).send_mail(run, _text(given.get("module"), task, "Module"),
                                         _record_id(given.get("entityid"), task), list(mails),
                                         args.connection)


# ---------------------------------------------------------------------------- zoho.creator.*


def creator_get_records(run, owner=None, app=None, report=None, criteria="", *rest):
    task = CREATOR + "getRecords"
    args = _Args(task, rest)
    page, size = args.page()
    return _backend(run, task).creator_records(
        run, _text(owner, task, "owner"), _text(app, task, "application"),
        _text(report, task, "report"), "" if criteria is None else to_text(criteria), page,
        size, args.connection)


def creator_create_record(run, owner=None, app=None, form=None, data=None, *rest):
    task = CREATOR + "createRecord"
    args = _Args(task, rest)
    return _backend(run, task).creator_create(
        run, _text(owner, task, "owner"), _text(app, task, "application"),
        _text(form, task, "form"), _data(run, data, task), args.options(), args.connection)


def creator_update_record(run, owner=None, app=None, report=None, record_id=None, data=None,
                          *rest):
    task = CREATOR + "updateRecord"
    args = _Args(task, rest)
    return _backend(run, task).creator_update(
        run, _text(owner, task, "owner"), _text(app, task, "application"),
        _text(report, task, "report"), _record_id(record_id, task), _data(run, data, task),
        args.options(), args.connection)


# ---------------------------------------------------------------------------- Creator statements


def form_insert(run, form, values):
    return _backend(run, f"insert into {form}").form_insert(run, form, values)


def form_query(run, form, predicate, sort_by=None, descending=False, low=None, high=None):
    return _backend(run, f"{form}[...]").form_query(run, form, predicate, sort_by, descending,
                                                    low, high)


def form_delete(run, form, predicate):
    return _backend(run, f"delete from {form}").form_delete(run, form, predicate)


TASKS = {
    # the names real scripts use, lower case (the registry matches any case)
    "zoho.crm.getrecordbyid": get_record_by_id, "zoho.crm.getrecordsbyid": get_record_by_id,
    "zoho.crm.getrecords": get_records, "zoho.crm.searchrecords": search_records,
    "zoho.crm.createrecord": create_record, "zoho.crm.create": create_record,
    "zoho.crm.updaterecord": update_record, "zoho.crm.update": update_record,
    "zoho.crm.deleterecord": delete_record, "zoho.crm.getrelatedrecords": get_related_records,
    "zoho.crm.updaterelatedrecord": update_related_record,
    "zoho.crm.getorgvariable": get_org_variable, "zoho.crm.attachfile": attach_file,
    "zoho.crm.bulkupdate": bulk_update, "zoho.crm.bulkcreate": bulk_create,
    "zoho.crm.upsert": upsert, "zoho.crm.convertlead": convert_lead,
    "zoho.crm.invokeconnector": invoke_connector,
    "zoho.creator.getrecords": creator_get_records,
    "zoho.creator.createrecord": creator_create_record,
    "zoho.creator.updaterecord": creator_update_record,
    "insert into": form_insert, "creator.query": form_query, "delete from": form_delete,
}
for _name in [n for n in TASKS if n.startswith(CRM)]:  # zoho.crm.v8.getRecordById and friends
    TASKS[_name.replace(CRM, CRM + "v8.", 1)] = TASKS[_name]


# ---------------------------------------------------------------------------- the Zoho API


class ZohoApi:
    """The CRM backend that calls Zoho: CRM REST API v8 and Creator REST API v2.1, through the
    run's Web and a connection (`connection` argument of the task, else `default_connection`).
    URLs are relative: the connection's service gives the host (`https://www.zohoapis.com` for
    the built-in Zoho service, or a data-centre or test host)."""

    def __init__(self, default_connection: str = "zoho"):
        self.default_connection = default_connection
        self._fields: dict[tuple[str, str], list[str]] = {}

    # -- plumbing

    def _call(self, run, method: str, path: str, connection: str | None, *, params=None,
              body=None, files=None):
        from .web import send

        request = WebRequest(method, path, connection=connection or self.default_connection,
                             params=params, headers={})
        if body is not None:
            request.data = json.dumps(_plain(body)).encode("utf-8")
            request.headers["Content-Type"] = "application/json"
        if files:
            request.files = files
        answer = send(run, request, "zoho.crm" if "/crm/" in path else "zoho.creator")
        if answer.status == 204 or not answer.content.strip():
            return answer.status, None
        try:
            return answer.status, from_json(answer.content.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            return answer.status, {"code": f"HTTP_{answer.status}", "status": "error",
                                   "message": answer.content.decode("utf-8", "replace")[:500]}

    @staticmethod
    def _error(status: int, body) -> dict | None:
        """The error map of a failed call, or None when it succeeded."""
        if type(body) is dict and body.get("status") == "error":
            return body
        if status >= 400:
            if type(body) is dict and "code" in body:
                return body
            return {"code": f"HTTP_{status}", "status": "error",
                    "message": to_text(body) if body is not None else f"HTTP {status}"}
        return None

    def _first(self, status, body):
        """The `details` of the first item of a write answer, or its error (the API puts a
        record's error inside `data`, with a 4xx status)."""
        items = body.get("data") if type(body) is dict else None
        if not (type(items) is list and items and type(items[0]) is dict):
            error = self._error(status, body)
            if error is not None:
                return error
        if not items:
            return {"code": "NO_DATA", "status": "error", "message": "the API answered nothing"}
        item = items[0]
        if item.get("status") == "success":
            return item.get("details", {})
        return item

    def _list(self, status, body):
        error = self._error(status, body)
        if error is not None:
            return error
        if body is None:
            return []
        return list(body.get("data") or [])

    def _field_names(self, run, module: str, connection) -> list[str] | None:
        key = (connection or self.default_connection, module)
        if key not in self._fields:
            status, body = self._call(run, "GET", "/crm/v8/settings/fields", connection,
                                      params={"module": module})
            if self._error(status, body) is not None or type(body) is not dict:
                return None
            self._fields[key] = [f["api_name"] for f in body.get("fields", [])
                                 if type(f) is dict and f.get("api_name")]
        return self._fields[key]

    def _listing(self, run, path: str, fields_of: str, page, per_page, query, connection):
        """A listing of whole records. The API returns only the fields it is asked for, at most
        50 a call: a wider module is read in as many calls, merged by record id."""
        params = dict(page=page, per_page=per_page, **{k: to_text(v) for k, v in query.items()})
        if "fields" in params:  # the script chose its fields
            return self._list(*self._call(run, "GET", path, connection, params=params))
        names = self._field_names(run, fields_of, connection) or []
        chunks = [names[i:i + FIELDS_PER_CALL] for i in range(0, len(names), FIELDS_PER_CALL)]
        records = None
        for chunk in chunks or [None]:
            if chunk is not None:
                params["fields"] = ",".join(chunk)
            part = self._list(*self._call(run, "GET", path, connection, params=params))
            if type(part) is not list:
                return part  # an error map
            if records is None:
                records = part
                continue
            by_id = {r.get("id"): r for r in part if type(r) is dict}
            for record in records:
                more = by_id.get(record.get("id")) if type(record) is dict else None
                if more:
                    record.update((k, v) for k, v in more.items() if k not in record)
        return records

    # -- CRM

    def get_record(self, run, module, record_id, connection):
        status, body = self._call(run, "GET", f"/crm/v8/{_seg(module)}/{record_id}", connection)
        error = self._error(status, body)
        if error is not None:
            return error
        items = body.get("data") if type(body) is dict else None
        return items[0] if items else {}

    def get_records(self, run, module, page, per_page, query, connection):
        return self._listing(run, f"/crm/v8/{_seg(module)}", module, page, per_page, query,
                             connection)

    def search(self, run, module, criteria, page, per_page, query, connection):
        params = {"page": page, "per_page": per_page}
        kind, value = search_kind(criteria)
        params[kind] = value
        params.update({k: to_text(v) for k, v in query.items()})
        return self._list(*self._call(run, "GET", f"/crm/v8/{_seg(module)}/search", connection,
                                      params=params))

    def create(self, run, module, data, options, connection):
        body = dict(_options(options), data=[data])
        return self._first(*self._call(run, "POST", f"/crm/v8/{_seg(module)}", connection,
                                       body=body))

    def update(self, run, module, record_id, data, options, connection):
        body = dict(_options(options), data=[dict(data, id=record_id)])
        return self._first(*self._call(run, "PUT", f"/crm/v8/{_seg(module)}/{record_id}",
                                       connection, body=body))

    def delete(self, run, module, record_id, options, connection):
        params = {"wf_trigger": "true"} if _options(options).get("trigger") else None
        return self._first(*self._call(run, "DELETE", f"/crm/v8/{_seg(module)}/{record_id}",
                                       connection, params=params))

    def related(self, run, relation, module, record_id, page, per_page, query, connection):
        return self._listing(run, f"/crm/v8/{_seg(module)}/{record_id}/{_seg(relation)}",
                             relation, page, per_page, query, connection)

    def update_related(self, run, relation, related_id, module, record_id, data, connection):
        return self._first(*self._call(
            run, "PUT", f"/crm/v8/{_seg(module)}/{record_id}/{_seg(relation)}/{related_id}",
            connection, body={"data": [data]}))

    def org_variable(self, run, name, connection):
        status, body = self._call(run, "GET", f"/crm/v8/settings/variables/{_seg(name)}",
                                  connection)
        error = self._error(status, body)
        if error is not None:
            return error
        variables = body.get("variables") if type(body) is dict else None
        return variables[0].get("value") if variables else None

    def attach_file(self, run, module, record_id, file, connection):
        return self._first(*self._call(
            run, "POST", f"/crm/v8/{_seg(module)}/{record_id}/Attachments", connection,
            files=[("file", file.name, file.content, file.content_type)]))

    def bulk_update(self, run, module, records, options, connection):
        return self._each(*self._call(run, "PUT", f"/crm/v8/{_seg(module)}", connection,
                                      body=dict(_options(options), data=records)))

    def bulk_create(self, run, module, records, options, connection):
        return self._each(*self._call(run, "POST", f"/crm/v8/{_seg(module)}", connection,
                                      body=dict(_options(options), data=records)))

    def _each(self, status, body):
        """A write of several records: each one's details, or its error."""
        items = body.get("data") if type(body) is dict else None
        if type(items) is not list:
            return self._error(status, body) or []
        return [i.get("details", {}) if i.get("status") == "success" else i
                for i in items if type(i) is dict]

    def upsert(self, run, module, data, options, connection):
        return self._first(*self._call(run, "POST", f"/crm/v8/{_seg(module)}/upsert",
                                       connection, body=dict(_options(options), data=[data])))

    def convert_lead(self, run, lead_id, values, connection):
        status, body = self._call(run, "POST", f"/crm/v8/Leads/{lead_id}/actions/convert",
                                  connection, body={"data": [values]})
        answer = self._first(status, body)
        if type(answer) is dict and answer.get("status") == "error":
            return answer
        # {"Contacts": {"name", "id"}, ...} in newer API versions, bare ids in older ones
        return {k: (v.get("id") if type(v) is dict else v) for k, v in answer.items()}

    def send_mail(self, run, module, record_id, mails, connection):
        status, body = self._call(run, "POST",
                                  f"/crm/v8/{_seg(module)}/{record_id}/actions/send_mail",
                                  connection, body={"data": mails})
        return {"status_code": status,
                "response": json.dumps(_plain(body)) if body is not None else ""}

    # -- Creator

    def creator_records(self, run, owner, app, report, criteria, page, size, connection):
        params = {"from": (page - 1) * size + 1, "limit": size}
        if criteria:
            params["criteria"] = criteria
        status, body = self._call(run, "GET", f"/creator/v2.1/data/{_seg(owner)}/{_seg(app)}/"
                                  f"report/{_seg(report)}", connection, params=params)
        return body if body is not None else {"code": 3100, "message": "No Data Available"}

    def creator_create(self, run, owner, app, form, data, options, connection):
        status, body = self._call(run, "POST", f"/creator/v2.1/data/{_seg(owner)}/{_seg(app)}/"
                                  f"form/{_seg(form)}", connection, body=dict(options, data=data))
        return body if body is not None else {}

    def creator_update(self, run, owner, app, report, record_id, data, options, connection):
        status, body = self._call(run, "PATCH", f"/creator/v2.1/data/{_seg(owner)}/{_seg(app)}/"
                                  f"report/{_seg(report)}/{record_id}", connection,
                                  body=dict(options, data=data))
        return body if body is not None else {}

    def form_insert(self, run, form, values):
        raise DelugeError(f"insert into {form} runs on the local backend only (--crm local)")

    form_query = form_delete = form_insert


def _seg(text: str) -> str:
    return quote(text, safe="")


def _options(options: dict) -> dict:
    """`{"trigger": {"workflow"}}` (a list or a one-item collection) as the API wants it."""
    out = {}
    for key, value in options.items():
        if key == "trigger":
            if type(value) is Collection:
                value = list(value)
            if type(value) in (str,):
                value = [value]
            out["trigger"] = [to_text(v) for v in value] if type(value) in (list, TypedList) \
                else value
        else:
            out[key] = value
    return out


CRITERIA_OPERATORS = ("equals", "not_equal", "starts_with", "in", "between", "greater_than",
                      "greater_equal", "less_than", "less_equal")


def search_kind(criteria: str) -> tuple[str, str]:
    """The search parameter of a searchRecords criteria: `(Email:equals:x)` (also written
    without its parentheses) is a `criteria`; `email:x`, `phone:x`, `word:x` are the API's own
    searches."""
    text = criteria.strip()
    if text.startswith("("):
        return "criteria", text
    head, _, rest = text.partition(":")
    operator = rest.partition(":")[0].strip().lower()
    if operator in CRITERIA_OPERATORS:
        return "criteria", f"({text})"
    if head.strip().lower() in ("email", "phone", "word"):
        return head.strip().lower(), rest.strip()
    return "criteria", text


def _plain(value):
    from ..values import to_plain

    return to_plain(value)

