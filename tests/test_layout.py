"""The repository layout: namespace portions that never shadow the standard library."""

from __future__ import annotations

import subprocess
import sys

from support import REPO

PORTIONS = ["kmod", "ebpf", "scapfile", "inspect", "cli", "tests"]


def test_stdlib_inspect_not_shadowed_from_repo_root() -> None:
    res = subprocess.run(
        [sys.executable, "-c", "import inspect; print(inspect.signature, inspect.__file__)"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert "<function signature" in res.stdout
    assert str(REPO / "inspect") not in res.stdout


def test_no_init_files_in_portions() -> None:
    for name in PORTIONS:
        assert (REPO / name).is_dir(), name
        assert not (REPO / name / "__init__.py").exists(), f"{name}/__init__.py must not exist"


def test_portions_import_under_scapkit() -> None:
    import scapkit.cli.main
    import scapkit.inspect.fields
    import scapkit.scapfile.reader

    assert scapkit.scapfile.reader.__file__.startswith(str(REPO / "scapfile"))
    assert scapkit.inspect.fields.__file__.startswith(str(REPO / "inspect"))
    assert scapkit.cli.main.__file__.startswith(str(REPO / "cli"))
