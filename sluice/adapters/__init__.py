"""What plugs the application into the runtime's seams: `web` sends a script's HTTP requests
through the connections store (`ConnectionsWeb`), `mail` sends its mails through the stored SMTP
settings or into the outbox (`StoredMail`). `standard_services` puts both, and the standard
tasks, into one `runtime.Services`."""

from __future__ import annotations

TYPE_CHECKING = False  # typing and pathlib load re: not worth it on `sluice run`'s way
if TYPE_CHECKING:
    from pathlib import Path


def standard_services(*, timezone: str | None = None, home: Path | None = None, crm=None):
    """The standard tasks with HTTP through the connections in `home` ($SLUICE_HOME by default)
    and mail through its SMTP settings (or its outbox). `timezone` must be a valid IANA name."""
    import runtime

    from .mail import StoredMail
    from .web import ConnectionsWeb

    return runtime.Services.standard(timezone=timezone, web=ConnectionsWeb(home=home),
                                     mail=StoredMail(home), crm=crm)
