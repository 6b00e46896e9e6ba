"""The standard tasks, one module per kind: web.py (invokeurl, getUrl, postUrl), mail.py
(sendmail), crm.py (zoho.crm.*, zoho.creator.*, the Creator statements). Each uses only what
Services gives it (its `web`, `mail`, `crm`), so a host can replace any of them with
`services.register(name, fn)`."""

from __future__ import annotations


STANDARD = {"invokeurl": ("web", "invokeurl"), "geturl": ("web", "get_url"),
            "posturl": ("web", "post_url"), "sendmail": ("mail", "sendmail")}


def register_standard(services) -> None:
    from .crm import TASKS as CRM_TASKS

    for name, (module, function) in STANDARD.items():
        services.register(name, _on_first_use(module, function))
    for name, function in CRM_TASKS.items():
        services.register(name, function)


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
