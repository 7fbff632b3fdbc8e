"""``scap read FILE [FILTER]...`` without options runs without typer (cli/main.py): the
same options, output, messages and exit status as through typer, and typer not loaded."""

from __future__ import annotations

import dataclasses
import inspect as pyinspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import CAPTURES, REPO
from scapkit.cli import app as app_mod
from scapkit.cli.read_cmd import ReadOptions, plain_invocation

ENTRY = ("import sys\n"
         "from scapkit.cli.main import main\n"
         "try:\n    main()\n"
         "finally:\n"
         "    print('typer' in sys.modules, file=sys.stderr)\n")


def scap(*args: str) -> tuple[int, bytes, list[str], bool]:
    """(status, stdout, stderr lines, whether typer was loaded) of the console command."""
    p = subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True, cwd=REPO,
                       env=dict(os.environ, TZ="UTC"), timeout=120)
    err = p.stderr.decode().splitlines()
    return p.returncode, p.stdout, err[:-1], err[-1] == "True"


def test_read_options_are_the_typer_command_s() -> None:
    """ReadOptions has the typer command's parameters, with the same defaults."""
    params = pyinspect.signature(app_mod.read).parameters
    fields = {f.name: f.default for f in dataclasses.fields(ReadOptions)}
    assert list(fields) == list(params)
    assert fields == {name: p.default for name, p in params.items()}


@pytest.mark.parametrize("argv, expected", [
    (["read", "f.scap"], ReadOptions(file="f.scap")),
    (["read", "f.scap", "evt.type=open", "and", "fd.num>2"],
     ReadOptions(file="f.scap", filter_words=["evt.type=open", "and", "fd.num>2"])),
    (["read"], None),
    (["read", "-"], None),
    (["read", "f.scap", "-j"], None),
    (["read", "-r", "f.scap"], None),
    (["read", "f.scap", "evt.num", ">", "-1"], None),
    (["read", "--help"], None),
    (["info", "f.scap"], None),
    ([], None),
])
def test_what_runs_without_typer(argv: list[str], expected: ReadOptions | None) -> None:
    assert plain_invocation(argv) == expected


@pytest.mark.parametrize("case", ["plain", "filter", "missing", "bad_filter", "damaged"])
def test_the_same_as_through_typer(case: str, tmp_path: Path) -> None:
    damaged = tmp_path / "cut.scap"
    damaged.write_bytes(CAPTURES[0].read_bytes()[:15000])
    args = {"plain": [str(CAPTURES[0])],
            "filter": [str(CAPTURES[0]), "evt.type=connect", "or", "fd.typechar=4"],
            "missing": [str(tmp_path / "nothing.scap")],
            "bad_filter": [str(CAPTURES[0]), "evt.type="],
            "damaged": [str(damaged)]}[case]
    plain = scap("read", *args)
    typed = scap("read", "--no-progress", *args)  # (an option: typer parses it)
    assert not plain[3] and typed[3]
    assert plain[:3] == typed[:3]
    assert plain[0] == {"plain": 0, "filter": 0, "missing": 1, "bad_filter": 4,
                        "damaged": 3}[case]
    assert (plain[1] != b"") == (case in ("plain", "filter", "damaged"))


def test_a_closed_pipe_ends_quietly() -> None:
    p = subprocess.run(f"{sys.executable} -c \"from scapkit.cli.main import main; main()\" "
                       f"read {CAPTURES[0]} | head -1", shell=True, capture_output=True,
                       cwd=REPO, timeout=120)
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 1 and p.stderr == b""
