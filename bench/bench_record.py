"""Recording cost of the eBPF driver (root needed).

    python bench/bench_record.py [--count N] [--runs N] [--storm-seconds S] [--rates R,R,...]

1. ``dd if=/dev/zero of=/dev/null bs=1 count=N`` (two syscalls, four events per byte): the
   same command untraced and recorded, alternating, --runs times. Recorded means the eBPF
   driver with full parameters writing a capture file (``scapkit.ebpf.capture``), and, when
   the CLI has it, ``scap record -- dd ...`` (timed by /usr/bin/time inside the recording).
   Reported per run and as medians: wall seconds, dd's own CPU seconds (user + system from
   wait4: what the probe costs the traced process, whatever else the machine runs), their
   ratios to the untraced run next to it, events, drops.
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


def recorded(argv: list[str], path: Path, buffer_bytes: int = 16 << 20) -> dict:
    from scapkit.ebpf.capture import record_command

    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        rec = record_command(argv, path, buffer_bytes=buffer_bytes, stdout=devnull)
    finally:
        os.close(devnull)
    return {"wall": rec.elapsed, "cpu": rec.cpu_seconds, "events": rec.events,
            "drops": rec.stats.drops, "bytes": path.stat().st_size}


def scap_record(argv: list[str], path: Path) -> dict | None:
    """dd timed inside `scap record` (None when the CLI has no record command)."""
    timer = shutil.which("time") or "/usr/bin/time"
    if not os.path.exists(timer):
        return None
    res = subprocess.run([PY, "-m", "scapkit.cli", "record", "-w", str(path), "--",
                          timer, "-f", "@@ %e %U %S", *argv], capture_output=True, text=True)
    if res.returncode != 0:
        return None
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("@@ ")]
    if not line:
        return None
    wall, user, system = map(float, line[-1].split()[1:])
    return {"wall": wall, "cpu": user + system, "summary": res.stderr.strip().splitlines()[-1]}


def bench_dd(count: int, runs: int, work: Path) -> dict:
    argv = dd_argv(count)
    untraced(argv)  # warm the page cache and the probe's build
    rows = []
    for i in range(runs):
        base = untraced(argv)
        rec = recorded(argv, work / f"dd-{i}.scap")
        cli = scap_record(argv, work / f"dd-cli-{i}.scap")
        rows.append({"untraced_wall": base[0], "untraced_cpu": base[1], "recorded": rec,
                     "scap_record": cli})
        line = (f"run {i + 1}: untraced {base[0]:.3f} s (cpu {base[1]:.3f}), recorded "
                f"{rec['wall']:.3f} s (cpu {rec['cpu']:.3f}): wall {rec['wall'] / base[0]:.2f}x, "
                f"cpu {rec['cpu'] / base[1]:.2f}x, {rec['events']} events, "
                f"{rec['drops']} drops, {rec['bytes'] / 1e6:.1f} MB")
        if cli:
            line += (f"; scap record: {cli['wall']:.3f} s (cpu {cli['cpu']:.3f}), "
                     f"cpu {cli['cpu'] / base[1]:.2f}x")
        print(line, flush=True)
    med = {
        "wall_ratio": statistics.median(r["recorded"]["wall"] / r["untraced_wall"] for r in rows),
        "cpu_ratio": statistics.median(r["recorded"]["cpu"] / r["untraced_cpu"] for r in rows),
        "drops": sum(r["recorded"]["drops"] for r in rows),
    }
    cli_rows = [r for r in rows if r["scap_record"]]
    if cli_rows:
        med["scap_record_cpu_ratio"] = statistics.median(
            r["scap_record"]["cpu"] / r["untraced_cpu"] for r in cli_rows)
    print(f"dd bs=1 count={count}: median ratio wall {med['wall_ratio']:.2f}x, dd cpu "
          f"{med['cpu_ratio']:.2f}x, drops {med['drops']}"
          + (f"; scap record dd cpu {med['scap_record_cpu_ratio']:.2f}x"
             if "scap_record_cpu_ratio" in med else ""), flush=True)
    return {"runs": rows, "median": med}


def bench_storm(rates: list[float], seconds: float, count: int, work: Path) -> dict:
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
        rec = recorded(argv, work / "storm.scap")
        achieved = (rec["events"] + rec["drops"]) / rec["wall"]
        rows.append({"stage": label, "target": rate, "achieved": achieved, **rec})
        print(f"storm, {label}: {rec['events']} events recorded in {rec['wall']:.2f} s "
              f"({achieved / 1e6:.2f} M events/s produced), {rec['drops']} drops", flush=True)
        if rec["drops"] == 0:
            best = max(best, achieved)
    print(f"highest rate recorded without drops: {best / 1e6:.2f} M events/s", flush=True)
    return {"stages": rows, "best_without_drops": best}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--storm-seconds", type=float, default=2.0)
    parser.add_argument("--rates", default="250000,500000,1000000,2000000")
    args = parser.parse_args()
    from scapkit.ebpf.driver import unavailable_reason

    reason = unavailable_reason()
    if reason:
        print(f"bench_record: the eBPF driver cannot run here: {reason}", file=sys.stderr)
        return 1
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-record-") as tmp:
        work = Path(tmp)
        result = {"dd": bench_dd(args.count, args.runs, work),
                  "storm": bench_storm([float(r) for r in args.rates.split(",")],
                                       args.storm_seconds, args.count, work),
                  "loadavg": os.getloadavg(), "cpus": os.cpu_count()}
    (OUT / "bench_record.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
