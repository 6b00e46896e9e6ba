"""What a run may reach outside itself: tasks, the clock and zone, and who is running it.

Tasks (`invokeurl`, `sendmail`, `zoho.crm.getRecordById`, Creator statements, ...) are looked up
by name in the registry of the run's Services. The `sluice` package registers the real ones;
tests register fakes that record calls. A task not registered is a Deluge error:
"zoho.crm.getRecordById is not available here".

A task is called as `fn(run, *args)`, where `run` is the RunContext (limits, info, time zone),
for a function-style task (`zoho.crm.getRecordById("Leads", id)`, `openUrl(u, w)`), and as
`fn(run, entries)` for a block task (`invokeurl [ url: ... ]`), `entries` being a dict of the
block's keys (lower case) to values.
"""

from __future__ import annotations

from collections.abc import Callable

from .hosts import WebAnswer, WebFailure, WebRequest  # noqa: F401  (part of this interface)

# What the Creator statements are called in the registry, and how errors name them.
TASK_TITLES = {
    "creator.query": "A Creator record query (Form[criteria])",
    "insert into": "Creator 'insert into'",
    "delete from": "Creator 'delete from'",
    "alert": "Creator 'alert'",
    "cancel submit": "Creator 'cancel submit'",
    "hide": "Creator 'hide'", "show": "Creator 'show'", "enable": "Creator 'enable'",
    "disable": "Creator 'disable'", "openurl": "openUrl",
}

DEFAULT_SETTINGS = {
    "loginuser": "user@sluice.local",
    "loginuserid": "user@sluice.local",
    "adminuser": "admin@sluice.local",
    "adminuserid": "admin@sluice.local",
    "appname": "sluice",
    "appuri": "/sluice/",
    "ipaddress": "127.0.0.1",
}


# What `web` and `mail` must offer (duck-typed; the sluice package has the real ones):
#   web.send(request: WebRequest, *, timeout: float | None, max_bytes: int) -> WebAnswer,
#       raising WebFailure when no answer came;
#   mail.send(message: dict) -> str, a sentence for the run's notes (where the mail went), or "".


class Services:
    """Tasks by name, plus run settings. `Services().register("invokeurl", fn)`.

    `Services.standard(web=..., mail=..., crm=...)` comes with the standard tasks registered
    (invokeurl, getUrl, postUrl, sendmail, zoho.crm.*, zoho.creator.*, the Creator statements)
    that use `web`, `mail` and `crm`."""

    def __init__(self, tasks: dict[str, Callable] | None = None, *, timezone: str | None = None,
                 settings: dict | None = None, web=None, mail=None, crm=None, clock=None):
        self._tasks: dict[str, Callable] = {}
        for name, fn in (tasks or {}).items():
            self.register(name, fn)
        self.timezone = timezone  # an IANA name such as "Asia/Kolkata"; None: the machine's
        self.settings = dict(DEFAULT_SETTINGS, **(settings or {}))
        self.web = web
        self.mail = mail
        self.crm = crm  # the backend of zoho.crm.* (runtime.tasks.crm.ZohoApi, or a local store)
        # () -> naive datetime of "now" in the run's zone; None: the machine's clock. A test
        # freezes zoho.currentdate / zoho.currenttime with it.
        self.clock = clock

    @classmethod
    def standard(cls, *, web=None, mail=None,
                 **kwargs) -> "Services":
        from .tasks import register_standard

        services = cls(web=web, mail=mail, **kwargs)
        register_standard(services)
        return services

    def register(self, name: str, fn: Callable, *aliases: str) -> None:
        """Make task `name` (matched in any letter case) call `fn`."""
        for spelling in (name,) + aliases:
            self._tasks[spelling.lower()] = fn

    def task(self, name: str) -> Callable | None:
        return self._tasks.get(name.lower())

    def task_names(self) -> list[str]:
        return sorted(self._tasks)

    def copy(self) -> "Services":
        other = Services(timezone=self.timezone, settings=self.settings, web=self.web,
                         mail=self.mail, crm=self.crm, clock=self.clock)
        other._tasks = dict(self._tasks)
        return other
