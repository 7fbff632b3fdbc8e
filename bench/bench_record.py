"""Recording cost of the eBPF driver (root needed).

    python bench/bench_record.py [--count N] [--runs N] [--buffer-mb M] [--storm-seconds S]
                                 [--rates R,R,...] [--no-storm] [--compress none|gzip|zstd]

1. ``dd if=/dev/zero of=/dev/null bs=1 count=N`` (two syscalls, four events per byte): the
   same command untraced and recorded, alternating, --runs times. Recorded means the eBPF
   driver with full parameters writing a capture file (``scapkit.ebpf.capture``, each CPU's
   ring --buffer-mb MiB, 64 by default), and, when the CLI has it, ``scap record -- dd ...``
   (timed by /usr/bin/time inside the recording; the recorder's own buffers, --compress).
   Reported per run and as medians: wall seconds, dd's own CPU seconds (user + system from
   wait4: what the probe costs the traced process, whatever else the machine runs), their
   ratios to the untraced run next to it, the recorder's own CPU seconds while dd ran and
   its last events were read (for `scap record`: its whole process, start-up included),
   events, drops.
2. The highest event rate recorded without drops: a child makes getppid() calls paced to a
   target rate (two events per call) for --storm-seconds at each rate, then dd runs
   unpaced, alone and two at once (the most this machine produces); each stage is recorded
   to a file and its events/s (recorded + dropped) and drops are printed.
Results are also written as JSON to bench/out/bench_record.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PY = sys.executable

STORM = r"""
import os, sys, time
rate, seconds = float(sys.argv[1]), float(sys.argv[2])
calls_per_ms = max(1, int(rate / 2 / 1000))   # two events per getppid
getppid, clock = os.getppid, time.perf_counter
start = clock(); tick = start; n = 0
while tick - start < seconds:
    for _ in range(calls_per_ms):
        getppid()
    n += calls_per_ms
    tick += 0.001
    delay = tick - clock()
    if delay > 0:
        time.sleep(delay)
print(n)
"""


def dd_argv(count: int) -> list[str]:
    return ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", f"count={count}", "status=none"]


def untraced(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of argv."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvp(argv[0], argv)
    _, _, usage = os.wait4(pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def recorded(argv: list[str], path: Path, buffer_bytes: int = 64 << 20) -> dict:
    from scapkit.ebpf.capture import record_command

    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        rec = record_command(argv, path, buffer_bytes=buffer_bytes, stdout=devnull)
    finally:
        os.close(devnull)
    return {"wall": rec.elapsed, "cpu": rec.cpu_seconds, "reader_cpu": rec.reader_cpu_seconds,
            "events": rec.events, "drops": rec.stats.drops, "bytes": path.stat().st_size}


def scap_record(argv: list[str], path: Path, compress: str = "none") -> dict | None:
    """dd timed inside `scap record` (None when the CLI has no record command). ``scap_cpu``
    is the recorder process's own CPU time, its start-up (imports, probe load, /proc
    snapshot) included."""
    timer = shutil.which("time") or "/usr/bin/time"
    if not os.path.exists(timer):
        return None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = subprocess.run([PY, "-m", "scapkit.cli", "record", "-w", str(path), "-z", compress,
                          "--", timer, "-f", "@@ %e %U %S", *argv], capture_output=True,
                         text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        return None
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("@@ ")]
    if not line:
        return None
    wall, user, system = map(float, line[-1].split()[1:])
    children = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = res.stderr.strip().splitlines()[-1]
    return {"wall": wall, "cpu": user + system, "scap_cpu": children - user - system,
            "lost": "no events lost" not in summary, "summary": summary}


def bench_dd(count: int, runs: int, work: Path, buffer_bytes: int, compress: str) -> dict:
    argv = dd_argv(count)
    untraced(argv)  # warm the page cache and the probe's build
    rows = []
    for i in range(runs):
        base = untraced(argv)
        rec = recorded(argv, work / f"dd-{i}.scap", buffer_bytes)
        (work / f"dd-{i}.scap").unlink()
        cli = scap_record(argv, work / f"dd-cli-{i}.scap", compress)
        (work / f"dd-cli-{i}.scap").unlink(missing_ok=True)
        rows.append({"untraced_wall": base[0], "untraced_cpu": base[1], "recorded": rec,
                     "scap_record": cli})
        line = (f"run {i + 1}: untraced {base[0]:.3f} s (cpu {base[1]:.3f}), recorded "
                f"{rec['wall']:.3f} s (cpu {rec['cpu']:.3f}): wall {rec['wall'] / base[0]:.2f}x, "
                f"cpu {rec['cpu'] / base[1]:.2f}x, recorder cpu {rec['reader_cpu']:.3f} s, "
                f"{rec['events']} events, {rec['drops']} drops, {rec['bytes'] / 1e6:.1f} MB")
        if cli:
            line += (f"; scap record: {cli['wall']:.3f} s (cpu {cli['cpu']:.3f}), "
                     f"cpu {cli['cpu'] / base[1]:.2f}x, recorder process cpu "
                     f"{cli['scap_cpu']:.3f} s{', EVENTS LOST' if cli['lost'] else ''}")
        print(line, flush=True)
    med = {
        "wall_ratio": statistics.median(r["recorded"]["wall"] / r["untraced_wall"] for r in rows),
        "cpu_ratio": statistics.median(r["recorded"]["cpu"] / r["untraced_cpu"] for r in rows),
        "cpu_ratio_min": min(r["recorded"]["cpu"] / r["untraced_cpu"] for r in rows),
        "cpu_ratio_max": max(r["recorded"]["cpu"] / r["untraced_cpu"] for r in rows),
        "reader_cpu": statistics.median(r["recorded"]["reader_cpu"] for r in rows),
        "drops": sum(r["recorded"]["drops"] for r in rows),
    }
    cli_rows = [r for r in rows if r["scap_record"]]
    if cli_rows:
        med["scap_record_cpu_ratio"] = statistics.median(
            r["scap_record"]["cpu"] / r["untraced_cpu"] for r in cli_rows)
        med["scap_record_process_cpu"] = statistics.median(
            r["scap_record"]["scap_cpu"] for r in cli_rows)
        med["scap_record_lost_runs"] = sum(r["scap_record"]["lost"] for r in cli_rows)
    print(f"dd bs=1 count={count}: median ratio wall {med['wall_ratio']:.2f}x, dd cpu "
          f"{med['cpu_ratio']:.2f}x ({med['cpu_ratio_min']:.2f}-{med['cpu_ratio_max']:.2f}), "
          f"recorder cpu {med['reader_cpu']:.3f} s, drops {med['drops']}"
          + (f"; scap record dd cpu {med['scap_record_cpu_ratio']:.2f}x, its process cpu "
             f"{med['scap_record_process_cpu']:.3f} s, runs with losses "
             f"{med['scap_record_lost_runs']}" if "scap_record_cpu_ratio" in med else ""),
          flush=True)
    return {"runs": rows, "median": med}


def bench_storm(rates: list[float], seconds: float, count: int, work: Path,
                buffer_bytes: int) -> dict:
    """Paced getppid storms, then unpaced dd (one, then two at once): the rates the
    machine can produce at all, recorded."""
    rows = []
    best = 0.0
    stages = [(f"{rate / 1e6:.2f} M events/s paced", rate,
               [PY, "-S", "-c", STORM, str(rate), str(seconds)]) for rate in rates]
    dd = " ".join(dd_argv(count * 4))
    stages += [("one dd, unpaced", 0.0, ["sh", "-c", dd]),
               ("two dd at once, unpaced", 0.0, ["sh", "-c", f"{dd} & {dd}; wait"])]
    for label, rate, argv in stages:
        rec = recorded(argv, work / "storm.scap", buffer_bytes)
        achieved = (rec["events"] + rec["drops"]) / rec["wall"]
        rows.append({"stage": label, "target": rate, "achieved": achieved, **rec})
        print(f"storm, {label}: {rec['events']} events recorded in {rec['wall']:.2f} s "
              f"({achieved / 1e6:.2f} M events/s produced), {rec['drops']} drops, recorder "
              f"cpu {rec['reader_cpu']:.3f} s", flush=True)
        if rec["drops"] == 0:
            best = max(best, achieved)
    print(f"highest rate recorded without drops: {best / 1e6:.2f} M events/s", flush=True)
    return {"stages": rows, "best_without_drops": best}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--storm-seconds", type=float, default=2.0)
    parser.add_argument("--rates", default="250000,500000,1000000,2000000,3000000,4000000")
    parser.add_argument("--buffer-mb", type=int, default=64,
                        help="each CPU's ring, MiB (a 16 MiB ring can overflow while dd "
                        "outruns the file writer on a loaded machine)")
    parser.add_argument("--no-storm", action="store_true", help="only the dd ratios")
    parser.add_argument("--compress", default="none", choices=("none", "gzip", "zstd"),
                        help="compression of the `scap record` runs")
    args = parser.parse_args()
    from scapkit.ebpf.driver import unavailable_reason

    reason = unavailable_reason()
    if reason:
        print(f"bench_record: the eBPF driver cannot run here: {reason}", file=sys.stderr)
        return 1
    OUT.mkdir(exist_ok=True)
    buffer_bytes = args.buffer_mb << 20
    load_before = os.getloadavg()
    print(f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"{os.cpu_count()} CPUs, rings of {args.buffer_mb} MiB per CPU", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-record-") as tmp:
        work = Path(tmp)
        result = {"dd": bench_dd(args.count, args.runs, work, buffer_bytes, args.compress),
                  "loadavg_before": load_before, "cpus": os.cpu_count(),
                  "buffer_bytes": buffer_bytes}
        if not args.no_storm:
            result["storm"] = bench_storm([float(r) for r in args.rates.split(",")],
                                          args.storm_seconds, args.count, work, buffer_bytes)
        result["loadavg"] = os.getloadavg()
        print(f"load average after: {result['loadavg'][0]:.2f}", flush=True)
    (OUT / "bench_record.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
