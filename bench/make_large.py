"""Build a large capture from the shared ones: their events replicated with shifted times.

    python bench/make_large.py OUT.scap [--events N] [--compress none|gzip|zstd]

The snapshot blocks of the first source are written once; then the events of all
sources are appended round after round, each round shifted forward in time (and
kept in timestamp order), until N events are written.
"""

from __future__ import annotations

import argparse
import struct
from pathlib import Path

from scapkit.scapfile.reader import CaptureReader
from scapkit.scapfile.writer import ScapWriter

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SOURCES = ["curl_google.scap", "single_ipv6_conn.scap", "test_ipv6_client.scap"]


def build(out: Path, n_events: int, compress: str = "none") -> int:
    rounds = []
    snap = None
    for name in SOURCES:
        r = CaptureReader(DATA / name)
        with r:
            evs = list(r.events())
        if snap is None:
            snap = r.snapshot
        rounds.append(evs)
    base = min(evs[0].ts for evs in rounds)
    span = max(evs[-1].ts for evs in rounds) - base + 1
    # Normalise every source to start at the same instant, then interleave by time.
    merged = sorted(
        ((ev.ts - evs[0].ts, ev) for evs in rounds for ev in evs), key=lambda p: p[0]
    )
    written = 0
    shift = 0
    with ScapWriter(out, compress=compress) as w:  # type: ignore[arg-type]
        w.write_header(snap)
        while written < n_events:
            for rel, ev in merged:
                ts = base + shift + rel
                data = struct.pack("<Q", ts) + ev.data[8:]
                w.write_event(data, cpu=ev.cpu)
                written += 1
                if written >= n_events:
                    break
            shift += span
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--compress", default="none", choices=["none", "gzip", "zstd"])
    a = ap.parse_args()
    n = build(a.out, a.events, a.compress)
    print(f"{a.out}: {n} events")


if __name__ == "__main__":
    main()
