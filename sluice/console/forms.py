"""The console's forms: what each field must hold, the error shown next to it, and what a
form gives back after a mistake (what was typed, never a secret)."""

from __future__ import annotations

import re

from connections.model import LINK_NAME, SERVICE_NAME

AUTH_LABELS = {"oauth2": "OAuth 2.0", "oauth1": "OAuth 1.0a", "basic": "Basic",
               "apikey": "API key"}
SECRET_FIELDS = {"client_secret", "password", "api_key"}
URL_FIELDS = ("request_token_url", "authorize_url", "token_url", "access_token_url",
              "refresh_url", "revoke_url", "api_base_url", "check_url")
SERVICE_DEFAULTS = {"auth": "oauth2", "scope_separator": " ", "key_in": "header",
                    "key_name": "X-API-Key"}
# which URL fields each auth type needs
REQUIRED_URLS = {"oauth2": ("authorize_url", "token_url"),
                 "oauth1": ("request_token_url", "authorize_url", "access_token_url"),
                 "basic": (), "apikey": ()}


def read_service(form) -> tuple[dict, dict, object, str | None]:
    """The custom service form: (values to show again, errors by field, the Service or None,
    the client secret)."""
    from connections import Service
    from connections.errors import InvalidDefinition

    values = {k: (form.get(k) or "").strip() for k in form if k not in SECRET_FIELDS}
    values.pop("csrf_token", None)
    errors: dict[str, str] = {}
    name = values.get("service_name", "").lower()
    if not SERVICE_NAME.match(name):
        errors["service_name"] = ("lowercase letters, digits and _, starting with a letter "
                                  "(e.g. mailchimp)")
    if not LINK_NAME.match(values.get("link_name", "")):
        errors["link_name"] = ("the name scripts use: lowercase letters, digits and _, "
                               "starting with a letter")
    auth = values.get("auth", "")
    if auth not in AUTH_LABELS:
        errors["auth"] = "choose how the service authenticates"
        auth = "oauth2"
    for key in URL_FIELDS:
        url = values.get(key, "")
        if url and not re.match(r"https?://[^\s/]+", url):
            errors[key] = "an http:// or https:// address"
    for key in REQUIRED_URLS[auth]:
        if not values.get(key) and key not in errors:
            errors[key] = f"{AUTH_LABELS[auth]} needs this address"
    secret = (form.get("client_secret") or "").strip() or None
    if auth in ("oauth2", "oauth1"):
        if not values.get("client_id"):
            errors["client_id"] = "the id the provider gave your app"
        if not secret:
            errors["client_secret"] = "the secret the provider gave your app"
    params, problem = _pairs(values.get("authorize_params", ""))
    if problem:
        errors["authorize_params"] = problem
    if auth == "apikey" and values.get("key_in", "header") not in ("header", "query", "basic"):
        errors["key_in"] = "header, query or basic"
    if errors:
        return values, errors, None, secret
    fields = dict(name=name, auth=auth, title=values.get("title") or name,
                  client_id=values.get("client_id") or None,
                  api_base_url=values.get("api_base_url") or None,
                  check_url=values.get("check_url") or None,
                  allowed_hosts=tuple(h for h in re.split(r"[\s,]+",
                                                          values.get("allowed_hosts", "")) if h))
    if auth == "oauth2":
        fields.update(authorize_url=values["authorize_url"], token_url=values["token_url"],
                      refresh_url=values.get("refresh_url") or None,
                      revoke_url=values.get("revoke_url") or None,
                      scopes=tuple(_split_scopes(values.get("scopes", ""),
                                                 values.get("scope_separator") or " ")),
                      scope_separator=values.get("scope_separator") or " ",
                      authorize_params=params)
    elif auth == "oauth1":
        fields.update(request_token_url=values["request_token_url"],
                      authorize_url=values["authorize_url"],
                      access_token_url=values["access_token_url"])
    elif auth == "apikey":
        fields.update(key_in=values.get("key_in") or "header",
                      key_name=values.get("key_name") or "X-API-Key",
                      key_prefix=values.get("key_prefix", ""))
    try:
        service = Service(**fields)
        service.validate()
    except (InvalidDefinition, TypeError, ValueError) as e:
        errors[field_of(str(e), "service_name")] = str(e)
        return values, errors, None, secret
    return values, errors, service, secret


def connection_defaults(service) -> dict:
    return {"connection_name": service.title or service.name, "link_name": service.name,
            "scopes": list(service.scopes),
            **{p: service.defaults.get(p, "") for p in parameters_of(service)}}


def parameters_of(service) -> list[str]:
    """The values a connection to `service` must be given (a data centre, a shop, ...)."""
    return [p for p in service.placeholders if p not in service.token_fields]


def read_connection(form, service, conns) -> tuple[dict, dict]:
    """The form that creates a connection to a catalog service."""
    link = (form.get("link_name") or "").strip()
    shown = {"connection_name": (form.get("connection_name") or "").strip(), "link_name": link,
             "scopes": form.getlist("scopes")}
    errors: dict[str, str] = {}
    if not LINK_NAME.match(link):
        errors["link_name"] = ("the name scripts use: lowercase letters, digits and _, "
                               "starting with a letter")
    params = {}
    for name in parameters_of(service):
        value = (form.get(f"param_{name}") or "").strip()
        shown[name] = value
        if value:
            params[name] = value
        elif name not in service.defaults:
            errors[f"param_{name}"] = f"{service.title or service.name} needs {name}"
    unknown = [s for s in shown["scopes"] if s not in service.scopes]
    extra = [s for s in re.split(r"[\s,]+", form.get("extra_scopes") or "") if s]
    shown["extra_scopes"] = " ".join(extra)
    if unknown:
        errors["scopes"] = "choose among the service's scopes (others go in 'more scopes')"
    create: dict = {"display_name": shown["connection_name"] or None,
                    "scopes": shown["scopes"] + extra or None, "params": params}
    if service.auth in ("oauth2", "oauth1") and not service.client_id:
        client_id = (form.get("client_id") or "").strip()
        secret = (form.get("client_secret") or "").strip()
        shown["client_id"] = client_id
        if not client_id:
            errors["client_id"] = "the id the provider gave your app"
        if not secret:
            errors["client_secret"] = "the secret the provider gave your app"
        create.update(client_id=client_id or None, client_secret=secret or None)
    elif service.auth in ("basic", "apikey"):
        given, problems = read_credentials(form, service)
        errors.update(problems)
        create.update(given)
    return {"link": link, "create": create, "shown": shown}, errors


def read_credentials(form, service) -> tuple[dict, dict]:
    if service.auth == "basic":
        username = (form.get("username") or "").strip()
        password = form.get("password") or ""
        errors = {} if username else {"username": "the user name to sign in with"}
        if not password:
            errors["password"] = "the password (it is stored encrypted, never shown)"
        return {"username": username, "password": password}, errors
    key = (form.get("api_key") or "").strip()
    return {"api_key": key}, ({} if key else {"api_key": "the key the service gave you"})


def field_of(message: str, default: str = "form") -> str:
    """Which field an error message of the connections package is about ("form": the form as a
    whole, shown at its top)."""
    low = message.lower()
    for words, name in (("link name", "link_name"), ("a connection named", "link_name"),
                        ("scope", "scopes"), ("client id", "client_id"),
                        ("authorize", "authorize_url"), ("token url", "token_url"),
                        ("already exists", "service_name"), ("built-in", "service_name")):
        if words in low:
            return name
    return default


def _pairs(text: str) -> tuple[dict, str | None]:
    """`access_type=offline, prompt=consent` (commas or new lines) as a dict."""
    found = {}
    for part in re.split(r"[,\n]+", text):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            return {}, f"write name=value pairs, such as access_type=offline ({part!r})"
        found[key.strip()] = value.strip()
    return found, None


def _split_scopes(text: str, separator: str) -> list[str]:
    parts = re.split(r"[\s,]+", text) if separator in (" ", ",") else text.split(separator)
    return [p.strip() for p in parts if p.strip()]
