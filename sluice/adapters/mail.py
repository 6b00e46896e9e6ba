"""The runtime's Mail: `sendmail` over SMTP, or into an outbox folder when no server is set up.

The SMTP settings (`sluice mail set ...`) live in the connections store as the setting "smtp";
the password is sealed there like a connection's secrets. They are read when a script first
sends mail, so scripts that send none never open the store.
"""

from __future__ import annotations

import os
import threading
import time
TYPE_CHECKING = False  # typing and pathlib load re: not worth it on `sluice run`'s way
if TYPE_CHECKING:
    from pathlib import Path

from runtime.errors import DelugeError

SETTING = "smtp"
OUTBOX = "outbox"
SECURITY = ("starttls", "ssl", "none")


def build_message(message: dict):
    """The task's message as an email.message.EmailMessage."""
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    mail = EmailMessage()
    mail["From"] = message["from"]
    mail["To"] = ", ".join(message["to"])
    if message["cc"]:
        mail["Cc"] = ", ".join(message["cc"])
    if message.get("reply_to"):
        mail["Reply-To"] = message["reply_to"]
    mail["Subject"] = message["subject"]
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain="sluice.local")
    if message.get("html"):
        mail.set_content("This message is HTML; open it in a mail reader that shows HTML.")
        mail.add_alternative(message["message"], subtype="html")
    else:
        mail.set_content(message["message"])
    for name, content, kind in message["attachments"]:
        main, _, sub = (kind or "application/octet-stream").partition("/")
        mail.add_attachment(content, maintype=main, subtype=sub or "octet-stream",
                            filename=name)
    return mail


class Outbox:
    """Mail written as .eml files into a folder, for a machine with no SMTP server."""

    def __init__(self, folder: Path):
        from pathlib import Path

        self.folder = Path(folder)

    def send(self, message: dict) -> str:
        mail = build_message(message)
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self.folder / f"{stamp}-{os.getpid()}-{time.monotonic_ns() % 10**9}.eml"
        path.write_bytes(bytes(mail))
        return (f"sendmail: no SMTP server is set up (sluice mail set ...); the mail to "
                f"{', '.join(message['to'])} was written to {path}")


class Smtp:
    def __init__(self, settings: dict, password: str | None):
        self.settings = settings
        self._password = password

    def send(self, message: dict) -> str:
        import smtplib
        import ssl

        s = self.settings
        mail = build_message(message)
        if s.get("from") and message["from"].endswith("@sluice.local"):
            mail.replace_header("From", s["from"])
        recipients = message["to"] + message["cc"] + message["bcc"]
        host, port = s["host"], int(s["port"])
        security = s.get("security", "starttls")
        timeout = float(s.get("timeout", 30))
        try:
            if security == "ssl":
                client = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                          context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(host, port, timeout=timeout)
            with client:
                if security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if s.get("username"):
                    client.login(s["username"], self._password or "")
                refused = client.send_message(mail, to_addrs=recipients)
        except smtplib.SMTPAuthenticationError:
            raise DelugeError(f"sendmail: the SMTP server {host} refused the user name or "
                              "password") from None
        except (smtplib.SMTPException, OSError) as e:
            raise DelugeError(f"sendmail: could not send through {host}:{port} "
                              f"({_reason(e)})") from None
        if refused:
            raise DelugeError(f"sendmail: the SMTP server refused {', '.join(refused)}")
        return ""


def _reason(error: Exception) -> str:
    import smtplib

    if isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "the server does not offer STARTTLS; set --security none or ssl"
    text = getattr(error, "smtp_error", b"")
    if isinstance(text, bytes) and text:
        return text.decode("utf-8", "replace")[:200]
    return type(error).__name__


class StoredMail:
    """SMTP when the store has settings for it, else the outbox in the Sluice home."""

    def __init__(self, home: Path | None = None, store=None):
        self._home = home
        self._store = store
        self._mail = None
        self._guard = threading.Lock()

    def send(self, message: dict) -> str:
        with self._guard:
            if self._mail is None:
                self._mail = self._choose()
        return self._mail.send(message)

    def _choose(self):
        from connections import ConnectionsError, Store
        from connections.store import default_home

        from pathlib import Path

        home = Path(self._home) if self._home is not None else default_home()
        try:
            if self._store is not None:
                settings, secrets = self._store.setting(SETTING)
            else:
                with Store.open(home) as store:
                    settings, secrets = store.setting(SETTING)
        except ConnectionsError as e:
            raise DelugeError(f"sendmail: the mail settings cannot be read: {e}") from None
        if settings is None:
            return Outbox(home / OUTBOX)
        return Smtp(settings, secrets.get("password"))
