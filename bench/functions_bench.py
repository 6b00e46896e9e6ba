"""Published functions end to end: 8 loopback clients call a small function on `sluice serve`
(its key in the query string, arguments as a JSON body, each call stored as a run) and wait for
each answer. Reports calls per second and the latency of one call (p50, p99) as a client sees
it, with keep-alive connections as HTTP clients of webhooks use them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SCRIPT = """map total(list items, string tag)
{
    sum = 0;
    for each i in items { sum = sum + i; }
    return {"total": sum, "tag": tag};
}
"""
TOKEN = "bench-runner-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def calls_end_to_end(count: int = 4000, clients: int = 8, warmup: int = 200) -> dict:
    import requests

    work = Path(tempfile.mkdtemp(prefix="sluice-bench-"))
    (work / "total.dg").write_text(SCRIPT)
    (work / "events.toml").write_text("")
    env = dict(os.environ, SLUICE_HOME=str(work / "home"), SLUICE_RUNNER_TOKEN=TOKEN)
    sluice = [sys.executable, "-m", "sluice"]
    published = subprocess.run(sluice + ["functions", "publish", "total", "--script",
                                         str(work / "total.dg"), "--connections", "",
                                         "--json"], env=env, capture_output=True, text=True,
                               check=True)
    key = json.loads(published.stdout)["key"]
    port = _free_port()
    server = subprocess.Popen(sluice + ["serve", "--port", str(port), "--bindings",
                                        str(work / "events.toml")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    server.stdout.readline()
    url = f"http://127.0.0.1:{port}/functions/total/execute?auth_type=apikey&zapikey={key}"
    payload = {"items": list(range(20)), "tag": "bench"}
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    per_client = count // clients

    def client(n: int, record: bool):
        mine = []
        with requests.Session() as session:
            for _ in range(n):
                started = time.perf_counter()
                answer = session.post(url, json=payload, timeout=30)
                mine.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    failures.append(answer.text[:200])
        if record:
            with lock:
                latencies.extend(mine)

    try:
        warm = [threading.Thread(target=client, args=(warmup // clients, False))
                for _ in range(clients)]
        for t in warm:
            t.start()
        for t in warm:
            t.join()
        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(per_client, True))
                   for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(30)
    latencies.sort()
    return {"calls": len(latencies), "seconds": took, "per_second": len(latencies) / took,
            "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
            "failures": len(failures), "first_failure": failures[0] if failures else None}
