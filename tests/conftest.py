"""Shared fixtures: the sysdig oracle."""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def sysdig() -> str:
    """Path of sysdig 0.29.3. The test command installs it; outside it, tests skip
    unless SCAPKIT_REQUIRE_SYSDIG=1 (set by the test command), which makes them fail."""
    path = shutil.which("sysdig")
    if path is None:
        if os.environ.get("SCAPKIT_REQUIRE_SYSDIG") == "1":
            pytest.fail("sysdig is required (apt-get install --no-install-recommends sysdig)")
        pytest.skip("sysdig not installed")
    return path
