"""The built-in service catalog: every entry is valid and usable."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from connections.catalog import builtin_services, find_builtin
from connections.errors import InvalidDefinition
from connections.model import PLACEHOLDER, URL_FIELDS, Service

SEEDS = ["google_contacts", "google_calendar", "google_drive", "google_ads", "microsoft_graph",
         "dropbox", "mailchimp", "eventbrite", "pandadoc", "bomgar"]


def test_the_catalog_has_at_least_thirty_services_covering_every_auth_type():
    services = builtin_services()
    assert len(services) >= 30
    kinds = {(s.auth, s.grant if s.auth == "oauth2" else None) for s in services.values()}
    assert kinds >= {("oauth2", "authorization_code"), ("oauth2", "client_credentials"),
                     ("oauth1", None), ("basic", None), ("apikey", None)}
    for name in SEEDS:
        assert name in services, name
    assert find_builtin("outlook").name == "microsoft_graph"
    assert find_builtin("BeyondTrust").name == "bomgar"


@pytest.mark.parametrize("service", list(builtin_services().values()), ids=lambda s: s.name)
def test_every_entry(service: Service):
    service.validate()
    assert service.title and service.builtin
    for name in URL_FIELDS:
        url = getattr(service, name)
        if url and not url.startswith("{"):
            assert urlsplit(url).scheme == "https", (name, url)
    # every placeholder can be filled: a default, a token field, or a documented --param
    for placeholder in service.placeholders:
        assert (placeholder in service.defaults or placeholder in service.token_fields
                or placeholder in service.notes or len(service.placeholders) == 1), placeholder
    if service.auth == "oauth2" and service.grant == "authorization_code":
        assert service.authorize_url and service.token_url
    assert Service.from_dict(service.to_dict(), builtin=True) == service


def test_names_and_aliases_are_unique():
    seen = set()
    for service in builtin_services().values():
        for name in (service.name, *service.aliases):
            assert name not in seen, name
            seen.add(name)


def test_a_bad_definition_is_refused_with_its_reason():
    with pytest.raises(InvalidDefinition, match="unknown field"):
        Service.from_dict({"name": "x", "auth": "basic", "colour": "red"})
    with pytest.raises(InvalidDefinition, match="needs a token URL"):
        Service.from_dict({"name": "x", "auth": "oauth2", "authorize_url": "https://a/b"})
    with pytest.raises(InvalidDefinition, match="not an http"):
        Service.from_dict({"name": "x", "auth": "oauth2", "token_url": "ftp://a/b",
                           "grant": "client_credentials"})
    with pytest.raises(InvalidDefinition, match="signature method"):
        Service.from_dict({"name": "x", "auth": "oauth1", "request_token_url": "https://a/r",
                           "authorize_url": "https://a/a", "access_token_url": "https://a/t",
                           "signature_method": "MD5"})
    assert PLACEHOLDER.findall("https://{shop}.myshopify.com/{v}") == ["shop", "v"]
