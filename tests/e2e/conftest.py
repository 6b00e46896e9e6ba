import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _command() -> list[str]:
    """The installed `sluice` console script (the one a user runs), else `python -m sluice`."""
    beside_python = Path(sys.executable).parent / "sluice"
    if beside_python.exists():
        return [str(beside_python)]
    found = shutil.which("sluice")
    return [found] if found else [sys.executable, "-m", "sluice"]


@pytest.fixture
def sluice(tmp_path):
    base_env = dict(os.environ, NO_COLOR="1", SLUICE_HOME=str(tmp_path / "sluice-home"),
                    SLUICE_CACHE_DIR=os.environ.get("SLUICE_CACHE_DIR", str(tmp_path)))

    def run(*args, input=None, cwd=None, env=None):
        return subprocess.run(_command() + [str(a) for a in args], capture_output=True,
                              text=True, input=input, cwd=cwd or tmp_path,
                              env=dict(base_env, **(env or {})), timeout=60)

    return run


@pytest.fixture
def admin(tmp_path, provider):
    """`sluice connections ...` (and any command) with a home of its own; see Admin."""
    from test_cli_connections import Admin

    return Admin(tmp_path / "home", provider)
