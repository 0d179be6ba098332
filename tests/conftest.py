from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

from httpserver import LocalServer, serve

pytest_plugins = [
    "pds",
    "appview",
    "jetstream",
]  # local networks: ``pds``, ``appview``, ``jetstream``

# Speeds belong in bench/: on a loaded machine, and under coverage's tracer in make
# test, hypothesis's own timing checks fail for reasons that are not the code's.
settings.register_profile("feedbot", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("feedbot")


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A real HTTP server on 127.0.0.1; set ``server.routes[path] = Response(...)``."""
    with serve() as server:
        yield server
