"""The runtime's Web, made of the connections package: how `invokeurl` reaches the network.

A request naming a connection goes through `Connections.request` (which authenticates it,
renews tokens, and masks the connection's secrets in what comes back); one without goes through
the same HTTP client with no credentials. The store is opened only when a script first names a
connection, so scripts that use none never touch it.
"""

from __future__ import annotations

import threading

from runtime.hosts import WebAnswer, WebFailure, WebRequest


class ConnectionsWeb:
    def __init__(self, connections=None, *, home=None):
        self._connections = connections
        self._home = home
        self._http = None
        self._guard = threading.Lock()

    def _conns(self):
        with self._guard:
            if self._connections is None:
                from connections import Connections, Store

                # one HTTP client (one pool) for calls with and without a connection
                self._connections = Connections(Store.open(self._home), http=self._http)
            return self._connections

    def _client(self):
        with self._guard:
            if self._http is None:
                if self._connections is not None:
                    self._http = self._connections.http
                else:
                    from connections import HttpClient

                    self._http = HttpClient()
            return self._http

    def close(self) -> None:
        if self._connections is not None:
            self._connections.close()
        elif self._http is not None:
            self._http.close()

    def send(self, request: WebRequest, *, timeout, max_bytes: int) -> WebAnswer:
        from connections import ConnectionsError
        from connections.http import HttpTimeout, ResponseTooLarge

        kwargs = {"params": request.params or None, "headers": request.headers or None,
                  "timeout": timeout, "max_bytes": max_bytes}
        if request.files:
            kwargs["files"] = [(field, (name, content, kind))
                               for field, name, content, kind in request.files]
            if isinstance(request.data, dict):
                kwargs["data"] = request.data
        elif request.data is not None:
            kwargs["data"] = request.data
        try:
            if request.connection:
                response = self._conns().request(request.connection, request.method,
                                                 request.url, mask_secrets=True, **kwargs)
            else:
                response = self._client().request(request.method, request.url, **kwargs)
        except HttpTimeout as e:
            raise WebFailure(str(e), kind="timeout") from None
        except ResponseTooLarge as e:
            raise WebFailure(f"{e} (limit response_size)", kind="too_large") from None
        except ConnectionsError as e:
            kind = "connection" if request.connection else "failed"
            raise WebFailure(str(e), kind=kind) from None
        return WebAnswer(status=response.status_code,
                         headers={k.lower(): v for k, v in response.headers.items()},
                         content=response.content, url=response.url)
