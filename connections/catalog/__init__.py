"""Built-in services, described as data (services.toml beside this file), and the loader for it."""

from __future__ import annotations

import functools
import tomllib
from importlib import resources

from ..errors import InvalidDefinition
from ..model import Service


@functools.cache
def builtin_services() -> dict[str, Service]:
    """Every built-in service by name, in catalog order. Raises InvalidDefinition on a bad entry."""
    text = resources.files(__package__).joinpath("services.toml").read_text(encoding="utf-8")
    services: dict[str, Service] = {}
    for entry in tomllib.loads(text).get("service", []):
        service = Service.from_dict(entry, builtin=True)
        if service.name in services:
            raise InvalidDefinition(f"the catalog names service {service.name} twice")
        services[service.name] = service
    return services


def find_builtin(name: str) -> Service | None:
    """The built-in service called `name` or having it as an alias (any letter case)."""
    name = name.lower()
    services = builtin_services()
    if name in services:
        return services[name]
    return next((s for s in services.values() if name in s.aliases), None)
