"""``scap read``: the events of a capture that match a filter, as ``sysdig -r`` prints them.

:class:`ReadOptions` holds the command line (its defaults are the typer command's, which
a test checks) and :func:`run` does the work, without typer: ``scap read FILE
[FILTER]...`` with no option is run from :mod:`.main` without loading typer at all.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import exitcodes
from .outcome import capture_errors, fail, report_damage, write_all
from .output import LineSink

if TYPE_CHECKING:
    from scapkit.inspect.timerange import TimeWindow

    from .progress import CountingFile, ReadProgress


@dataclass
class ReadOptions:
    """The options of ``scap read`` (see its ``--help``)."""

    file: str | None = None
    filter_words: list[str] | None = None
    read_file: str | None = None
    fmt: str | None = None
    as_json: bool = False
    count: int | None = None
    debug: bool = False
    verbose: bool = False
    ascii_: bool = False
    hex_: bool = False
    hexascii: bool = False
    base64_: bool = False
    timetype: str = "h"
    list_flds: bool = False
    list_evts: bool = False
    display_filter: bool = False
    summary: bool = False
    quiet: bool = False
    since: str | None = None
    until: str | None = None
    no_progress: bool = False


def plain_invocation(argv: list[str]) -> ReadOptions | None:
    """``read FILE [FILTER]...`` with no option (no word starting with ``-``): the options
    typer would parse from it; None for anything else."""
    if len(argv) < 2 or argv[0] != "read" or any(a.startswith("-") for a in argv[1:]):
        return None
    return ReadOptions(file=argv[1], filter_words=argv[2:] or None)


def run(o: ReadOptions) -> int:
    """Print the listing; the exit status (raises :class:`~.outcome.CommandExit`)."""
    from scapkit.inspect.filter.errors import FilterError
    from scapkit.inspect.format import DEFAULT_FORMAT, FormatSyntaxError, unescape
    from scapkit.inspect.listing import Listing, list_events, list_fields
    from scapkit.inspect.render import RenderOptions
    from scapkit.inspect.summary_table import EventSummary
    from scapkit.scapfile.reader import CaptureReader

    from .progress import progress_wanted

    if o.list_flds or o.list_evts:
        write_all(list_fields(o.verbose) if o.list_flds else list_events())
        return exitcodes.OK
    words = list(o.filter_words or [])
    file = o.file
    if o.read_file is not None:
        if file is not None:
            words.insert(0, file)
        file = o.read_file
    if file is None:
        raise fail("missing capture file (FILE or -r FILE)", exitcodes.USAGE_ERROR)
    buffer_format = "normal"
    chosen = [name for name, on in (("eols", o.ascii_), ("hex", o.hex_),
                                    ("hexascii", o.hexascii), ("base64", o.base64_)) if on]
    if len(chosen) > 1:
        raise fail("-A, -x, -X and -b are mutually exclusive", exitcodes.USAGE_ERROR)
    if chosen:
        buffer_format = chosen[0]
    if o.count is not None and o.count < 1:
        raise fail(f"invalid event count {o.count}: -n takes 1 or more", exitcodes.USAGE_ERROR)
    if o.timetype not in ("h", "a", "r", "d", "D"):
        raise fail(f"invalid -t value {o.timetype!r}: use h, a, r, d or D",
                   exitcodes.USAGE_ERROR)
    options = RenderOptions(buffer_format=buffer_format, max_len=0 if o.verbose else 80,
                            json=o.as_json, time_format=o.timetype)
    text = " ".join(words)
    try:
        listing = Listing(unescape(o.fmt) if o.fmt is not None else DEFAULT_FORMAT, text,
                          options, o.debug, o.count or 0, o.display_filter, o.quiet)
    except FormatSyntaxError as exc:
        raise fail(f"invalid format: {exc}", exitcodes.BAD_FILTER) from None
    except FilterError as exc:
        raise fail(exc.with_text(text).render(), exitcodes.BAD_FILTER) from None
    window = _time_window(file, o.since, o.until)
    show_progress = not o.no_progress and progress_wanted()
    with capture_errors(file):
        source, progress = _open_with_progress(file) if show_progress else (file, None)
        reader = CaptureReader(source)
    table = EventSummary() if o.summary else None
    out = LineSink()
    try:
        if progress is not None:
            if sys.stdout.isatty():
                out = LineSink(progress.stdout_proxy(sys.stdout))
            progress.start(reader)
        with capture_errors(file, before_failing=out.flush), reader:
            for line in listing.lines(reader, summary=table, window=window):
                out.write(line)
                if out.closed:
                    break
    finally:
        if progress is not None:
            progress.stop()
    if table is not None and not out.closed:
        for line in table.lines():
            out.write(line)
    out.flush()
    return report_damage(file, reader.damage)


def _time_window(file: str, since: str | None, until: str | None) -> TimeWindow | None:
    """The --since/--until window (None without either); exits 2 on a bad time."""
    if since is None and until is None:
        return None
    from scapkit.inspect.timerange import TimeSyntaxError, TimeWindow, parse_time
    from scapkit.scapfile.tail import last_event_ts

    try:
        window = TimeWindow(parse_time(since) if since is not None else None,
                            parse_time(until) if until is not None else None)
    except TimeSyntaxError as exc:
        raise fail(str(exc), exitcodes.USAGE_ERROR) from None
    if window.needs_last_event:
        last = None
        if file != "-":
            with capture_errors(file):
                last = last_event_ts(file)
        if last is None:
            raise fail(f"{file}: a time counted back from the last event (-DURATION) needs an "
                       "uncompressed capture file: the end of a gzip or zstd stream or of "
                       "stdin is only known after reading it all; use an absolute time or "
                       "+DURATION", exitcodes.USAGE_ERROR)
        window.last_ts = last
    return window


def _open_with_progress(file: str) -> tuple[CountingFile, ReadProgress]:
    """The capture opened through a byte counter, and the progress line that shows it."""
    from .progress import CountingFile, ReadProgress

    f = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115 - reader closes
    counted = CountingFile(f)
    return counted, ReadProgress(sys.stderr, counted)
