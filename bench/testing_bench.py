"""`sluice test` throughput: 1,000 small cases (a function with an HTTP answer, info lines and a
return value to compare) run by the command as a user runs it, start-up included."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = """\
string standalone.greet(string name, string api)
{
    r = invokeurl [ url: api + "/greeting" type: GET parameters: {"name": name} ];
    info "asked for " + name;
    return r.get("greeting") + " " + name.proper();
}
"""


def _case(n: int) -> str:
    return (f'[[case]]\nname = "case {n}"\narguments = {{ name = "ann{n}", '
            f'api = "https://x.test" }}\n[[case.http]]\nurl = "https://x.test/greeting"\n'
            f'query = {{ name = "ann{n}" }}\njson = {{ greeting = "Hello" }}\n'
            f'[case.expect]\nreturn = "Hello Ann{n}"\ninfo = ["asked for ann{n}"]\n')


def cases_per_second(count: int = 1000) -> dict:
    root = Path(__file__).resolve().parents[1]
    work = Path(tempfile.mkdtemp(prefix="sluice-bench-"))
    (work / "greet.dg").write_text(SCRIPT)
    (work / "greet.test.toml").write_text('script = "greet.dg"\n' +
                                          "".join(_case(n) for n in range(count)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH",
                                                                                  "")]))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sluice", "test", str(work)], env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
    return {"cases": count, "seconds": elapsed, "per_second": count / elapsed}
