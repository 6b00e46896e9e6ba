"""HTTP Basic authentication: a user name and a password."""

from __future__ import annotations

from requests.auth import HTTPBasicAuth

from ..errors import NotConnected


def basic_auth(link: str, secrets: dict) -> HTTPBasicAuth:
    if not secrets.get("username") and not secrets.get("password"):
        raise NotConnected(f"connection {link} has no user name and password yet: "
                           f"sluice connections create {link} ... --username U --password-env VAR",
                           link=link)
    return HTTPBasicAuth(secrets.get("username") or "", secrets.get("password") or "")
