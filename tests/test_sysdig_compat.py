"""Golden comparisons with the real sysdig 0.29.3 on the shared captures."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from support import CAPTURES, run_sysdig
from scapkit.cli.app import app
from scapkit.scapfile.convert import convert
from scapkit.scapfile.reader import CaptureReader

BASIC = "%evt.num %evt.rawtime %thread.tid %evt.dir %evt.type %evt.cpu"
runner = CliRunner()


def scap_out(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.mark.sysdig
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_basic_fields_equal_sysdig(sysdig: str, capture: Path) -> None:
    expected = run_sysdig(sysdig, "-r", str(capture), "-p", BASIC).decode()
    got = scap_out("read", str(capture), "-p", BASIC)
    assert got.splitlines() == expected.splitlines()
    assert len(got.splitlines()) > 20


@pytest.mark.sysdig
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_star_format_and_debug_listing(sysdig: str, capture: Path) -> None:
    """-D shows internal events too, numbered the same way as sysdig -D."""
    fmt = "*%evt.num %evt.type %evt.dir"
    expected = run_sysdig(sysdig, "-D", "-r", str(capture), "-p", fmt).decode()
    got = scap_out("read", str(capture), "-D", "-p", fmt)
    assert got.splitlines() == expected.splitlines()


@pytest.mark.sysdig
@pytest.mark.parametrize("compress", ["none", "gzip"])
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_converted_capture_prints_identically_in_sysdig(
    sysdig: str, capture: Path, compress: str, tmp_path: Path
) -> None:
    out = tmp_path / f"out.{compress}.scap"
    reader = convert(capture, out, compress)  # type: ignore[arg-type]
    assert reader.damage == []
    assert run_sysdig(sysdig, "-r", str(out)) == run_sysdig(sysdig, "-r", str(capture))


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_zstd_conversion_reads_back_identically(capture: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.zst.scap"
    convert(capture, out, "zstd")
    assert out.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"
    assert scap_out("read", str(out), "-D") == scap_out("read", str(capture), "-D")
    orig, conv = CaptureReader(capture), CaptureReader(out)
    key = lambda e: (e.num, e.ts, e.tid, e.cpu, e.type, e.nparams, e.raw_params())  # noqa: E731
    assert [key(e) for e in conv] == [key(e) for e in orig]
    assert conv.snapshot.processes.keys() == orig.snapshot.processes.keys()
    assert conv.snapshot.fd_count == orig.snapshot.fd_count
    assert conv.damage == []
