import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))  # golden_files, strategies


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Parse tables go to a cache of the test session's own, not the user's."""
    os.environ["SLUICE_CACHE_DIR"] = str(tmp_path_factory.mktemp("sluice-cache"))


@pytest.fixture
def provider():
    """The local OAuth provider and API on a loopback port, with the test app registered."""
    from connect_helpers import CLIENT_ID, CLIENT_SECRET
    from sluice.demo.provider import LocalProvider

    p = LocalProvider()
    p.add_client(CLIENT_ID, CLIENT_SECRET)
    yield p
    p.stop()
