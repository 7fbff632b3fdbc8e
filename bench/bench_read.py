"""Reading speed against sysdig: ``scap info`` and ``scap read`` vs ``sysdig``.

    python bench/bench_read.py [--events N] [--larger N] [--runs N] [--rebuild] [--no-read]
                               [--read-only]

Builds (once, cached in bench/out/) a capture of N events with make_large.py plus
gzip and zstd copies, then times each command as a child process, best of --runs runs,
sysdig and scap alternating so that both see the same machine load: wall seconds, CPU
seconds (user + system, from wait4's rusage), events/s, the ratios to sysdig on the same
file and in the same run, and the child's peak RSS.

``scap info`` (C scanner and pure Python) is compared with ``sysdig -r FILE -S -q``
(sysdig 0.29.3 cannot read zstd: that row is compared with sysdig on the plain file).
``scap read`` is compared with ``sysdig -r`` for the default output, ``-j`` and two
filters, after checking that both print the same bytes, on the capture of N events and
on a larger one (``--larger``, 5M events by default; 0 skips it); from the two sizes,
the work per event (the time one more million events takes, startup left out) is
compared too. It also runs on a capture a tenth of the size, to show that its memory
does not grow with the file, and on a small capture (the cost of starting). The
children run without
``PYTHONDONTWRITEBYTECODE`` (as an installed package, they use compiled bytecode; one
run beforehand writes it).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
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
    cpu: float = 0.0


def run_once(cmd: list[str], env: dict[str, str], stdout: int | None) -> Timing:
    """One run of ``cmd``: wall time, CPU time, peak RSS and exit status of that child."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped
    return Timing(elapsed, usage.ru_maxrss, proc.returncode, usage.ru_utime + usage.ru_stime)


def _best(timings: list[Timing]) -> Timing:
    return Timing(min(t.seconds for t in timings), max(t.rss_kb for t in timings),
                  max(t.returncode for t in timings), min(t.cpu for t in timings))


def best_of(cmd: list[str], env: dict[str, str], runs: int) -> Timing:
    with open(os.devnull, "wb") as null:
        return _best([run_once(cmd, env, null.fileno()) for _ in range(runs)])


def best_of_pair(a: tuple[list[str], dict[str, str]], b: tuple[list[str], dict[str, str]],
                 runs: int) -> tuple[Timing, Timing]:
    """Best of ``runs`` for two commands run in turn (both see the same load)."""
    ta: list[Timing] = []
    tb: list[Timing] = []
    with open(os.devnull, "wb") as null:
        for _ in range(runs):
            ta.append(run_once(a[0], a[1], null.fileno()))
            tb.append(run_once(b[0], b[1], null.fileno()))
    return _best(ta), _best(tb)


def same_output(a: tuple[list[str], dict[str, str]], b: tuple[list[str], dict[str, str]]
                ) -> bool:
    """Do both commands print the same bytes? (compared by digest, not kept)"""
    digests = []
    for cmd, env in (a, b):
        h = hashlib.sha256()
        with subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL) as proc:
            assert proc.stdout is not None
            for chunk in iter(lambda: proc.stdout.read(COPY_CHUNK), b""):  # type: ignore[union-attr]
                h.update(chunk)
        digests.append(h.digest())
    return digests[0] == digests[1]


def scap_command() -> list[str]:
    """The ``scap`` entry point of this interpreter (not a pyenv shim: no extra process)."""
    exe = Path(sys.executable).parent / "scap"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("scap")
    if found:
        return [found]
    return [sys.executable, "-c", "from scapkit.cli.main import main; main()"]


def build_files(events: int, rebuild: bool, compressed: bool = True) -> dict[str, Path]:
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
    if not compressed:
        return {"plain": plain}
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


#: ``scap read`` vs ``sysdig -r``: label, options (before the file), filter (after it).
READS = [
    ("read FILE", [], []),
    ("read -j FILE", ["-j"], []),
    ("read FILE evt.type=connect", [], ["evt.type=connect"]),
    ("read FILE proc.name=curl", [], ["proc.name=curl"]),
]


Row = tuple[str, str, Timing, "Timing | None", str, int]  # label, file, time, ref, note, events


def compare_reads(scap: list[str], sysdig: str, env: dict[str, str],
                  scap_env: dict[str, str], plain: Path, runs: int, events: int,
                  tag: str = "") -> list[Row]:
    """READS on one capture: a sysdig row and a scap row each (scap's ratio to sysdig)."""
    rows: list[Row] = []
    for label, options, filt in READS:
        sd = ([sysdig, *options, "-r", str(plain), *filt], env)
        sc = (scap + ["read", *options, str(plain), *filt], scap_env)
        note = "same output" if same_output(sd, sc) else "OUTPUT DIFFERS"
        t_sd, t_sc = best_of_pair(sd, sc, runs)
        rows.append((f"sysdig {label}{tag}", "plain", t_sd, t_sd, "", events))
        rows.append((f"scap {label}{tag}", "plain", t_sc, t_sd, note, events))
    return rows


def read_rows(scap: list[str], sysdig: str, env: dict[str, str], scap_env: dict[str, str],
              files: dict[str, Path], tenth: Path, runs: int, events: int) -> list[Row]:
    rows = compare_reads(scap, sysdig, env, scap_env, files["plain"], runs, events)
    t = best_of(scap + ["read", str(tenth)], scap_env, runs)
    rows.append(("scap read FILE/10", "plain", t, None,
                 f"{events // 10} events: peak RSS vs the full file", events // 10))
    small = HERE.parent / "tests" / "data" / "single_ipv6_conn.scap"
    if small.exists():
        t_sd, t_sc = best_of_pair(([sysdig, "-r", str(small)], env),
                                  (scap + ["read", str(small)], scap_env), runs)
        rows.append(("sysdig read SMALL", "gzip", t_sd, t_sd, f"startup: {small.name}", 0))
        rows.append(("scap read SMALL", "gzip", t_sc, t_sd, "startup", 0))
    return rows


def per_event_rows(small: list[Row], large: list[Row], extra: int) -> list[str]:
    """The time ``extra`` more events take (the larger capture's less the smaller's):
    startup left out, the work per event of scap against sysdig's."""
    out = []
    by_label = {r[0]: r for r in small}
    for label, _, t, _, _, _ in large:
        tag = label.rsplit(" [", 1)[0]
        base = by_label.get(tag)
        if base is None or not label.startswith("scap "):
            continue
        sd_small = by_label["sysdig " + tag[len("scap "):]][2]
        sd_large = next(r[2] for r in large if r[0] == "sysdig " + label[len("scap "):])
        scale = 1e6 / extra
        d_sc = (t.seconds - base[2].seconds) * scale
        d_sd = (sd_large.seconds - sd_small.seconds) * scale
        c_sc = (t.cpu - base[2].cpu) * scale
        c_sd = (sd_large.cpu - sd_small.cpu) * scale
        out.append(f"{tag:34} {d_sc:8.3f} {d_sd:8.3f} {d_sc / d_sd:8.2f} {c_sc:8.3f} "
                   f"{c_sd:8.3f} {c_sc / c_sd:8.2f}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000, help="events in the capture")
    ap.add_argument("--larger", type=int, default=5_000_000,
                    help="events in the larger capture of the read rows (0: none)")
    ap.add_argument("--runs", type=int, default=3, help="best of this many runs")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached captures")
    ap.add_argument("--no-read", action="store_true", help="skip the scap read rows")
    ap.add_argument("--read-only", action="store_true", help="only the scap read rows")
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
    # As installed, scap runs from compiled bytecode (pip writes it): allow writing it.
    scap_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    scap = scap_command()
    status = c_scanner_status(env)  # also compiles the scanner before any timing
    rows: list[Row] = []
    per_event: list[str] = []
    if not a.read_only:
        check_results(scap, env, files["plain"], a.events)
        sysdig_times: dict[str, Timing] = {}
        for kind, path in files.items():
            sd = None
            if kind != "zstd":
                sd = best_of([sysdig, "-r", str(path), "-S", "-q"], env, a.runs)
                sysdig_times[kind] = sd
                rows.append(("sysdig -r FILE -S -q", kind, sd, sd, "", a.events))
            ref = sd or sysdig_times["plain"]
            note = "" if sd else "ratio vs sysdig on plain (sysdig reads no zstd)"
            rows.append(("scap info FILE (C)", kind, best_of(scap + ["info", str(path)], env,
                                                              a.runs), ref, note, a.events))
            rows.append(("scap info FILE (pure)", kind,
                         best_of(scap + ["info", str(path)], pure_env, a.runs), ref, note,
                         a.events))
        small = HERE.parent / "tests" / "data" / "single_ipv6_conn.scap"
        if small.exists():  # what every run pays before reading: interpreter, imports, output
            rows.append(("scap info SMALL (C)", "gzip", best_of(scap + ["info", str(small)],
                                                              env, a.runs),
                         sysdig_times["plain"],
                         f"startup floor: {small.name} (1728 events), x vs sysdig plain", 0))
    if not a.no_read:
        tenth = build_files(a.events // 10, False)["plain"]
        subprocess.run(scap + ["read", "-n", "1", str(tenth)], env=scap_env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # bytecode, C build
        small_rows = read_rows(scap, sysdig, env, scap_env, files, tenth, a.runs, a.events)
        rows += small_rows
        if a.larger > a.events:
            large = build_files(a.larger, a.rebuild, compressed=False)["plain"]
            tag = f" [{a.larger / 1e6:g}M]"
            large_rows = compare_reads(scap, sysdig, env, scap_env, large, a.runs, a.larger,
                                       tag)
            rows += large_rows
            per_event = per_event_rows(small_rows, large_rows, a.larger - a.events)

    print(f"{a.events} events; best of {a.runs} runs; C scanner: {status}; "
          f"C read engine: {c_read_engine_status(env)}")
    for kind, path in files.items():
        print(f"  {kind}: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    head = (f"{'command':40} {'file':6} {'seconds':>8} {'x sysdig':>9} {'cpu s':>7} "
            f"{'x sysdig':>9} {'events/s':>12} {'peak RSS':>9}  notes")
    print(head)
    print("-" * len(head))
    for label, kind, t, ref, note, events in rows:
        ratio = t.seconds / ref.seconds if ref else float("nan")
        cpu_ratio = t.cpu / ref.cpu if ref and ref.cpu else float("nan")
        bad = f" (exit {t.returncode})" if t.returncode not in (0,) else ""
        rate = "-" if "SMALL" in label or "/10" in label else f"{events / t.seconds:,.0f}"
        print(f"{label:40} {kind:6} {t.seconds:8.3f} {ratio:9.2f} {t.cpu:7.3f} "
              f"{cpu_ratio:9.2f} {rate:>12} {t.rss_kb / 1024:7.1f}MB  {note}{bad}")
    if per_event:
        print()
        print(f"per million more events ({a.events} -> {a.larger}; startup left out):")
        head = (f"{'command':34} {'scap s':>8} {'sysdig s':>8} {'x sysdig':>8} {'scap cpu':>8} "
                f"{'sd cpu':>8} {'x sysdig':>8}")
        print(head)
        print("-" * len(head))
        for line in per_event:
            print(line)
    return 0


def c_read_engine_status(env: dict[str, str]) -> str:
    code = ("from scapkit.inspect import fastread; "
            "print('available' if fastread.available() else fastread.unavailable_reason())")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return (p.stdout.strip() or p.stderr.strip())


if __name__ == "__main__":
    sys.exit(main())
