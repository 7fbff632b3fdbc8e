"""The scap command line: outputs, exit codes, stdin, closed pipes."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from support import CAPTURES, DATA
from scapkit.cli.app import app

runner = CliRunner()
CURL = DATA / "curl_google.scap"


def test_info_json_has_the_documented_keys() -> None:
    res = runner.invoke(app, ["info", "-j", str(CURL)])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    for key in ("events", "drops", "first_ts", "last_ts", "event_counts"):
        assert key in d
    assert d["events"] == 1536
    assert d["first_ts"] == 1534527342999999999 and d["last_ts"] == 1534527350999999999
    assert d["event_counts"]["open"] == 96 and d["event_counts"]["clock_gettime"] == 188
    assert d["machine"]["hostname"] == "ip-10-0-0-79"
    assert d["processes"] == 54 and d["fds"] == 316
    assert d["blocks"]["PL v5"] == 1 and d["blocks"]["EV"] == 1536
    assert d["compression"] == "gzip" and d["damage"] == [] and d["drops"] == 0


def test_info_human_output() -> None:
    res = runner.invoke(app, ["info", str(DATA / "single_ipv6_conn.scap")])
    assert res.exit_code == 0, res.output
    assert "events: 1728" in res.stdout
    assert "version 1.2" in res.stdout
    assert "PL v9 x1" in res.stdout
    assert "damage: none" in res.stdout


def test_read_from_stdin_plain_and_gzip() -> None:
    raw = gzip.decompress(CURL.read_bytes())
    direct = runner.invoke(app, ["read", str(CURL)]).stdout
    for data in (raw, CURL.read_bytes()):
        got = runner.invoke(app, ["read", "-"], input=data)
        assert got.exit_code == 0, got.output
        assert got.stdout == direct


def test_count_limits_events_as_sysdig_does() -> None:
    res = runner.invoke(app, ["read", "-D", "-n", "5", str(CURL), "-p", "%evt.num"])
    assert res.stdout.split() == ["1", "2", "3", "4", "5"]


def test_bad_format_has_its_own_exit_code() -> None:
    res = runner.invoke(app, ["read", str(CURL), "-p", "%evt.nosuchfield"])
    assert res.exit_code == 4
    assert "position" in res.output


def test_usage_error_exit_code() -> None:
    res = runner.invoke(app, ["read"])
    assert res.exit_code == 2


def test_not_a_capture_and_missing_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello world, not a capture at all")
    res = runner.invoke(app, ["read", str(junk)])
    assert res.exit_code == 3
    assert "Traceback" not in res.output and "offset 0" in res.output
    res = runner.invoke(app, ["info", str(tmp_path / "missing.scap")])
    assert res.exit_code == 1 and "Traceback" not in res.output


def test_events_lists_the_table() -> None:
    res = runner.invoke(app, ["events", "open"])
    lines = res.stdout.splitlines()
    assert any(ln.strip().startswith("3 < open(FD fd, FSPATH name") for ln in lines)


def test_closed_pipe_ends_quietly() -> None:
    """`scap read FILE | head -1` must not print a traceback."""
    proc = subprocess.run(
        f"{sys.executable} -c 'from scapkit.cli.main import main; main()' read -D {CURL} "
        "| head -1",
        shell=True, capture_output=True, text=True, timeout=120)
    assert proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_every_capture_lists_without_damage() -> None:
    for cap in CAPTURES:
        res = runner.invoke(app, ["read", str(cap)])
        assert res.exit_code == 0 and res.stdout


def test_read_with_filter_and_filter_error() -> None:
    res = runner.invoke(app, ["read", str(CURL), "-p", "%evt.num %evt.type",
                              "evt.type in (connect, socket) and evt.dir = <"])
    assert res.exit_code == 0, res.output
    assert res.stdout.split("\n")[:3] == ["1010 socket", "1055 socket", "1057 connect"]
    res = runner.invoke(app, ["read", str(CURL), "evt.type", "="])
    assert res.exit_code == 4
    assert "position" in res.output and "^" in res.output and "Traceback" not in res.output


def test_count_counts_only_events_passing_the_filter() -> None:
    res = runner.invoke(app, ["read", "-n", "2", str(CURL), "-p", "%evt.num", "evt.type=connect"])
    assert res.stdout.split() == ["1056", "1057"]
