"""The standard tasks, one module per kind: web.py (invokeurl, getUrl, postUrl), mail.py
(sendmail), crm.py (zoho.crm.*, zoho.creator.*, the Creator statements). Each uses only what
Services gives it (its `web`, `mail`, `crm`), so a host can replace any of them with
`services.register(name, fn)`.

Tasks are registered by name here and their modules imported when a script first calls one, so
a script without tasks never pays for them (crm.py alone brings zoneinfo, json and urllib)."""

from __future__ import annotations

# task name (lower case) -> (module of this package, function)
STANDARD = {"invokeurl": ("web", "invokeurl"), "geturl": ("web", "get_url"),
            "posturl": ("web", "post_url"), "sendmail": ("mail", "sendmail")}

# the names real scripts use for zoho.crm.* and zoho.creator.*; crm.TASKS must agree (a test
# holds them together)
CRM_TASKS = {
    "zoho.crm.getrecordbyid": "get_record_by_id", "zoho.crm.getrecordsbyid": "get_record_by_id",
    "zoho.crm.getrecords": "get_records", "zoho.crm.searchrecords": "search_records",
    "zoho.crm.createrecord": "create_record", "zoho.crm.create": "create_record",
    "zoho.crm.updaterecord": "update_record", "zoho.crm.update": "update_record",
    "zoho.crm.deleterecord": "delete_record", "zoho.crm.getrelatedrecords": "get_related_records",
    "zoho.crm.updaterelatedrecord": "update_related_record",
    "zoho.crm.getorgvariable": "get_org_variable", "zoho.crm.attachfile": "attach_file",
    "zoho.crm.bulkupdate": "bulk_update", "zoho.crm.bulkcreate": "bulk_create",
    "zoho.crm.upsert": "upsert", "zoho.crm.convertlead": "convert_lead",
    "zoho.crm.invokeconnector": "invoke_connector",
    "zoho.creator.getrecords": "creator_get_records",
    "zoho.creator.createrecord": "creator_create_record",
    "zoho.creator.updaterecord": "creator_update_record",
    "insert into": "form_insert", "creator.query": "form_query", "delete from": "form_delete",
}
for _name in [n for n in CRM_TASKS if n.startswith("zoho.crm.")]:  # zoho.crm.v8.getRecordById
    CRM_TASKS[_name.replace("zoho.crm.", "zoho.crm.v8.", 1)] = CRM_TASKS[_name]


def register_standard(services) -> None:
    for name, (module, function) in STANDARD.items():
        services.register(name, _on_first_use(module, function))
    for name, function in CRM_TASKS.items():
        services.register(name, _on_first_use("crm", function))


def _on_first_use(module: str, function: str):
    """The task, its module imported when a script first uses it (start-up stays quick)."""
    found = []

    def task(run, *args):
        if not found:
            import importlib

            found.append(getattr(importlib.import_module(f"{__name__}.{module}"), function))
        return found[0](run, *args)

    task.__name__ = function
    return task
