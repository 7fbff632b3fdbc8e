"""Shared fixtures: the sysdig oracle, and UTC for modules that compare printed times."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator

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


@pytest.fixture(scope="module")
def utc() -> Iterator[None]:
    """Times print in the local zone, as sysdig's do: compare both in UTC (modules that
    compare times use it with ``pytestmark = pytest.mark.usefixtures("utc")``)."""
    from scapkit.inspect import fields_evt

    def zone(value: str | None) -> None:
        if value is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = value
        time.tzset()
        fields_evt._tz_offset.cache_clear()
        fields_evt._clock.cache_clear()

    old = os.environ.get("TZ")
    zone("UTC")
    yield
    zone(old)
