"""Which backend `zoho.crm.*` and `zoho.creator.*` use: `local` (the record store in
$SLUICE_HOME/crm.db) or `zoho` (the Zoho APIs through a connection). A run chooses with
`--crm`; otherwise the choice saved by `sluice crm use` applies (in the store's settings, so
`sluice serve` and `sluice trigger` follow it too); with neither, the tasks say how to choose."""

from __future__ import annotations

TYPE_CHECKING = False  # typing and pathlib load re: not worth it on `sluice run`'s way
if TYPE_CHECKING:
    from pathlib import Path

SETTING = "crm"
BACKENDS = ("local", "zoho")
DEFAULT_CONNECTION = "zoho"


def saved_choice(home: Path | None = None) -> dict | None:
    """`{"backend": ..., "connection": ...}` saved by `sluice crm use`, or None."""
    from connections import Store

    with Store.open(home) as store:
        return store.setting(SETTING)[0]


def save_choice(backend: str, connection: str | None, home: Path | None = None) -> None:
    from connections import Store

    value = {"backend": backend}
    if backend == "zoho":
        value["connection"] = connection or DEFAULT_CONNECTION
    with Store.open(home) as store:
        store.save_setting(SETTING, value, None)


def forget_choice(home: Path | None = None) -> bool:
    from connections import Store

    with Store.open(home) as store:
        return store.delete_setting(SETTING)


def open_backend(backend: str, connection: str | None = None, home: Path | None = None):
    if backend == "zoho":
        from runtime.tasks.crm import ZohoApi

        return ZohoApi(default_connection=connection or DEFAULT_CONNECTION)
    if backend == "local":
        from .local import LocalCrm

        return LocalCrm.open(home)
    raise ValueError(f"unknown CRM backend {backend!r}: {' or '.join(BACKENDS)}")


class ConfiguredCrm:
    """The backend `sluice crm use` chose, looked up when a script first calls a CRM task (a
    run that calls none pays nothing)."""

    def __init__(self, home: Path | None = None):
        self.home = home
        self._backend = None

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._backend is None:
            from runtime.errors import DelugeError
            from runtime.tasks.crm import NO_BACKEND

            choice = saved_choice(self.home)
            if not choice:
                raise DelugeError(NO_BACKEND)
            self._backend = open_backend(choice.get("backend", ""), choice.get("connection"),
                                         self.home)
        return getattr(self._backend, name)
