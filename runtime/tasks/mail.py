"""`sendmail [ ... ]`: a message built from the task's keys, handed to the run's Mail.

Where the mail goes is the Mail's business (the sluice package sends it over SMTP, or writes it
to an outbox file when no SMTP server is set up); the sentence it returns is kept as a note of
the run, which `sluice run` shows on standard error.
"""

from __future__ import annotations

import re

from ..errors import DelugeError
from ..values import DelugeFile, TypedList, to_text, type_name

KEYS = {"from": "from", "to": "to", "cc": "cc", "bcc": "bcc", "reply to": "reply_to",
        "replyto": "reply_to", "reply-to": "reply_to", "subject": "subject",
        "message": "message", "content type": "content_type", "content-type": "content_type",
        "attachments": "attachments"}
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")
_LOOKS_HTML = re.compile(r"<(html|body|p|br|div|table|a|b|i|span|h[1-6])\b", re.IGNORECASE)


def sendmail(run, entries: dict):
    given = {}
    for key, value in entries.items():
        name = KEYS.get(" ".join(key.lower().split()))
        if name is None:
            raise DelugeError(f"sendmail has no key '{key}' (its keys: from, to, cc, bcc, "
                              "reply to, subject, message, content type, attachments)")
        given[name] = value
    mail = run.services.mail
    if mail is None:
        raise DelugeError("sendmail cannot send mail here (no mail is set up)")
    to = _addresses(given.get("to"), "to")
    if not to:
        raise DelugeError("sendmail needs at least one address in 'to'")
    sender = _addresses(given.get("from"), "from") or [run.system("adminuserid")]
    message = {
        "from": sender[0],
        "to": to,
        "cc": _addresses(given.get("cc"), "cc"),
        "bcc": _addresses(given.get("bcc"), "bcc"),
        "reply_to": (_addresses(given.get("reply_to"), "reply to") or [None])[0],
        "subject": _plain(given.get("subject")),
        "message": _plain(given.get("message")),
        "attachments": _attachments(given.get("attachments")),
    }
    kind = given.get("content_type")
    if kind is not None:
        html = "html" in to_text(kind).lower()
    else:
        html = bool(_LOOKS_HTML.search(message["message"]))
    message["html"] = html
    note = mail.send(message)
    if note:
        run.note(note)
    return None


def _plain(value) -> str:
    return "" if value is None else to_text(value)


def _addresses(value, key: str) -> list[str]:
    if value is None:
        return []
    if type(value) in (list, TypedList):
        items = [to_text(v) for v in value if v is not None]
    else:
        items = re.split(r"[,;]", to_text(value))
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        if not _ADDRESS.search(item):
            raise DelugeError(f"sendmail: '{item}' in '{key}' is not an email address")
        out.append(item)
    return out


def _attachments(value) -> list:
    if value is None:
        return []
    values = value if type(value) in (list, TypedList) else [value]
    out = []
    for v in values:
        if type(v) is not DelugeFile:
            raise DelugeError(f"sendmail: attachments must be files, found {type_name(v)}")
        out.append((v.name, v.content, v.content_type))
    return out
