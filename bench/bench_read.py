"""Reading speed against sysdig: ``scap info`` (C scanner and pure Python) vs ``sysdig -S -q``.

    python bench/bench_read.py [--events N] [--runs N] [--rebuild] [--no-read]

Builds (once, cached in bench/out/) a capture of N events with make_large.py plus
gzip and zstd copies, then times, best of --runs runs, each command as a child
process: wall seconds, events/s, the ratio to sysdig reading the same file (sysdig
0.29.3 cannot read zstd: that row is compared with sysdig on the plain file), and
the child's peak RSS (from wait4's rusage). ``scap read`` vs ``sysdig -r`` is an
informative extra: the two print different line formats for now.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import zstandard

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
COPY_CHUNK = 1 << 20


@dataclass
class Timing:
    seconds: float
    rss_kb: int
    returncode: int


def run_once(cmd: list[str], env: dict[str, str], stdout: int | None) -> Timing:
    """One run of ``cmd``: wall time, peak RSS and exit status of that child alone."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped
    return Timing(elapsed, usage.ru_maxrss, proc.returncode)


def best_of(cmd: list[str], env: dict[str, str], runs: int) -> Timing:
    with open(os.devnull, "wb") as null:
        timings = [run_once(cmd, env, null.fileno()) for _ in range(runs)]
    best = min(timings, key=lambda t: t.seconds)
    return Timing(best.seconds, max(t.rss_kb for t in timings),
                  max(t.returncode for t in timings))


def scap_command() -> list[str]:
    """The ``scap`` entry point of this interpreter (not a pyenv shim: no extra process)."""
    exe = Path(sys.executable).parent / "scap"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("scap")
    if found:
        return [found]
    return [sys.executable, "-c", "from scapkit.cli.main import main; main()"]


def build_files(events: int, rebuild: bool) -> dict[str, Path]:
    """The plain capture (make_large.py) and its gzip and zstd copies, cached in OUT."""
    OUT.mkdir(exist_ok=True)
    plain = OUT / f"large-{events}.scap"
    files = {"plain": plain, "gzip": OUT / f"large-{events}.scap.gz",
             "zstd": OUT / f"large-{events}.scap.zst"}
    if rebuild:
        for p in files.values():
            p.unlink(missing_ok=True)
    if not plain.exists():
        sys.path.insert(0, str(HERE))
        import make_large

        print(f"building {plain} ({events} events) ...", file=sys.stderr, flush=True)
        tmp = plain.with_suffix(".tmp")
        n = make_large.build(tmp, events)
        if n != events:
            raise SystemExit(f"make_large wrote {n} events, not {events}")
        tmp.replace(plain)
    for kind in ("gzip", "zstd"):
        target = files[kind]
        if target.exists() and target.stat().st_mtime >= plain.stat().st_mtime:
            continue
        print(f"compressing {target} ...", file=sys.stderr, flush=True)
        tmp = target.with_suffix(".tmp")
        with open(plain, "rb") as src, open(tmp, "wb") as raw:
            if kind == "gzip":
                with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as dst:
                    shutil.copyfileobj(src, dst, COPY_CHUNK)
            else:
                zstandard.ZstdCompressor(level=3).copy_stream(src, raw)
        tmp.replace(target)
    return files


def check_results(scap: list[str], env: dict[str, str], path: Path, events: int) -> None:
    """Before timing: C and pure give the same JSON summary, with every event."""
    out = {}
    for label, extra in (("c", {}), ("pure", {"SCAPKIT_PURE": "1"})):
        p = subprocess.run(scap + ["info", "-j", str(path)], env={**env, **extra},
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"scap info -j {path} failed ({label}):\n{p.stderr}")
        out[label] = json.loads(p.stdout)
    if out["c"] != out["pure"]:
        raise SystemExit(f"C and pure summaries of {path} differ")
    if out["c"]["events"] != events:
        raise SystemExit(f"{path}: {out['c']['events']} events, expected {events}")


def c_scanner_status(env: dict[str, str]) -> str:
    code = ("from scapkit.scapfile import cscan; "
            "print('available' if cscan.available() else cscan.unavailable_reason())")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return (p.stdout.strip() or p.stderr.strip())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000, help="events in the capture")
    ap.add_argument("--runs", type=int, default=3, help="best of this many runs")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached captures")
    ap.add_argument("--no-read", action="store_true", help="skip the scap read row")
    a = ap.parse_args()

    sysdig = shutil.which("sysdig")
    if sysdig is None:
        print("bench_read: sysdig is not installed, nothing to compare against "
              "(apt-get install --no-install-recommends sysdig)", file=sys.stderr)
        return 0

    files = build_files(a.events, a.rebuild)
    env = {k: v for k, v in os.environ.items() if k != "SCAPKIT_PURE"}
    env["TZ"] = "UTC"
    pure_env = {**env, "SCAPKIT_PURE": "1"}
    scap = scap_command()
    status = c_scanner_status(env)  # also compiles the scanner before any timing
    check_results(scap, env, files["plain"], a.events)

    rows: list[tuple[str, str, Timing, Timing | None, str]] = []  # label, file, t, ref, note
    sysdig_times: dict[str, Timing] = {}
    for kind, path in files.items():
        sd = None
        if kind != "zstd":
            sd = best_of([sysdig, "-r", str(path), "-S", "-q"], env, a.runs)
            sysdig_times[kind] = sd
            rows.append(("sysdig -r FILE -S -q", kind, sd, sd, ""))
        ref = sd or sysdig_times["plain"]
        note = "" if sd else "ratio vs sysdig on plain (sysdig reads no zstd)"
        rows.append(("scap info FILE (C)", kind, best_of(scap + ["info", str(path)], env,
                                                          a.runs), ref, note))
        rows.append(("scap info FILE (pure)", kind,
                     best_of(scap + ["info", str(path)], pure_env, a.runs), ref, note))
    small = HERE.parent / "tests" / "data" / "single_ipv6_conn.scap"
    if small.exists():  # what every run pays before reading: interpreter, imports, output
        rows.append(("scap info SMALL (C)", "gzip", best_of(scap + ["info", str(small)], env,
                                                          a.runs), sysdig_times["plain"],
                     f"startup floor: {small.name} (1728 events), x vs sysdig plain"))
    if not a.no_read:
        path = files["plain"]
        sd = best_of([sysdig, "-r", str(path)], env, a.runs)
        rows.append(("sysdig -r FILE > /dev/null", "plain", sd, sd, "informative"))
        rows.append(("scap read FILE > /dev/null", "plain",
                     best_of(scap + ["read", str(path)], env, a.runs), sd,
                     "informative: different output format"))

    print(f"{a.events} events; best of {a.runs} runs; C scanner: {status}")
    for kind, path in files.items():
        print(f"  {kind}: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    head = f"{'command':28} {'file':6} {'seconds':>8} {'events/s':>12} {'x sysdig':>9} " \
           f"{'peak RSS':>9}  notes"
    print(head)
    print("-" * len(head))
    for label, kind, t, ref, note in rows:
        ratio = t.seconds / ref.seconds if ref else float("nan")
        bad = f" (exit {t.returncode})" if t.returncode not in (0,) else ""
        rate = "-" if "SMALL" in label else f"{a.events / t.seconds:,.0f}"
        print(f"{label:28} {kind:6} {t.seconds:8.3f} {rate:>12} "
              f"{ratio:9.2f} {t.rss_kb / 1024:7.1f}MB  {note}{bad}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
