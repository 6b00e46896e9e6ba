"""`sluice serve` facing hostile clients on loopback: a thousand slow or idle connections, five
hundred keep-alive clients at once, and malformed requests of every kind. Bounded and
self-stopping: every socket has a deadline and is closed at the end."""

from __future__ import annotations

import json
import selectors
import socket
import threading
import time

import pytest
import requests

from test_serve import ADMIN, RUNNER, SIGNING
from test_serve_isolation import QUICK, Serve, bindings_for


@pytest.fixture
def server(tmp_path):
    s = Serve(tmp_path / "home", bindings_for(tmp_path, quick=(QUICK, {}))).start()
    yield s
    s.stop(wait=15)


def test_a_thousand_slow_clients_do_not_keep_a_request_waiting(server):
    sockets, stop = [], threading.Event()
    try:
        for _ in range(1000):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.setblocking(False)
            sockets.append(s)
        request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200

        def trickle():  # every socket sends its headers one byte at a time, never finishing
            position = 0
            while not stop.is_set() and position < len(request):
                for s in sockets:
                    try:
                        s.send(request[position:position + 1])
                    except OSError:
                        pass
                position += 1
                stop.wait(0.2)

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        time.sleep(1.0)
        slowest = 0.0
        for n in range(10):
            started = time.monotonic()
            answer = requests.get(server.url + "/health", timeout=2)
            slowest = max(slowest, time.monotonic() - started)
            assert answer.status_code == 200
            posted = server.post("quick.x", {"tag": n})
            assert posted.status_code == 202
        assert slowest < 1.0, slowest
    finally:
        stop.set()
        for s in sockets:
            s.close()


def _read_answers(sockets, deadline) -> int:
    """Read one whole HTTP answer from each socket (Content-Length bodies); how many came."""
    selector = selectors.DefaultSelector()
    buffers = {}
    for s in sockets:
        selector.register(s, selectors.EVENT_READ)
        buffers[s] = b""
    complete = 0
    while buffers and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.2):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            buffers[s] += chunk
            head, sep, body = buffers[s].partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), None)
            if not chunk or (sep and length is not None and len(body) >= length):
                selector.unregister(s)
                if chunk and head.startswith(b"HTTP/1.1 200"):
                    complete += 1
                del buffers[s]
    selector.close()
    return complete


def test_five_hundred_keep_alive_clients_all_get_answers(server):
    sockets = []
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
    try:
        for _ in range(500):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sockets.append(s)
        for round_ in range(2):  # the second round reuses every connection
            for s in sockets:
                s.sendall(request)
            for s in sockets:
                s.setblocking(False)
            answered = _read_answers(sockets, time.monotonic() + 10)
            assert answered == 500, (round_, answered)
            for s in sockets:
                s.setblocking(True)
    finally:
        for s in sockets:
            s.close()


def _raw(server, data: bytes) -> bytes:
    """The server's answer to bytes sent as they are (b"": it closed the connection)."""
    answer = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while chunk := s.recv(65536):
                answer += chunk
        except ConnectionResetError:  # it answered and closed before reading all of it
            pass
    return answer


def test_malformed_requests_get_a_4xx_and_leave_a_clean_log(server):
    url, admin = server.url, {"Authorization": f"Bearer {ADMIN}"}
    runner = {"Authorization": f"Bearer {RUNNER}"}
    statuses = []

    def check(method, path, **kwargs):
        answer = requests.request(method, url + path, timeout=5, **kwargs)
        statuses.append((method, path, answer.status_code))
        assert 400 <= answer.status_code < 500, (method, path, kwargs, answer.status_code,
                                                 answer.text)
        assert "Traceback" not in answer.text
        if answer.headers.get("Content-Type", "").startswith("application/json"):
            assert "error" in answer.json()

    for timestamp in ("9" * 5000, "-1", "1e9", "", "١٢٣", "0x10", " 12", "9" * 30):
        check("POST", "/events/quick.x", data=b"{}",
              headers={"X-Sluice-Signature": f"t={timestamp},v1=00".encode()})
    for header in ("", ",,,", "t", "v1=", "t=1,v1", "=,=,=", "t==1", "x" * 20000):
        check("POST", "/events/quick.x", data=b"{}", headers={"X-Sluice-Signature": header})
    for authorization in ("Bearer", "Bearer ", "Basic abc", "bearer\tx", "Bearer " + "x" * 9000):
        check("POST", "/events/quick.x", data=b"{}", headers={"Authorization": authorization})
    for body in (b"{", b"[1]", b"null", b"1", b'"x"', b"\xff\xfe", b"[" * 100000,
                 b'{"a": ' + b"1" * 5000 + b"}", b'{"a": NaN}', b"{}" * 3):
        check("POST", "/events/quick.x", data=body, headers=runner)
    for key in ("", "x" * 300, "\x01"):
        check("POST", "/events/quick.x", data=b"[]", headers={**runner, "Idempotency-Key": key})
    check("POST", "/events/" + "a" * 5000, data=b"{}", headers=runner)
    check("GET", "/runs/" + "9" * 5000, headers=runner)
    check("GET", "/runs/%00", headers=runner)
    bad_creates = [
        {"link": "a", "service": "stripe", "params": [1]},
        {"link": "a", "service": "stripe", "params": "x"},
        {"link": "a", "service": "stripe", "params": {"k": {"nested": 1}}},
        {"link": "a", "service": "stripe", "scopes": "read"},
        {"link": "a", "service": "stripe", "scopes": [1, {}]},
        {"link": 5, "service": "stripe"},
        {"link": ["a"], "service": "stripe"},
        {"link": "a", "service": {"x": 1}},
        {"link": "a", "service": "stripe", "api_key": 12345},
        {"link": "a", "service": "stripe", "api_key": ["k"]},
        {"link": "a", "service": "stripe", "display_name": {}},
        {"link": "a", "service": "github", "client_id": 1, "client_secret": True},
        {"link": "a", "service": "jira_basic", "username": None, "password": 5},
        {"link": "a" * 5000, "service": "stripe"},
        {"link": "a", "service": "no_such_service"},
        {"link": "a", "service": "stripe", "unknown": 1},
        {"link": "Not A Name", "service": "stripe", "params": {"x" * 10: "y"}, "scopes": None,
         "api_key": ""},
    ]
    for data in bad_creates:
        check("POST", "/admin/connections", json=data, headers=admin)
    for body in (b"{", b"[]", b"null", b"\xff", b"1" * 5000):
        check("POST", "/admin/connections", data=body,
              headers={**admin, "Content-Type": "application/json"})
    for link in ("nope", "a" * 5000, "%2e%2e", "x%00y"):
        check("GET", f"/admin/connections/{link}", headers=admin)
        check("POST", f"/admin/connections/{link}/connect", headers=admin)
        check("POST", f"/admin/connections/{link}/revoke", headers=admin)
    for query in ("", "?state=", "?state=" + "x" * 5000, "?oauth_token=1&state=2"):
        check("GET", "/admin/oauth/callback" + query)
    check("PUT", "/events/quick.x", headers=runner)
    check("GET", "/nowhere")
    for raw in (b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                b"POST /events/quick.x HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999"
                b"999\r\n\r\n",
                b"POST /events/quick.x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"zz\r\n",
                b"GET /health HTTP/1.1\r\n" + b"X-Long: " + b"a" * 300000 + b"\r\n\r\n",
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64):
        answer = _raw(server, raw)
        assert answer == b"" or answer[9:10] == b"4", answer[:200]
    assert requests.get(url + "/health", timeout=5).status_code == 200
    server.stop(wait=15)
    log = "".join(server.logs)
    assert "Traceback" not in log and " 500 " not in log, log[-3000:]
    for secret in (RUNNER, ADMIN, SIGNING):
        assert secret not in log
