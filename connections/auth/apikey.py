"""API keys: in a header (with an optional prefix such as "Bearer "), in a query parameter, or as
Basic credentials: the user name with an empty password (Stripe), or, when the key's name is
"password", the password with any user name (Mailchimp)."""

from __future__ import annotations

from requests.auth import AuthBase, HTTPBasicAuth
from requests.models import PreparedRequest

from ..errors import NotConnected
from ..model import Service


class ApiKeyAuth(AuthBase):
    def __init__(self, key: str, place: str, name: str, prefix: str = ""):
        self._key, self.place, self.name, self.prefix = key, place, name, prefix

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        if self.place == "query":
            request.prepare_url(request.url, {self.name: self._key})
        elif self.place == "basic" and self.name.lower() == "password":
            HTTPBasicAuth("sluice", self._key)(request)
        elif self.place == "basic":
            HTTPBasicAuth(self._key, "")(request)
        else:
            request.headers[self.name] = self.prefix + self._key
        return request

    def __repr__(self) -> str:
        return f"ApiKeyAuth(place={self.place!r}, name={self.name!r})"


def api_key_auth(link: str, service: Service, secrets: dict) -> ApiKeyAuth:
    if not secrets.get("api_key"):
        raise NotConnected(f"connection {link} has no API key yet: "
                           f"sluice connections create {link} ... --api-key-env VAR", link=link)
    return ApiKeyAuth(secrets["api_key"], service.key_in, service.key_name, service.key_prefix)
