"""The console's forms: errors next to the field, what is typed kept (secrets never), and the
service a valid form makes."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from sluice.console import forms

VALID = {"auth": "oauth2", "service_name": "localchimp", "link_name": "mailchimp",
         "client_id": "app", "client_secret": "s3cret-value-123",
         "authorize_url": "https://auth.example/authorize",
         "token_url": "https://auth.example/token", "scopes": "read, write",
         "authorize_params": "access_type=offline, prompt=consent",
         "api_base_url": "https://api.example/v1", "allowed_hosts": "*.example.net api2.example:8443"}


def test_a_valid_form_makes_the_service_it_describes():
    values, errors, service, secret = forms.read_service(MultiDict(VALID))
    assert errors == {} and secret == "s3cret-value-123"
    assert service.scopes == ("read", "write")
    assert service.authorize_params == {"access_type": "offline", "prompt": "consent"}
    assert service.allowed_hosts == ("*.example.net", "api2.example:8443")
    assert "client_secret" not in values


def test_each_mistake_is_named_next_to_its_field_and_secrets_are_not_kept():
    wrong = dict(VALID, service_name="Bad Name", token_url="not a url", link_name="",
                 authorize_params="offline")
    values, errors, service, _ = forms.read_service(MultiDict(wrong))
    assert service is None
    assert set(errors) == {"service_name", "token_url", "link_name", "authorize_params"}
    assert values["token_url"] == "not a url"  # what was typed comes back
    assert "s3cret-value-123" not in repr(values)


def test_oauth_needs_its_addresses_and_app_credentials():
    values, errors, _, _ = forms.read_service(MultiDict({"auth": "oauth1",
                                                         "service_name": "x",
                                                         "link_name": "x"}))
    assert {"request_token_url", "authorize_url", "access_token_url", "client_id",
            "client_secret"} <= set(errors)
