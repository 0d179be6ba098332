from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from httpserver import LocalServer, serve

pytest_plugins = ["pds", "appview"]  # local AT Protocol networks: ``pds``, ``appview``


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A real HTTP server on 127.0.0.1; set ``server.routes[path] = Response(...)``."""
    with serve() as server:
        yield server
