"""``scap record``: options, errors and exit codes (any machine), then end-to-end runs with
the real eBPF driver (root, BPF and the driver needed), compared with sysdig 0.29.3."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import REPO, run_sysdig
from test_recorder import ReplayDriver
from scapkit.cli import record_cmd
from scapkit.scapfile.driver_api import NoPrivilegeError
from scapkit.scapfile.reader import CaptureReader

PY = sys.executable
ENV = dict(os.environ, TZ="UTC")


def scap(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def, type-arg]
    return subprocess.run([PY, "-m", "scapkit.cli", *args], capture_output=True, text=True,
                          env=ENV, timeout=timeout, cwd=REPO, **kw)


# -- the command line ------------------------------------------------------------------------


def test_record_is_a_scap_command() -> None:
    r = scap("--help")
    assert r.returncode == 0 and "record" in r.stdout
    r = scap("record", "--help")
    assert r.returncode == 0
    for opt in ("-w", "-s", "--compress", "-C", "-G", "-W", "-n", "-M", "--driver"):
        assert opt in r.stdout


def test_scap_starts_without_importing_the_recorder() -> None:
    code = ("import sys, scapkit.cli.main; "
            "print(sorted(m for m in sys.modules if m.startswith('scapkit')))")
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True).stdout
    for heavy in ("recorder", "procfs", "inspect", "ebpf", "kmod"):
        assert heavy not in out, out


@pytest.mark.parametrize("args, message", [
    (["record"], "missing output file (-w FILE)"),
    (["record", "-w", "x.scap", "-W", "3"], "-W needs -C or -G"),
    (["record", "-w", "x.scap", "--compress", "xz"], "unknown compression 'xz'"),
    (["record", "-w", "x.scap", "-s", "70000"], "snaplen 70000 outside 0..65000"),
    (["record", "-w", "x.scap", "-C", "-1"], "-C must be positive"),
    (["record", "-w", "x.scap", "--"], "missing command after --"),
    (["record", "-w", "x.scap", "--driver", "dtrace"], "unknown driver 'dtrace'"),
])
def test_bad_options_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    r = subprocess.run([PY, "-m", "scapkit.cli", *args], capture_output=True, text=True,
                       env=ENV, cwd=tmp_path, timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stderr == f"scap: {message}\n" or message in r.stderr
    assert "Traceback" not in r.stderr and not list(tmp_path.iterdir())


def test_unknown_option_is_a_usage_error() -> None:
    r = scap("record", "-w", "x.scap", "--bogus")
    assert r.returncode == 2 and "No such option" in r.stderr


def test_bad_filter_exits_4_before_any_driver(tmp_path: Path) -> None:
    r = scap("record", "-w", str(tmp_path / "x.scap"), "evt.type=", "and")
    assert r.returncode == 4
    assert r.stderr.startswith("scap: filter error at position") and "^" in r.stderr
    assert "Traceback" not in r.stderr and not list(tmp_path.iterdir())


def test_missing_driver_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(record_cmd.DRIVERS, "ebpf", ("scapkit.ebpf.not_built", "EbpfDriver"))
    code = record_cmd.run_record(write=str(tmp_path / "x.scap"), filter_words=[],
                                 command=None)
    assert code == 1
    assert capsys.readouterr().err == \
        "scap: driver not available: ebpf (scapkit.ebpf.not_built is not installed)\n"
    assert not list(tmp_path.iterdir())


def test_driver_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    class Unprivileged(ReplayDriver):
        def start(self, config):  # type: ignore[no-untyped-def]
            raise NoPrivilegeError("recording needs root, or CAP_BPF and CAP_PERFMON")

    code = record_cmd.run_record(write=str(tmp_path / "x.scap"), filter_words=[],
                                 command=["true"], make_driver=Unprivileged)
    assert code == 1
    assert capsys.readouterr().err == \
        "scap: ebpf driver: recording needs root, or CAP_BPF and CAP_PERFMON\n"


def test_unwritable_output_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = record_cmd.run_record(write=str(tmp_path / "no" / "dir" / "x.scap"),
                                 filter_words=[], command=["true"],
                                 make_driver=lambda: ReplayDriver(interrupt=False))
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("scap: ") and "No such file or directory" in err
    assert len(err.splitlines()) == 1


def test_command_status_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.scap"
    code = record_cmd.run_record(write=str(out), filter_words=[],
                                 command=["sh", "-c", "exit 3"],
                                 make_driver=lambda: ReplayDriver(interrupt=False))
    assert code == 3
    err = capsys.readouterr().err
    assert err.startswith("scap: recorded ") and f"to {out}; no events lost" in err
    assert out.stat().st_mode & 0o777 == 0o600


def test_command_not_found_exits_127(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = record_cmd.run_record(write=str(tmp_path / "x.scap"), filter_words=[],
                                 command=["no-such-program-here"],
                                 make_driver=lambda: ReplayDriver(interrupt=False))
    assert code == 127
    assert "scap: cannot run no-such-program-here: No such file or directory" in \
        capsys.readouterr().err


def test_drops_are_in_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = record_cmd.run_record(write=str(tmp_path / "x.scap"), filter_words=[],
                                 command=None,
                                 make_driver=lambda: ReplayDriver(drops={2: 40}))
    assert code == 0
    assert "40 EVENTS LOST by the driver" in capsys.readouterr().err
    info = scap("info", str(tmp_path / "x.scap"))
    assert "drops: 40 events lost by the driver (1 drop report): this capture is incomplete" \
        in info.stdout
    js = scap("info", "-j", str(tmp_path / "x.scap"))
    assert '"drops": 40' in js.stdout and '"drop_reports": 1' in js.stdout


def test_everything_after_the_double_dash_is_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from scapkit.cli.app import app

    seen: dict = {}  # type: ignore[type-arg]

    def fake(**kw):  # type: ignore[no-untyped-def]
        seen.update(kw)
        return 0

    monkeypatch.setattr(record_cmd, "run_record", fake)
    r = CliRunner().invoke(app, ["record", "-w", "f", "proc.name=sh", "and", "evt.type=open",
                                 "-n", "5", "--", "sh", "-c", "exit 1", "--", "-w", "x"])
    assert r.exit_code == 0, r.output
    assert seen["filter_words"] == ["proc.name=sh", "and", "evt.type=open"]
    assert seen["command"] == ["sh", "-c", "exit 1", "--", "-w", "x"]
    assert (seen["write"], seen["numevents"]) == ("f", 5)
    seen.clear()
    CliRunner().invoke(app, ["record", "-w", "f", "evt.type=open"])
    assert seen["command"] is None and seen["filter_words"] == ["evt.type=open"]


# -- end to end with the real eBPF driver ------------------------------------------------------


def _ebpf_ready() -> str | None:
    """Why the real-driver tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root"
    if importlib.util.find_spec("scapkit.ebpf.driver") is None:
        return "the eBPF driver (scapkit.ebpf.driver) is not built yet"
    if not Path("/sys/kernel/btf/vmlinux").exists():
        return "no BTF on this kernel"
    return None


needs_ebpf = pytest.mark.skipif(_ebpf_ready() is not None, reason=str(_ebpf_ready()))


def _lines(r: subprocess.CompletedProcess) -> list[str]:  # type: ignore[type-arg]
    return r.stdout.splitlines()


@pytest.mark.root
@needs_ebpf
@pytest.mark.timeout(300)
def test_record_cat_hostname(tmp_path: Path, sysdig: str) -> None:
    f = tmp_path / "cat.scap"
    r = scap("record", "-w", str(f), "--", "cat", "/etc/hostname")
    assert r.returncode == 0, r.stderr
    assert r.stdout == Path("/etc/hostname").read_text()
    assert "scap: recorded " in r.stderr and "no events lost" in r.stderr
    assert f.stat().st_mode & 0o777 == 0o600
    ours = scap("read", str(f))
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.encode() == run_sysdig(sysdig, "-r", str(f))
    fmt = "*%proc.name %evt.dir %evt.type %fd.name %evt.rawres %evt.arg.data"
    rows = _lines(scap("read", str(f), "-p", fmt, "proc.name=cat"))
    hostname = Path("/etc/hostname").read_text().strip()
    assert any(x.startswith("cat < execve") for x in rows)
    opened = [x for x in rows if "< openat /etc/hostname" in x]
    assert opened and int(opened[0].split()[4]) >= 0
    assert any(x.startswith("cat < read /etc/hostname") and hostname in x for x in rows)
    assert any(x.startswith("cat < close") for x in rows) or \
        any(x.startswith("cat > close /etc/hostname") for x in rows)
    procs = set(_lines(scap("read", str(f), "-p", "%proc.name")))
    assert procs <= {"cat", "python", Path(PY).name[:15], "scap"}, procs


@pytest.mark.root
@needs_ebpf
@pytest.mark.timeout(300)
@pytest.mark.parametrize("script, status", [("exit 5", 5), ("kill -KILL $$", 137)])
def test_exit_status_propagates(tmp_path: Path, script: str, status: int) -> None:
    r = scap("record", "-w", str(tmp_path / "s.scap"), "--", "sh", "-c", script)
    assert r.returncode == status, r.stderr
    assert CaptureReader(tmp_path / "s.scap").snapshot is not None


@pytest.mark.root
@needs_ebpf
@pytest.mark.timeout(300)
def test_filter_keeps_only_matching_events(tmp_path: Path) -> None:
    f = tmp_path / "f.scap"
    r = scap("record", "-w", str(f), "evt.type=openat", "--", "cat", "/etc/hostname")
    assert r.returncode == 0, r.stderr
    types = set(_lines(scap("read", str(f), "-p", "%evt.type")))
    assert types == {"openat"}


@pytest.mark.root
@needs_ebpf
@pytest.mark.timeout(300)
def test_killed_recorder_leaves_a_readable_file(tmp_path: Path) -> None:
    f = tmp_path / "k.scap"
    p = subprocess.Popen([PY, "-m", "scapkit.cli", "record", "-w", str(f)], env=ENV, cwd=REPO,
                         stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and (not f.exists() or f.stat().st_size < 100_000):
        for _ in range(200):
            os.stat("/etc/hostname")
        time.sleep(0.1)
    time.sleep(1.0)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    r = CaptureReader(f)
    evs = list(r.events())
    assert len(evs) > 0 and len(r.damage) <= 1
    assert r.snapshot.machine is not None and r.snapshot.machine.hostname == socket.gethostname()


@pytest.mark.root
@needs_ebpf
@pytest.mark.timeout(300)
def test_sigint_finishes_the_file(tmp_path: Path, sysdig: str) -> None:
    f = tmp_path / "i.scap"
    p = subprocess.Popen([PY, "-m", "scapkit.cli", "record", "-w", str(f)], env=ENV, cwd=REPO,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not f.exists():
        time.sleep(0.1)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert "scap: recorded " in err
    r = CaptureReader(f)
    tids = {ev.tid for ev in r.events()}
    assert tids and r.damage == []
    assert p.pid not in tids  # the recorder does not record itself
    assert len(run_sysdig(sysdig, "-r", str(f)).splitlines()) > 0


@pytest.mark.root
@needs_ebpf
@pytest.mark.timeout(300)
def test_drops_with_the_real_driver_are_reported(tmp_path: Path, sysdig: str) -> None:
    """A small ring and a slow (gzip) writer under a syscall storm: whatever the driver
    reports lost is in the file, where scap info and sysdig find it."""
    from scapkit.ebpf.driver import EbpfDriver
    from scapkit.scapfile.recorder import Recorder, RecordOptions
    from scapkit.scapfile.summary import summarize

    f = tmp_path / "d.scap"
    opts = RecordOptions(path=str(f), compress="gzip", buffer_bytes=1 << 20)
    drv = EbpfDriver()
    res = Recorder(drv, opts).run(["dd", "if=/dev/zero", "of=/dev/null", "bs=1",
                                   "count=200000"])
    assert res.exit_status == 0
    assert res.drops == drv.stats().drops
    s = summarize(f)
    assert (s.drops, s.damage) == (res.drops, [])
    shown = run_sysdig(sysdig, "-r", str(f), "evt.type=notification").decode().splitlines()
    assert len(shown) == s.drop_reports and (s.drop_reports > 0) == (res.drops > 0)
    assert all("id=drops desc=" in line for line in shown)


@pytest.mark.root
@needs_ebpf
@pytest.mark.timeout(300)
def test_size_rotation_with_the_real_driver(tmp_path: Path) -> None:
    base = tmp_path / "rot.scap"
    # About 80000 read/write events: 4 to 5 MB, so a few files of 1 MB.
    r = scap("record", "-w", str(base), "-C", "1", "-W", "9", "--", "dd", "if=/dev/zero",
             "of=/dev/null", "bs=1", "count=40000", timeout=280)
    assert r.returncode == 0, r.stderr
    files = sorted(tmp_path.glob("rot.scap*"))
    assert [p.name for p in files] == [f"rot.scap{i}" for i in range(len(files))]
    assert len(files) >= 3
    for p in files:
        assert p.stat().st_mode & 0o777 == 0o600
        rd = CaptureReader(p)
        assert sum(1 for _ in rd.events()) > 0 and rd.damage == []
        assert rd.snapshot.processes

