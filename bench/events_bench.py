"""Events end to end: a loopback client posts events to `sluice serve`, which stores each one,
runs a small bound script and stores the run. Reports events per second (first request sent to
last run finished) and the latency from accepted to finished (p50, p99)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SCRIPT = 'total = 0;\nfor each i in items { total = total + i; }\nreturn {"total": total};\n'
TOKEN = "bench-runner-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def events_end_to_end(count: int = 2000, clients: int = 8) -> dict:
    import requests

    work = Path(tempfile.mkdtemp(prefix="sluice-bench-"))
    (work / "sum.dg").write_text(SCRIPT)
    (work / "events.toml").write_text('[[binding]]\nevent = "bench.*"\nscript = "sum.dg"\n'
                                      "connections = []\n")
    port = _free_port()
    env = dict(os.environ, SLUICE_HOME=str(work / "home"), SLUICE_RUNNER_TOKEN=TOKEN)
    sluice = [sys.executable, "-m", "sluice"]
    server = subprocess.Popen(sluice + ["serve", "--port", str(port), "--bindings",
                                        str(work / "events.toml")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    server.stdout.readline()
    url = f"http://127.0.0.1:{port}"
    payload = {"items": list(range(20))}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    per_client = count // clients

    def client():
        with requests.Session() as session:
            for _ in range(per_client):
                answer = session.post(url + "/events/bench.tick", json=payload,
                                      headers=headers, timeout=30)
                assert answer.status_code == 202, answer.text

    started = time.time()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted_all = time.time()
    while True:
        health = requests.get(url + "/health", timeout=5).json()
        if health["queued"] == 0 and health["running"] == 0:
            break
        time.sleep(0.05)
    server.terminate()
    server.wait(30)
    db = sqlite3.connect(work / "home" / "runs.db")
    rows = db.execute("SELECT created_at, finished_at, status FROM runs").fetchall()
    db.close()
    finished = max(r[1] for r in rows)
    latencies = sorted((r[1] - r[0]) * 1000 for r in rows)
    total = per_client * clients
    return {"events": total, "done": sum(r[2] == "done" for r in rows),
            "per_second": total / (finished - started),
            "accept_per_second": total / (accepted_all - started),
            "p50_ms": latencies[len(latencies) // 2],
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1]}
