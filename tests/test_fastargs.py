"""The CLI's coercion of plain parameters without pydantic (cli/fastargs.py)."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from support import DATA, REPO
from scapkit.cli.app import app

runner = CliRunner()
CAPTURE = DATA / "test_ipv6_client.scap"


def test_a_read_does_not_import_pydantic() -> None:
    code = ("import sys\n"
            f"sys.argv = ['scap', 'read', {str(CAPTURE)!r}, '-D', '-n', '3', 'evt.dir=>']\n"
            "from scapkit.cli.main import main\n"
            "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
            "print('pydantic' in sys.modules, code, file=sys.stderr)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=REPO, env={"TZ": "UTC", "PATH": "/usr/bin:/bin"}, timeout=120)
    assert p.stderr.strip().splitlines()[-1] == "False 0", p.stderr
    assert len(p.stdout.splitlines()) == 3


def test_values_are_coerced_as_typer_does() -> None:
    res = runner.invoke(app, ["read", str(CAPTURE), "-n", "2", "-p", "%evt.num %evt.dir",
                              "evt.dir", "=", "<"])
    assert res.exit_code == 0, res.output
    assert [ln.split()[1] for ln in res.stdout.splitlines()] == ["<", "<"]


def test_bad_values_get_typers_own_errors() -> None:
    for value in ("abc", "1.5", "0x10"):
        res = runner.invoke(app, ["read", str(CAPTURE), "-n", value])
        assert res.exit_code == 2
        assert "Invalid value for '-n'" in res.output and "integer" in res.output


def test_help_still_works() -> None:
    for args in (["--help"], ["read", "--help"], ["info", "--help"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0 and "Usage" in res.output
