"""Helpers shared by the tests: paths to the real captures and the sysdig runner."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

DATA = Path(__file__).parent / "data"
CAPTURES = sorted(DATA.glob("*.scap"))
REPO = Path(__file__).resolve().parent.parent


def run_sysdig(sysdig: str, *args: str) -> bytes:
    """Run sysdig with TZ=UTC; fail the test on a non-zero exit."""
    env = dict(os.environ, TZ="UTC")
    res = subprocess.run([sysdig, *args], capture_output=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr.decode(errors="replace")
    return res.stdout
