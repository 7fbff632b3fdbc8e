"""The recorder (scapkit.scapfile.recorder) on a replay driver: a test double that serves
the events of a real capture as a driver would (framed EV v2 blocks, in batches, with
drop counters). It checks the file handling: contents, compression, rotation and file
names, limits, filters, drop reports, kill safety, the held command and signals.
End-to-end runs with the real eBPF driver are in test_record_cli.py."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest

from support import DATA, run_sysdig
from scapkit.scapfile import blocks as B
from scapkit.scapfile.driver_api import Batch, DriverConfig, DriverError, DriverStats
from scapkit.scapfile.drops import count_drop_reports, parse_drop_report
from scapkit.scapfile.events import is_large
from scapkit.scapfile.reader import CaptureReader
from scapkit.scapfile.recorder import (CommandError, FileNamer, Recorder, RecordOptions,
                                       iter_blocks)
from scapkit.scapfile.snapshot import Snapshot
from scapkit.scapfile.summary import summarize
from scapkit.scapfile.writer import frame_block

SOURCE = DATA / "curl_google.scap"


def _source() -> tuple[Snapshot, list]:
    r = CaptureReader(SOURCE)
    events = list(r.events())
    return r.snapshot, events


SNAP, EVENTS = _source()


def _block(ev, ts: int | None = None) -> bytes:  # type: ignore[no-untyped-def]
    data = ev.data if ts is None else struct.pack("<Q", ts) + ev.data[8:]
    large = is_large(ev.type) or len(data) + 18 > 65536
    bt = B.BlockType.EV_V2_LARGE if large else B.BlockType.EV_V2
    return frame_block(bt, struct.pack("<H", ev.cpu) + data)


class ReplayDriver:
    """The Driver protocol over the events of a capture, replayed ``rounds`` times (each
    round shifted in time), ``per_batch`` events a drain. ``drops`` maps a drain number to
    events reported lost at that drain. ``endless`` keeps serving; ``on_drain`` is called
    with the drain number (tests send signals from it). A finite replay ends as a user
    ends a recording (unless ``interrupt`` is False): when nothing is left, the driver
    sends SIGINT to the main thread, where the recorder (which blocks it) picks it up."""

    name: ClassVar[str] = "replay"

    def __init__(self, events: list | None = None, *, per_batch: int = 100, rounds: int = 1,
                 drops: dict[int, int] | None = None, endless: bool = False,
                 interrupt: bool = True, on_drain=None,  # type: ignore[no-untyped-def]
                 idle_sleep: float = 0.0) -> None:
        self.events = EVENTS if events is None else events
        self.blocks = [_block(e) for e in self.events]
        self.per_batch, self.rounds, self.endless = per_batch, rounds, endless
        self.interrupt = interrupt
        self.drop_plan = dict(drops or {})
        self.on_drain = on_drain
        self.idle_sleep = idle_sleep
        self.config: DriverConfig | None = None
        self.target_exe_at_start: str | None = None
        self.drains = 0
        self.dropped = 0
        self.stopped = False
        self._served = 0
        self._interrupted = False
        self._span = self.events[-1].ts - self.events[0].ts + 1

    def _ts(self, k: int) -> int:
        n = len(self.events)
        return self.events[k % n].ts + (k // n) * self._span

    @property
    def served(self) -> list[tuple[int, bytes]]:
        """(ts, event bytes) of every event served, in order."""
        n = len(self.events)
        return [(ts, struct.pack("<Q", ts) + self.events[k % n].data[8:])
                for k in range(self._served) for ts in (self._ts(k),)]

    def start(self, config: DriverConfig) -> None:
        self.config = config
        if config.target_pid is not None:
            self.target_exe_at_start = os.readlink(f"/proc/{config.target_pid}/exe")

    def drain(self, max_bytes: int = 4 << 20, timeout_ms: int = 10) -> Batch:
        assert self.config is not None and not self.stopped
        self.drains += 1
        if self.on_drain is not None:
            self.on_drain(self.drains)
        self.dropped += self.drop_plan.get(self.drains, 0)
        n = len(self.events)
        total = None if self.endless else n * self.rounds
        out: list[bytes] = []
        size = 0
        first = self._served
        while len(out) < self.per_batch and (total is None or self._served < total):
            k = self._served
            blk = self.blocks[k % n]
            if k >= n:  # a later round: shift the timestamp
                blk = blk[:10] + struct.pack("<Q", self._ts(k)) + blk[18:]
            if out and size + len(blk) > max_bytes:
                break
            out.append(blk)
            size += len(blk)
            self._served += 1
        if not out:
            if self.idle_sleep:
                time.sleep(self.idle_sleep)
            if total is not None and self.interrupt and not self._interrupted:
                self._interrupted = True
                main = threading.main_thread().ident
                assert main is not None
                signal.pthread_kill(main, signal.SIGINT)
            return Batch(b"", 0)
        return Batch(b"".join(out), len(out), self._ts(first), self._ts(self._served - 1))

    def stats(self) -> DriverStats:
        return DriverStats(self._served, self.dropped, (self.dropped, 0))

    def stop(self) -> None:
        self.stopped = True


def _events_of(*paths: Path) -> list[tuple[int, bytes]]:
    out = []
    for p in paths:
        r = CaptureReader(p)
        out += [(e.ts, e.data) for e in r.events() if parse_drop_report(e) is None]
        assert r.damage == [], r.damage
    return out


def _record(tmp_path: Path, driver: ReplayDriver, command=None, **opts) -> tuple:  # type: ignore[no-untyped-def]
    options = RecordOptions(path=str(tmp_path / opts.pop("name", "out.scap")), **opts)
    rec = Recorder(driver, options, snapshot=lambda: SNAP)
    return rec, rec.run(command)


# -- contents -------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", ["none", "gzip", "zstd"])
def test_the_file_holds_the_snapshot_and_every_block_as_served(tmp_path: Path,
                                                               compress: str) -> None:
    drv = ReplayDriver(per_batch=37)
    rec, res = _record(tmp_path, drv, compress=compress)
    path = tmp_path / "out.scap"
    assert res.files == [str(path)] and res.events == len(EVENTS) == res.driver_events
    assert path.stat().st_mode & 0o777 == 0o600
    r = CaptureReader(path)
    got = list(r.events())
    assert r.compression == compress and r.damage == []
    assert [(e.ts, e.tid, e.cpu, e.type, e.data) for e in got] == \
        [(e.ts, e.tid, e.cpu, e.type, e.data) for e in EVENTS]
    assert r.snapshot.processes.keys() == SNAP.processes.keys()
    kinds = [B.block_kind(t) for t in r.block_counts]
    assert kinds[:2] == ["SHB", "MI"]
    assert drv.stopped and drv.config is not None
    assert drv.config.exclude_pid == os.getpid() and drv.config.target_pid is None
    assert res.drops == 0 and res.reason == "stopped by SIGINT"


def test_live_snapshot_by_default(tmp_path: Path) -> None:
    rec = Recorder(ReplayDriver(), RecordOptions(path=str(tmp_path / "x.scap")))
    rec.run()
    r = CaptureReader(tmp_path / "x.scap")
    list(r.events())
    assert os.getpid() in r.snapshot.processes  # the recorder saw itself in /proc
    assert r.snapshot.machine is not None and r.snapshot.machine.num_cpus == os.cpu_count()


@pytest.mark.sysdig
def test_sysdig_reads_the_recorded_file_like_the_source(tmp_path: Path, sysdig: str) -> None:
    _record(tmp_path, ReplayDriver(per_batch=50))
    assert run_sysdig(sysdig, "-r", str(tmp_path / "out.scap")) == \
        run_sysdig(sysdig, "-r", str(SOURCE))


def test_snaplen_and_buffer_reach_the_driver(tmp_path: Path) -> None:
    drv = ReplayDriver()
    _record(tmp_path, drv, snaplen=300, buffer_bytes=1 << 20)
    assert drv.config is not None
    assert (drv.config.snaplen, drv.config.buffer_bytes) == (300, 1 << 20)


def test_bad_blocks_from_a_driver_are_an_error(tmp_path: Path) -> None:
    class Broken(ReplayDriver):
        def drain(self, max_bytes: int = 4 << 20, timeout_ms: int = 10) -> Batch:
            b = super().drain(max_bytes, timeout_ms)
            return Batch(b.blocks[:-3], b.events, b.first_ts, b.last_ts)

    opts = RecordOptions(path=str(tmp_path / "x.scap"), max_events=50)
    with pytest.raises(DriverError, match="block"):
        Recorder(Broken(per_batch=10), opts, snapshot=lambda: SNAP).run()
    with pytest.raises(DriverError):
        list(iter_blocks(b"\x16\x02\x00\x00\x08\x00\x00\x00"))


# -- limits ---------------------------------------------------------------------------------


def test_event_limit_is_exact(tmp_path: Path) -> None:
    drv = ReplayDriver(per_batch=64, endless=True)
    _, res = _record(tmp_path, drv, max_events=1000)
    got = _events_of(tmp_path / "out.scap")
    assert res.events == len(got) == 1000 and res.reason == "event limit reached"
    assert got == drv.served[:1000]


def test_time_limit(tmp_path: Path) -> None:
    drv = ReplayDriver(per_batch=1, endless=True, idle_sleep=0.001)
    t = time.monotonic()
    _, res = _record(tmp_path, drv, max_seconds=1)
    assert 1 <= time.monotonic() - t < 10 and res.reason == "time limit reached"
    assert _events_of(tmp_path / "out.scap") == drv.served


# -- rotation -------------------------------------------------------------------------------


def test_file_names_follow_sysdig() -> None:
    def names(n: int, *args: int, base: str = "cap", when: float = 0.0) -> list[str]:
        namer = FileNamer(base, *args)
        return [namer.next(when)[0] for _ in range(n)]

    assert names(3) == ["cap", "cap", "cap"]
    assert names(3, 1) == ["cap0", "cap1", "cap2"]
    assert names(12, 1)[10:] == ["cap10", "cap11"]
    assert names(4, 1, 0, 3) == ["cap0", "cap1", "cap2", "cap0"]
    assert names(3, 1, 0, 10) == ["cap00", "cap01", "cap02"]
    assert names(3, 0, 60) == ["cap0", "cap1", "cap2"]
    assert names(3, 0, 60, 2) == ["cap0", "cap1", "cap0"]
    assert names(2, 1, 60, 2) == ["cap00", "cap11"]
    when = time.mktime((2024, 5, 6, 7, 8, 9, 0, 0, -1))
    assert names(1, 0, 60, base="cap-%Y%m%d-%H%M%S.scap", when=when) == \
        ["cap-20240506-070809.scap"]
    namer = FileNamer("c%S", 0, 1, 2)
    got = [namer.next(when + i) for i in range(4)]
    assert got == [("c09", None), ("c10", None), ("c11", "c09"), ("c12", "c10")]


def test_size_rotation_writes_a_series_of_readable_files(tmp_path: Path) -> None:
    drv = ReplayDriver(per_batch=200, rounds=28)  # about 2.7 MB of events
    _, res = _record(tmp_path, drv, name="cap.scap", file_size_mb=1)
    names = [f"cap.scap{i}" for i in range(len(res.files))]
    assert res.files == [str(tmp_path / n) for n in names] and len(names) >= 3
    for n in names:
        p = tmp_path / n
        assert p.stat().st_mode & 0o777 == 0o600
        r = CaptureReader(p)
        list(r.events())
        assert [B.block_kind(t) for t in r.block_counts][:2] == ["SHB", "MI"]
        assert len(r.snapshot.processes) == len(SNAP.processes)
    for n in names[:-1]:  # over 1 MB, by less than one batch
        assert 1_000_000 < (tmp_path / n).stat().st_size < 1_000_000 + (200 << 10)
    assert _events_of(*(tmp_path / n for n in names)) == drv.served


def test_size_rotation_ring(tmp_path: Path) -> None:
    drv = ReplayDriver(per_batch=200, rounds=40)  # about 4 MB: 4 files into a ring of 2
    _, res = _record(tmp_path, drv, name="ring", file_size_mb=1, file_limit=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ring0", "ring1"]
    assert res.files == [str(tmp_path / "ring0"), str(tmp_path / "ring1")]
    a, b = _events_of(tmp_path / "ring0"), _events_of(tmp_path / "ring1")
    older, newer = (a, b) if b and b[-1] == drv.served[-1] else (b, a)
    assert newer[-1] == drv.served[-1]
    served = drv.served
    assert older + newer == served[len(served) - len(older) - len(newer):]
    assert len(older) + len(newer) < len(served)  # the oldest files were overwritten


def test_time_rotation_with_strftime_names_and_a_limit(tmp_path: Path) -> None:
    now = [1_700_000_000.0]

    def clock() -> float:
        return now[0]

    def tick(n: int) -> None:
        now[0] += 1.0  # one second per drain

    drv = ReplayDriver(per_batch=100, on_drain=tick)
    opts = RecordOptions(path=str(tmp_path / "t-%H%M%S.scap"), rotate_seconds=3,
                         file_limit=2)
    res = Recorder(drv, opts, snapshot=lambda: SNAP, clock=clock).run()
    assert len(res.files) >= 4
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(Path(f).name for f in res.files[-2:])  # older ones deleted
    expected = [time.strftime("t-%H%M%S.scap", time.localtime(1_700_000_000 + 3 * i))
                for i in range(len(res.files))]
    assert [Path(f).name for f in res.files] == expected
    for p in tmp_path.iterdir():
        assert CaptureReader(p).snapshot is not None and _events_of(p)


# -- filter ---------------------------------------------------------------------------------


def test_filter_keeps_what_sysdig_semantics_accept(tmp_path: Path) -> None:
    from scapkit.inspect.filter.compiler import FieldsResolver, compile_filter
    from scapkit.inspect.state.engine import StateEngine

    text = "fd.type in (ipv6, unix) and proc.name=curl"
    _, res = _record(tmp_path, ReplayDriver(per_batch=33), filter_text=text)
    accept = compile_filter(text, FieldsResolver())
    eng = StateEngine(SNAP)
    want = [(e.ts, e.data) for e in EVENTS if not eng.process(e, accept).filtered_out]
    got = _events_of(tmp_path / "out.scap")
    assert got == want and 0 < len(want) < len(EVENTS)
    assert res.events == len(want) and res.filtered_out == len(EVENTS) - len(want)


def test_bad_filter_fails_before_the_driver_starts(tmp_path: Path) -> None:
    from scapkit.inspect.filter.errors import FilterError

    drv = ReplayDriver()
    with pytest.raises(FilterError):
        Recorder(drv, RecordOptions(path=str(tmp_path / "x"), filter_text="evt.type="))
    assert drv.config is None and not (tmp_path / "x").exists()


@pytest.mark.parametrize("bad", [dict(file_limit=2), dict(snaplen=70000), dict(compress="xz"),
                                 dict(max_events=-1), dict(path="")])
def test_bad_options(bad: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        RecordOptions(**{"path": "x", **bad})


# -- drops ----------------------------------------------------------------------------------


def test_drops_are_reported_where_they_happened(tmp_path: Path) -> None:
    drv = ReplayDriver(per_batch=100, drops={3: 250, 5: 7})
    _, res = _record(tmp_path, drv)
    path = tmp_path / "out.scap"
    assert res.drops == 257
    evs = list(CaptureReader(path).events())
    reports = [(i, parse_drop_report(e)) for i, e in enumerate(evs)
               if parse_drop_report(e) is not None]
    assert reports == [(300, 250), (501, 7)]  # after the 3rd and the 5th batch
    rep = evs[300]
    assert rep.ts == evs[299].ts and rep.tid == os.getpid()
    assert "250 events lost (250 since the recording started; per CPU 0:250 1:0)" in \
        rep.params()[1]
    assert count_drop_reports(path).lost == 257
    s = summarize(path)
    assert (s.drops, s.drop_reports) == (257, 2)


@pytest.mark.sysdig
def test_sysdig_shows_the_drop_reports(tmp_path: Path, sysdig: str) -> None:
    _record(tmp_path, ReplayDriver(per_batch=100, drops={2: 12}))
    out = run_sysdig(sysdig, "-r", str(tmp_path / "out.scap")).decode()
    lines = [ln for ln in out.splitlines() if "notification" in ln]
    assert len(lines) == 1 and "id=drops desc=12 events lost" in lines[0]
    ours = subprocess.run([sys.executable, "-m", "scapkit.cli", "read",
                           str(tmp_path / "out.scap")], capture_output=True,
                          env=dict(os.environ, TZ="UTC"), check=True).stdout.decode()
    assert ours == out


def test_drops_after_the_last_batch_are_still_reported(tmp_path: Path) -> None:
    n_batches = -(-len(EVENTS) // 100)
    drv = ReplayDriver(per_batch=100, drops={n_batches + 1: 3})
    _, res = _record(tmp_path, drv)
    assert res.drops == 3 and count_drop_reports(tmp_path / "out.scap").lost == 3


# -- the held command ------------------------------------------------------------------------


def test_command_is_held_until_the_driver_runs_and_its_status_returned(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    drv = ReplayDriver(per_batch=50, interrupt=False, idle_sleep=0.001)
    _, res = _record(tmp_path, drv, ["sh", "-c", f"echo hi > {marker}; exit 7"])
    assert res.exit_status == 7 and res.reason == "the command exited"
    assert drv.config is not None and drv.config.target_pid is not None
    # At start() the target was still the recorder's fork, not yet sh.
    assert drv.target_exe_at_start == os.readlink("/proc/self/exe")
    assert marker.read_text() == "hi\n"
    assert _events_of(tmp_path / "out.scap") == drv.served


def test_command_killed_by_a_signal(tmp_path: Path) -> None:
    _, res = _record(tmp_path, ReplayDriver(interrupt=False, idle_sleep=0.001),
                     ["sh", "-c", "kill -TERM $$"])
    assert res.exit_status == 128 + signal.SIGTERM


def test_command_not_found(tmp_path: Path) -> None:
    drv = ReplayDriver(interrupt=False, idle_sleep=0.001)
    with pytest.raises(CommandError) as err:
        _record(tmp_path, drv, ["/nonexistent/program"])
    assert err.value.errno == 2 and "cannot run /nonexistent/program" in str(err.value)
    assert drv.stopped
    CaptureReader(tmp_path / "out.scap")  # a complete (if short) capture


def test_driver_failure_releases_the_held_command(tmp_path: Path) -> None:
    class NoPrivilege(ReplayDriver):
        def start(self, config: DriverConfig) -> None:
            self.pid = config.target_pid
            raise DriverError("no privilege")

    drv = NoPrivilege()
    marker = tmp_path / "ran"
    with pytest.raises(DriverError):
        _record(tmp_path, drv, ["sh", "-c", f"touch {marker}"])
    assert not marker.exists()
    with pytest.raises(ChildProcessError):
        os.waitpid(drv.pid, os.WNOHANG)  # reaped
    assert not (tmp_path / "out.scap").exists()


def test_signals_go_to_the_command(tmp_path: Path) -> None:
    main = threading.main_thread().ident
    assert main == threading.get_ident()

    def on_drain(n: int) -> None:
        if n == 20:
            signal.pthread_kill(main, signal.SIGTERM)  # as `kill -TERM recorder` would

    drv = ReplayDriver(interrupt=False, idle_sleep=0.001, on_drain=on_drain)
    _, res = _record(tmp_path, drv, ["sleep", "30"])
    assert res.exit_status == 128 + signal.SIGTERM and res.reason == "the command exited"


def test_system_wide_recording_stops_cleanly_on_a_signal(tmp_path: Path) -> None:
    main = threading.main_thread().ident

    def on_drain(n: int) -> None:
        if n == 7:
            signal.pthread_kill(main, signal.SIGINT)

    drv = ReplayDriver(per_batch=10, endless=True, on_drain=on_drain)
    _, res = _record(tmp_path, drv)
    assert res.reason == "stopped by SIGINT" and res.exit_status is None
    assert _events_of(tmp_path / "out.scap") == drv.served
    assert drv.stopped


# -- kill safety ------------------------------------------------------------------------------

_KILLED_RECORDER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from test_recorder import ReplayDriver, SNAP
    from scapkit.scapfile.recorder import Recorder, RecordOptions

    def tick(n):
        if n % 20 == 0:
            print(n, flush=True)
    drv = ReplayDriver(per_batch=5, endless=True, on_drain=tick, idle_sleep=0.001)
    opts = RecordOptions(path=sys.argv[1], compress=sys.argv[2], flush_seconds=0.05)
    Recorder(drv, opts, snapshot=lambda: SNAP).run()
""")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("compress", ["none", "gzip", "zstd"])
def test_recorder_killed_with_sigkill_leaves_a_readable_file(tmp_path: Path,
                                                             compress: str) -> None:
    path = tmp_path / "killed.scap"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RECORDER.format(tests=str(Path(__file__).parent)),
         str(path), compress], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    drains = 0
    while drains < 200:
        line = proc.stdout.readline()
        assert line, "recorder died early"
        drains = int(line)
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    r = CaptureReader(path)
    evs = list(r.events())
    assert len(evs) >= 200 * 5 * 0.5  # most of what was drained before the kill
    n = len(EVENTS)
    span = EVENTS[-1].ts - EVENTS[0].ts + 1
    want = [(EVENTS[i % n].ts + (i // n) * span, EVENTS[i % n].data[8:])
            for i in range(len(evs))]
    assert [(e.ts, e.data[8:]) for e in evs] == want
    assert len(r.damage) <= 1  # at most the block (or compressed frame) cut by the kill
