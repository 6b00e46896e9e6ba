"""What the runtime hands to the hosts that Services plugs in (`web`, `mail`) and what they
hand back: plain classes that the standard tasks and the hosts both use. Kept below both
runtime.services and runtime.tasks, so neither imports the other back."""

from __future__ import annotations


class WebRequest:
    """One HTTP request a task wants made. `data` is the body: a dict (form fields), text or
    bytes; `files` are (field, file name, bytes, content type)."""

    __slots__ = ("method", "url", "connection", "params", "data", "headers", "files")

    def __init__(self, method: str, url: str, connection: str | None = None,
                 params: dict | None = None, data=None, headers: dict | None = None,
                 files: list | None = None):
        self.method, self.url, self.connection = method, url, connection
        self.params, self.data = params, data
        self.headers = headers if headers is not None else {}
        self.files = files if files is not None else []

    def __repr__(self) -> str:
        return f"WebRequest({self.method} {self.url}, connection={self.connection!r})"


class WebAnswer:
    """What came back: status, headers (names in lower case), the body as bytes."""

    __slots__ = ("status", "headers", "content", "url")

    def __init__(self, status: int, headers: dict, content: bytes, url: str = ""):
        self.status, self.headers, self.content, self.url = status, headers, content, url


class WebFailure(Exception):
    """Raised by a Web when no answer came (unreachable, timed out, too large, the connection
    cannot be used). The message is shown to the script as a catchable Deluge error."""

    def __init__(self, message: str, *, kind: str = "failed"):
        super().__init__(message)
        self.kind = kind  # "timeout", "too_large", "connection", "failed"
