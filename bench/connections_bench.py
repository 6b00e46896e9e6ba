"""What a call through a connection costs beyond the HTTP call itself.

A small HTTP server on 127.0.0.1 answers every GET with a short JSON body. The same number of
GETs go out three ways, interleaved: through `Connections.request` with an OAuth 2.0 bearer
token (store read, decryption, expiry check, auth hook), through it with an API key, and as a
plain `requests.Session.get` with the header set by hand: what a Python program would write.
"""

from __future__ import annotations

import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real API
    wbufsize = 64 * 1024  # one write per answer (no delayed-ACK stalls)
    disable_nagle_algorithm = True

    def do_GET(self):
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def _setup(database_url: str | None = None):
    """A loopback server, and a store with an OAuth 2.0 and an API-key connection to it (in
    the SQLite file of a new home, or in the PostgreSQL database of `database_url`)."""
    import os

    from connections import Connections, Service, Store
    from connections.auth.oauth2 import Token

    server = _server()
    base = f"http://127.0.0.1:{server.server_port}"
    home = Path(tempfile.mkdtemp()) / "home"
    environ = {k: v for k, v in os.environ.items() if k != "SLUICE_DATABASE_URL"}
    if database_url:
        environ["SLUICE_DATABASE_URL"] = database_url
    conns = Connections(Store.open(home, environ=environ))
    conns.add_service(Service(name="bench_oauth", auth="oauth2", client_id="c",
                              token_url=base + "/token", authorize_url=base + "/authorize",
                              api_base_url=base))
    conns.create("oauth", "bench_oauth")
    conns.tokens.save("oauth", {}, Token("bench-access-token", "bench-refresh-token", 3600.0,
                                         None, {}), conns.service("bench_oauth"))
    conns.add_service(Service(name="bench_key", auth="apikey", key_name="X-API-Key",
                              api_base_url=base))
    conns.create("key", "bench_key", api_key="bench-api-key")
    return server, conns, base + "/items?page=1"


def request_overhead(calls: int = 100, rounds: int = 25, database_url: str | None = None
                     ) -> dict:
    import requests

    server, conns, url = _setup(database_url)
    session = requests.Session()

    def via_oauth():
        for _ in range(calls):
            conns.request("oauth", "GET", url).json()

    def via_key():
        for _ in range(calls):
            conns.request("key", "GET", url).json()

    def plain():
        for _ in range(calls):
            session.get(url, headers={"Authorization": "Bearer bench-access-token"},
                        timeout=40).json()

    best = {"oauth": float("inf"), "key": float("inf"), "plain": float("inf")}
    for fn in (via_oauth, via_key, plain):  # warm up pools and caches
        fn()
    for _ in range(rounds):
        for name, fn in (("oauth", via_oauth), ("key", via_key), ("plain", plain)):
            started = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - started)
    server.shutdown()
    conns.close()
    return {"calls": calls, **{f"{k}_us": v / calls * 1e6 for k, v in best.items()},
            "oauth_ratio": best["oauth"] / best["plain"], "key_ratio": best["key"] / best["plain"]}


INVOKEURL_LOOP = """
n = 0;
for each i in items
{
    r = invokeurl
    [
        url: url
        type: GET
        connection: "oauth"
    ];
    n = n + r.size();
}
return n;
"""


def invokeurl_overhead(calls: int = 1000, rounds: int = 9) -> dict:
    """`calls` invokeurl tasks through the OAuth 2.0 connection in one script, against the same
    calls made by a Python loop over a plain requests.Session carrying the header."""
    import requests

    import runtime
    from sluice.adapters.web import ConnectionsWeb

    server, conns, url = _setup()
    session = requests.Session()
    engine = runtime.Runtime(limits=runtime.Limits(invokeurl=0, statements=0, time=0),
                             services=runtime.Services.standard(web=ConnectionsWeb(conns)))
    args = {"items": [0] * calls, "url": url}

    def sluice():
        result = engine.run(INVOKEURL_LOOP, args)
        assert result.ok, result.error
        return result.value

    def plain():
        n = 0
        for _ in range(calls):
            n += len(session.get(url, headers={"Authorization": "Bearer bench-access-token"},
                                 timeout=40).json())
        return n

    assert sluice() == plain() == calls
    best = {"sluice": float("inf"), "plain": float("inf")}
    for _ in range(rounds):
        for name, fn in (("sluice", sluice), ("plain", plain)):
            started = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - started)
    server.shutdown()
    conns.close()
    return {"calls": calls, "sluice_s": best["sluice"], "plain_s": best["plain"],
            "ratio": best["sluice"] / best["plain"]}


BENCH_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"


def request_overhead_postgres(calls: int = 100, rounds: int = 25) -> dict | None:
    """request_overhead with the store in PostgreSQL (a schema of its own in the database of
    SLUICE_BENCH_DATABASE_URL, else the local `test` database, dropped after); None when no
    server answers."""
    import os
    import uuid

    import psycopg

    url = os.environ.get("SLUICE_BENCH_DATABASE_URL", BENCH_DATABASE)
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        return None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in url else "?"
    try:
        return request_overhead(calls, rounds,
                                database_url=f"{url}{separator}options=-csearch_path%3D{schema}")
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()
