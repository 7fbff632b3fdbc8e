"""``scap read`` options beyond the listing: -d, -S, -q, --since/--until, the progress line.

-d and -S are compared byte for byte with sysdig 0.29.3; --since/--until (which sysdig
lacks) against the subset of sysdig's own listing whose ``evt.rawtime`` is in the window.
"""

from __future__ import annotations

import gzip
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import time
import tty
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

from support import CAPTURES, DATA, run_sysdig
from scapkit.cli.app import app
from scapkit.cli.progress import CountingFile, ReadProgress, format_line
from scapkit.inspect.stdsort import cxx_sort
from scapkit.inspect.summary_table import NUM_EVENTS, EventSummary
from scapkit.inspect.timerange import Anchor, TimeSyntaxError, TimeWindow, parse_time
from scapkit.scapfile.convert import convert
from scapkit.scapfile.errors import FormatError
from scapkit.scapfile.events import EVENT_HEADER, RawEvent
from scapkit.scapfile.reader import CaptureReader
from scapkit.scapfile.tail import last_event_ts
from scapkit.scapfile.writer import ScapWriter

runner = CliRunner()
CURL = DATA / "curl_google.scap"
#: Fields that depend on the state the filter let through (fds, enter events, buffers).
STATEFUL = ("*%evt.num %evt.type %evt.dir %proc.name %fd.name %fd.num %evt.category "
            "%evt.buflen %evt.info")
STATEFUL_STRICT = STATEFUL[1:]  # without *: events missing a field are not printed


pytestmark = pytest.mark.usefixtures("utc")


def scap(*args: str, code: int = 0) -> bytes:
    res = runner.invoke(app, ["read", *args])
    assert res.exit_code == code, res.output
    return res.stdout_bytes


@lru_cache(maxsize=None)
def sysdig_out(sysdig: str, *args: str) -> bytes:
    return run_sysdig(sysdig, *args)


# -- -d: the filter after the state ---------------------------------------------------------------

DISPLAY_FILTERS = [
    "evt.dir=<",
    "evt.type=read and evt.dir=<",
    "evt.type=close",
    "evt.type=execve",
    "proc.name=curl and evt.dir=<",
    "evt.type in (open,openat) and fd.name contains lib",
    "fd.type=ipv6",
    "evt.num=231",
]


@pytest.mark.sysdig
@pytest.mark.parametrize("flt", DISPLAY_FILTERS)
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_display_filter_is_sysdigs(sysdig: str, capture: Path, flt: str) -> None:
    for fmt in (STATEFUL, STATEFUL_STRICT):
        expected = sysdig_out(sysdig, "-d", "-r", str(capture), "-p", fmt, flt)
        assert scap("-d", str(capture), "-p", fmt, flt) == expected


@pytest.mark.sysdig
@pytest.mark.parametrize("args", [[], ["-j"], ["-n", "300"], ["-D"], ["-q"]],
                         ids=["default", "json", "count", "debug", "quiet"])
def test_display_filter_with_other_options(sysdig: str, args: list[str]) -> None:
    flt = "evt.dir=< and proc.name=curl"
    expected = sysdig_out(sysdig, "-d", *args, "-r", str(CURL), flt)
    assert scap("-d", *args, str(CURL), flt) == expected


@pytest.mark.sysdig
def test_display_filter_changes_what_is_shown(sysdig: str) -> None:
    """Where the filter runs matters: without -d an exit whose enter was refused has no fd,
    so a format needing fd.name drops it; with -d every event was parsed first."""
    flt = "evt.type=read and evt.dir=<"
    capture_filter = scap(str(CURL), "-p", STATEFUL_STRICT, flt)
    display_filter = scap("-d", str(CURL), "-p", STATEFUL_STRICT, flt)
    assert capture_filter == sysdig_out(sysdig, "-r", str(CURL), "-p", STATEFUL_STRICT, flt)
    assert capture_filter == b""
    assert len(display_filter.splitlines()) == 50
    # The same with *: the lines exist both ways but the fd and buffer fields differ.
    without = scap(str(CURL), "-p", STATEFUL, flt).splitlines()
    with_d = scap("-d", str(CURL), "-p", STATEFUL, flt).splitlines()
    assert len(without) == len(with_d) == 50
    assert sum(a != b for a, b in zip(without, with_d)) == 50
    assert b"<NA>" in without[0] and b"<NA>" not in with_d[0]


# -- -S: the summary table ------------------------------------------------------------------------

SUMMARY_ARGS = [
    ["-S"],
    ["-S", "-q"],
    ["-S", "evt.type=read"],
    ["-S", "-q", "proc.name=curl"],
    ["-S", "-D", "-q"],
    ["-S", "-D", "evt.type=open"],
    ["-S", "-d", "evt.dir=<"],
    ["-S", "-q", "-n", "100"],
    ["-S", "-j", "-n", "10"],
]


@pytest.mark.sysdig
@pytest.mark.parametrize("args", SUMMARY_ARGS, ids=" ".join)
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_summary_is_sysdigs(sysdig: str, capture: Path, args: list[str]) -> None:
    expected = sysdig_out(sysdig, "-r", str(capture), *args)
    got = scap(str(capture), *args)
    assert got == expected
    assert got.count(b"#Calls") == 1


def test_summary_table_layout() -> None:
    out = scap(str(CURL), "-S", "-q").decode().splitlines()
    assert out[:3] == ["-" * 22, "Event           #Calls", "-" * 22]
    assert out[3] == "> procinfo        315"
    counts = [int(line[18:]) for line in out[3:]]
    assert counts == sorted(counts, reverse=True) and len(out) - 3 <= 100


def test_summary_counts_generic_events_under_their_syscall() -> None:
    s = EventSummary()
    # A generic exit (code 1) of PPM_SC 11 ("time"): ID=11, nativeID=201.
    params = [struct.pack("<H", 11), struct.pack("<H", 201)]
    lens = struct.pack("<2H", 2, 2)
    data = EVENT_HEADER.pack(1, 1, 26 + 4 + 4, 1, 2) + lens + b"".join(params)
    s.add(RawEvent(1, 0, 0, 0, 1, 1, 1, 2, data))
    s.add(RawEvent(2, 0, 0, 0, 1, 1, 3, 0, EVENT_HEADER.pack(1, 1, 26, 3, 0)))
    assert s.counts[NUM_EVENTS + 2 * 11 + 1] == 1 and s.counts[3] == 1
    rows = s.rows()
    assert ("<", "time", 1) in rows and len(rows) == 2


def test_summary_names_are_cut_to_16_characters() -> None:
    s = EventSummary()
    index = next(i for i in range(NUM_EVENTS, len(s.counts)) if len(_syscall_name(i)) > 16)
    s.counts[index] = 7
    (line,) = list(s.lines())[3:]
    assert line == f"> {_syscall_name(index)[:16]}7"


def _syscall_name(index: int) -> str:
    from scapkit.scapfile.syscall_names import SYSCALL_INFO

    return SYSCALL_INFO[(index - NUM_EVENTS) // 2].name


_SORT_ORACLE = r"""
#include <algorithm>
#include <cstdio>
#include <vector>
struct E { long k; int id; };
int main() {
  int n;
  while (std::scanf("%d", &n) == 1) {
    std::vector<E> v(n);
    for (int i = 0; i < n; i++) { std::scanf("%ld", &v[i].k); v[i].id = i; }
    std::sort(v.begin(), v.end(), [](const E& a, const E& b) { return a.k > b.k; });
    for (int i = 0; i < n; i++) std::printf("%d ", v[i].id);
    std::printf("\n");
  }
}
"""


def test_cxx_sort_leaves_ties_where_libstdcxx_does(tmp_path: Path) -> None:
    """The tie order of -S depends on std::sort: compare with the real one (g++)."""
    gxx = shutil.which("g++")
    if gxx is None:
        pytest.skip("g++ not installed (needed to run the real std::sort)")
    src = tmp_path / "oracle.cpp"
    src.write_text(_SORT_ORACLE)
    exe = tmp_path / "oracle"
    subprocess.run([gxx, "-O1", "-o", str(exe), str(src)], check=True)
    import random

    rnd = random.Random(7)
    cases = []
    for _ in range(400):
        n = rnd.choice([1, 2, 16, 17, 40, 994, rnd.randint(0, 2000)])
        top = rnd.choice([1, 3, 10, 1000])
        keys = [rnd.randint(0, top) if rnd.random() < 0.6 else 0 for _ in range(n)]
        if rnd.random() < 0.2:
            keys.sort(reverse=rnd.random() < 0.5)
        cases.append(keys)
    text = "".join(f"{len(k)} {' '.join(map(str, k))}\n" for k in cases)
    out = subprocess.run([str(exe)], input=text, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert len(out) == len(cases)
    for keys, line in zip(cases, out):
        items = list(enumerate(keys))
        cxx_sort(items, lambda a, b: a[1] > b[1])
        assert [i for i, _ in items] == [int(x) for x in line.split()]


# -- --since / --until ----------------------------------------------------------------------------


def _ns_to_iso(ns: int, offset_minutes: int = 0, sep: str = "T") -> str:
    """``ns`` as ISO 8601 in the zone ``offset_minutes`` east of UTC (``Z`` or ``+HH:MM``;
    with ``sep=" "`` and no offset, no zone at all: UTC is assumed)."""
    dt = datetime.fromtimestamp(ns // 10**9, timezone(timedelta(minutes=offset_minutes)))
    if offset_minutes:
        z = dt.strftime("%z")
        zone = f"{z[:3]}:{z[3:]}"
    else:
        zone = "Z" if sep == "T" else ""
    return dt.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + f".{ns % 10**9:09d}" + zone


@lru_cache(maxsize=None)
def _rows(sysdig: str, capture: str, *args: str) -> list[tuple[int, int]]:
    """(evt.num, evt.rawtime) of what sysdig shows."""
    out = sysdig_out(sysdig, "-r", capture, "-p", "%evt.num %evt.rawtime", *args)
    return [(int(a), int(b)) for a, b in (line.split() for line in out.splitlines())]


@lru_cache(maxsize=None)
def _first_last(sysdig: str, capture: str) -> tuple[int, int]:
    """The first event's time (evt.reltime's origin) and the last event's, from sysdig."""
    out = sysdig_out(sysdig, "-D", "-r", capture, "-p", "%evt.rawtime %evt.reltime")
    lines = out.splitlines()
    ts, rel = (int(x) for x in lines[0].split())
    return ts - rel, int(lines[-1].split()[0])


def _nums(out: bytes) -> list[int]:
    return [int(x) for x in out.split()]


@pytest.mark.sysdig
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_window_keeps_the_events_sysdig_shows_in_it(sysdig: str, capture: Path) -> None:
    rows = _rows(sysdig, str(capture))
    first, _ = _first_last(sysdig, str(capture))
    lo, hi = rows[len(rows) // 4][1], rows[3 * len(rows) // 4][1]
    expected = [n for n, ts in rows if lo <= ts < hi]
    assert 5 < len(expected) < len(rows)
    spellings = [
        (str(lo), str(hi)),
        (f"{lo // 10**9}.{lo % 10**9:09d}", f"{hi // 10**9}.{hi % 10**9:09d}"),
        (_ns_to_iso(lo), _ns_to_iso(hi)),
        (_ns_to_iso(lo, 120), _ns_to_iso(hi, -300)),
        (_ns_to_iso(lo, sep=" "), _ns_to_iso(hi, sep=" ")),
        (f"+{lo - first}ns", f"+{(hi - first) / 1000}us"),
    ]
    for since, until in spellings:
        got = scap(str(capture), "--since", since, "--until", until, "-p", "%evt.num")
        assert _nums(got) == expected, (since, until)
    # One bound only.
    assert _nums(scap(str(capture), "--since", str(lo), "-p", "%evt.num")) == \
        [n for n, ts in rows if ts >= lo]
    assert _nums(scap(str(capture), "--until", str(hi), "-p", "%evt.num")) == \
        [n for n, ts in rows if ts < hi]


@pytest.mark.sysdig
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_window_counted_back_from_the_last_event(sysdig: str, capture: Path,
                                                 tmp_path: Path) -> None:
    plain = tmp_path / capture.name
    convert(capture, plain, "none")
    rows = _rows(sysdig, str(capture))
    _, last = _first_last(sysdig, str(capture))
    assert last_event_ts(plain) == last
    lo = rows[len(rows) // 2][1]
    back = last - lo
    got = scap(str(plain), "--since", f"-{back}ns", "-p", "%evt.num")
    assert _nums(got) == [n for n, ts in rows if ts >= lo]
    got = scap(str(plain), "--until", f"-{back / 10**9}s", "-p", "%evt.num")
    assert _nums(got) == [n for n, ts in rows if ts < lo]


@pytest.mark.sysdig
@pytest.mark.parametrize("flt", ["evt.type=read and evt.dir=<", "fd.type=ipv6"])
@pytest.mark.parametrize("display", [False, True], ids=["capture-filter", "display-filter"])
def test_window_keeps_the_state_of_the_whole_capture(sysdig: str, flt: str,
                                                     display: bool) -> None:
    """Events before --since are parsed, so the lines in the window are those of the full
    listing (same fds, same enter events), with a filter or -d as well."""
    d = ["-d"] if display else []
    full = sysdig_out(sysdig, *d, "-r", str(CURL), "-p", "*%evt.rawtime " + STATEFUL_STRICT, flt)
    lines = full.splitlines()
    stamps = [int(line.split()[0]) for line in lines]
    lo, hi = stamps[len(stamps) // 3], stamps[2 * len(stamps) // 3]
    expected = [line for line, ts in zip(lines, stamps) if lo <= ts < hi]
    got = scap(*d, str(CURL), "--since", str(lo), "--until", str(hi),
               "-p", "*%evt.rawtime " + STATEFUL_STRICT, flt).splitlines()
    assert got == expected and len(expected) >= 3


@pytest.mark.sysdig
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_window_summary_counts_the_window(sysdig: str, capture: Path) -> None:
    """-S over a window equals sysdig -S with a filter on evt.rawtime (the counts do not
    depend on the state)."""
    rows = _rows(sysdig, str(capture))
    lo, hi = rows[len(rows) // 5][1], rows[4 * len(rows) // 5][1]
    expected = sysdig_out(sysdig, "-r", str(capture), "-S", "-q",
                          f"evt.rawtime>={lo} and evt.rawtime<{hi}")
    assert scap(str(capture), "-S", "-q", "--since", str(lo), "--until", str(hi)) == expected


@pytest.mark.sysdig
def test_count_starts_in_the_window(sysdig: str) -> None:
    rows = _rows(sysdig, str(CURL))
    lo = rows[100][1]
    got = _nums(scap(str(CURL), "--since", str(lo), "-n", "7", "-p", "%evt.num"))
    assert got == [n for n, ts in rows if ts >= lo][:7]


def test_reading_stops_at_until(tmp_path: Path) -> None:
    """Past --until nothing more is read: damage after that point goes unseen."""
    raw = gzip.decompress(CURL.read_bytes())
    cut = tmp_path / "cut.scap"
    cut.write_bytes(raw[:len(raw) * 3 // 4])
    assert runner.invoke(app, ["read", str(cut)]).exit_code == 3
    with CaptureReader(cut) as r:
        stamps = [ev.ts for ev in r]
    until = stamps[len(stamps) // 2]
    res = runner.invoke(app, ["read", str(cut), "--until", str(until), "-p", "%evt.num"])
    assert res.exit_code == 0 and res.stderr == ""
    res = runner.invoke(app, ["read", str(cut), "--since", str(until), "-p", "%evt.num"])
    assert res.exit_code == 3 and "claims" in res.stderr


@pytest.mark.parametrize("bad", ["yesterday", "+5", "5s", "+5x", "2018-13-01", "+",
                                 "2018-08-17 25:00:00", "2018-08-17T10:00:00+25:00"])
def test_unparsable_times_are_usage_errors(bad: str) -> None:
    for option in ("--since", "--until"):
        res = runner.invoke(app, ["read", str(CURL), f"{option}={bad}"])
        assert res.exit_code == 2
        (line,) = res.stderr.splitlines()
        assert line.startswith(f"scap: invalid time '{bad}'")


def test_counting_back_needs_an_uncompressed_file() -> None:
    res = runner.invoke(app, ["read", str(CURL), "--since", "-2s"])
    assert res.exit_code == 2 and "uncompressed" in res.stderr
    res = runner.invoke(app, ["read", "-", "--until=-2s"], input=CURL.read_bytes())
    assert res.exit_code == 2 and "uncompressed" in res.stderr


def test_parse_time_forms() -> None:
    assert parse_time("2018-08-17 17:35:48.518928110").ns == 1534527348518928110
    assert parse_time("2018-08-17T19:35:48.5+02:00").ns == 1534527348500000000
    assert parse_time("2018-08-17T12:35:48-0500").ns == 1534527348000000000
    assert parse_time("2018-08-17").ns == 1534464000000000000
    assert parse_time("1534527348518928110").ns == 1534527348518928110
    assert parse_time("1534527348.5").ns == 1534527348500000000
    assert parse_time("+1m30s") == parse_time("+90s") == parse_time("+90000ms")
    assert parse_time("+250ms").ns == 250_000_000 and parse_time("+1.5h").anchor is Anchor.FIRST
    assert parse_time("-10s").ns == -10 * 10**9 and parse_time("-10s").anchor is Anchor.LAST
    assert parse_time("+2us").ns == parse_time("+2µs").ns == 2000
    for bad in ("", "now", "+1y", "--5s", "1534527348.1234567890"):
        with pytest.raises(TimeSyntaxError):
            parse_time(bad)


def test_window_resolution() -> None:
    w = TimeWindow(parse_time("+1s"), parse_time("-1s"), last_ts=10 * 10**9)
    w.resolve(2 * 10**9)
    assert (w.lo, w.hi) == (3 * 10**9, 9 * 10**9)
    assert 3 * 10**9 in w and 9 * 10**9 not in w
    w = TimeWindow(parse_time("+1s"))
    w.resolve(None)  # a capture without events
    assert w.lo is None


def test_last_event_ts_walks_back_over_metadata(tmp_path: Path) -> None:
    plain = tmp_path / "p.scap"
    convert(CURL, plain, "none")
    with CaptureReader(plain) as r:
        last = [ev.ts for ev in r][-1]
    assert last_event_ts(plain) == last
    # A metadata block after the last event is stepped over.
    body = b"\0" * 8
    blen = 12 + len(body)
    trailing = struct.pack("<II", 0x201, blen) + body + struct.pack("<I", blen)  # MI block
    more = tmp_path / "more.scap"
    more.write_bytes(plain.read_bytes() + trailing)
    assert last_event_ts(more) == last
    assert last_event_ts(CURL) is None  # gzip
    bad = tmp_path / "bad.scap"
    bad.write_bytes(plain.read_bytes()[:-3])
    with pytest.raises(FormatError):
        last_event_ts(bad)


# -- the progress line ----------------------------------------------------------------------------


def _big_capture(path: Path, rounds: int) -> None:
    """curl_google's events ``rounds`` times over, shifted in time (gzip)."""
    with CaptureReader(CURL) as r:
        evs = list(r)
        snap = r.snapshot
    span = evs[-1].ts - evs[0].ts + 1
    with ScapWriter(path, compress="gzip") as w:
        w.write_header(snap)
        for k in range(rounds):
            for ev in evs:
                w.write_event(struct.pack("<Q", ev.ts + k * span) + ev.data[8:], cpu=ev.cpu)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "big.scap"
    _big_capture(path, 10)  # 12210 lines: several output batches (4096 lines each)
    return path


def _spawn(args: list[str], stdout: int, stderr: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, TERM="xterm", TZ="UTC")
    return subprocess.Popen([sys.executable, "-m", "scapkit.cli", "read", *args],
                            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env)


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf


def _drain(fd: int, quiet: float = 0.5) -> bytes:
    """What the terminal shows until it has been ``quiet`` seconds, or closed."""
    buf = b""
    while True:
        ready, _, _ = select.select([fd], [], [], quiet)
        if not ready:
            return buf
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return buf
        if not chunk:
            return buf
        buf += chunk


def test_progress_shows_on_a_terminal_and_leaves_stdout_alone(big: Path) -> None:
    expected = subprocess.run([sys.executable, "-m", "scapkit.cli", "read", str(big)],
                              capture_output=True, env=dict(os.environ, TZ="UTC"), check=True)
    assert expected.stderr == b"" and len(expected.stdout.splitlines()) > 4096
    master, slave = pty.openpty()
    try:
        # stdout is a pipe nobody reads yet: the read blocks on its first batch of output,
        # long enough for the progress line to appear.
        proc = _spawn([str(big)], subprocess.PIPE, slave)
        os.close(slave)
        shown = _read_until(master, b"ev/s", timeout=30)
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.wait(timeout=60)
        shown += _drain(master)
    finally:
        os.close(master)
    assert proc.returncode == 0
    assert out == expected.stdout
    text = shown.decode()
    frames = [f for f in text.split("\r") if f]
    assert frames[0].startswith("scap read ") and " events " in frames[0]
    size = big.stat().st_size
    assert f"/{size / 1000:.1f} kB" in frames[0]  # bytes of the compressed file
    assert text.endswith("\r\x1b[K")  # erased at the end


def test_progress_and_output_on_one_terminal(big: Path) -> None:
    """With stdout on the terminal too, the line is erased before each batch of output:
    take the progress frames out and the output is intact."""
    expected = subprocess.run([sys.executable, "-m", "scapkit.cli", "read", str(big)],
                              capture_output=True, env=dict(os.environ, TZ="UTC"),
                              check=True).stdout
    master, slave = pty.openpty()
    tty.setraw(slave)
    try:
        proc = _spawn([str(big)], slave, slave)
        os.close(slave)
        # Once the first output arrived the read has started; not reading for a while then
        # blocks it on a batch of output long enough for the line to be due (however slow
        # the start was); it shows between that batch and the next.
        shown = _read_until(master, b"\n", timeout=60)
        time.sleep(1.5)
        shown += _drain(master, quiet=60)  # to the end: the terminal closes
        proc.wait(timeout=60)
    finally:
        os.close(master)
    assert b"ev/s" in shown
    cleaned = re.sub(rb"\r(scap read [^\r\n]*)?\x1b\[K", b"", shown)
    assert cleaned == expected


def test_no_progress_when_stderr_is_not_a_terminal(big: Path) -> None:
    proc = _spawn([str(big), "-q", "-S"], subprocess.PIPE, subprocess.PIPE)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and err == b"" and out.startswith(b"-" * 22)


def test_no_progress_when_asked(big: Path) -> None:
    master, slave = pty.openpty()
    try:
        proc = _spawn([str(big), "--no-progress"], subprocess.PIPE, slave)
        os.close(slave)
        time.sleep(1.0)  # blocked on stdout: the line would be up by now
        assert proc.stdout is not None
        proc.stdout.read()
        proc.wait(timeout=60)
        shown = _drain(master)
    finally:
        os.close(master)
    assert shown == b""


def test_progress_line_format() -> None:
    line = format_line(2_500_000, 10_000_000, 123_456, 50_000.4, 10.0, 100)
    assert line.startswith("scap read  25% ━") and "2.5/10.0 MB" in line
    assert "123,456 events  50,000 ev/s  ETA 0:30" in line and len(line) <= 99
    assert "━" not in format_line(1, 2, 3, 4.0, 1.0, 100, fancy=False)
    line = format_line(1_500, None, 10, 5.0, 75.0, 100)  # a pipe: no size
    assert line == "scap read  1.5 kB  10 events  5 ev/s  1:15"
    assert len(format_line(2_500_000, 10_000_000, 1, 1.0, 1.0, 30)) == 29


def test_progress_redraws_at_most_ten_times_a_second(tmp_path: Path) -> None:
    class Stream:
        def __init__(self) -> None:
            self.parts: list[str] = []

        def write(self, s: str) -> None:
            self.parts.append(s)

        def flush(self) -> None:
            pass

        def fileno(self) -> int:
            raise OSError

    f = tmp_path / "x"
    f.write_bytes(b"x" * 1000)
    with open(f, "rb") as raw:
        counted = CountingFile(raw, max_read=100)
        assert counted.size == 1000
        assert counted.read(1 << 20) == b"x" * 100 and counted.consumed == 100
        stream = Stream()
        p = ReadProgress(stream, counted, delay=0.0)  # type: ignore[arg-type]
        p.start(object())
        time.sleep(1.0)
        p.stop()
    draws = [s for s in stream.parts if s.startswith("\rscap read")]
    assert 3 <= len(draws) <= 12
    assert stream.parts[-1] == "\r\x1b[K"


# -- -r / --readfile, -n --------------------------------------------------------------------------


@pytest.mark.sysdig
def test_readfile_and_count_are_sysdigs(sysdig: str) -> None:
    for args in (["-n", "300", "evt.type=read"], ["-D", "-n", "20", "evt.type=open"]):
        expected = sysdig_out(sysdig, "--readfile", str(CURL), *args)
        assert scap("--readfile", str(CURL), *args) == expected
        assert scap("-r", str(CURL), *args) == expected


@pytest.mark.parametrize("n", ["0", "-3"])
def test_count_must_be_positive(n: str) -> None:
    res = runner.invoke(app, ["read", str(CURL), "-n", n])
    assert res.exit_code == 2 and "invalid event count" in res.stderr
