"""The ``scap`` command: thin commands that call the library and map errors to exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from scapkit.scapfile.errors import FormatError, ScapError

from .fastargs import install as _install_plain_coercion

from . import driver_cmd, exitcodes, record_cmd
from .output import LineSink

if TYPE_CHECKING:
    from scapkit.inspect.timerange import TimeWindow

    from .progress import CountingFile, ReadProgress

_install_plain_coercion()  # typer without pydantic for plain str/int parameters
app = typer.Typer(
    name="scap",
    help="Syscall forensics: read, convert and inspect sysdig/Falco .scap captures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CaptureArg = Annotated[str, typer.Argument(help="capture file (plain, gzip or zstd); - for stdin")]


def _fail(message: str, code: int) -> typer.Exit:
    print(f"scap: {message}", file=sys.stderr)
    return typer.Exit(code)


@contextmanager
def _capture_errors(file: str, before_failing: Callable[[], None] | None = None
                    ) -> Iterator[None]:
    """Turn I/O and capture-format errors into one stderr line and their exit code."""
    try:
        yield
    except OSError as exc:
        if before_failing is not None:
            before_failing()
        raise _fail(f"{exc.filename or file}: {exc.strerror or exc}",
                    exitcodes.RUNTIME_ERROR) from None
    except ScapError as exc:
        if before_failing is not None:
            before_failing()
        raise _fail(f"{file}: {exc}", exitcodes.BAD_CAPTURE) from None


def _report_damage(path: str, damage: list[FormatError]) -> int:
    for d in damage:
        print(f"scap: {path}: {d.describe()}", file=sys.stderr)
    return exitcodes.BAD_CAPTURE if damage else exitcodes.OK


def _write_all(lines) -> None:  # type: ignore[no-untyped-def]
    out = LineSink()
    for line in lines:
        out.write(line)
        if out.closed:
            break
    out.flush()


@app.command()
def read(
    file: Annotated[Optional[str], typer.Argument(
        metavar="[FILE]", help="capture file (plain, gzip or zstd); - for stdin")] = None,
    filter_words: Annotated[Optional[list[str]], typer.Argument(
        metavar="[FILTER]...", help="sysdig filter expression (the words are joined)")] = None,
    read_file: Annotated[Optional[str], typer.Option(
        "-r", "--read", "--readfile", help="capture file (instead of the first argument)")
    ] = None,
    fmt: Annotated[Optional[str], typer.Option(
        "-p", "--print", help="output format (%field tokens; leading * prints events "
        "with missing fields)")] = None,
    as_json: Annotated[bool, typer.Option("-j", "--json", help="JSON lines, as sysdig -j")]
    = False,
    count: Annotated[Optional[int], typer.Option("-n", "--numevents", metavar="N",
                                                 help="stop after N events")] = None,
    debug: Annotated[bool, typer.Option("-D", "--debug", help="also show internal events")]
    = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="do not cut long buffers "
                                          "to 80 characters")] = False,
    ascii_: Annotated[bool, typer.Option("-A", "--print-ascii", help="buffers: printable "
                                         "characters and line ends only")] = False,
    hex_: Annotated[bool, typer.Option("-x", "--print-hex", help="buffers in hex")] = False,
    hexascii: Annotated[bool, typer.Option("-X", "--print-hex-ascii", help="buffers in hex "
                                           "and ASCII")] = False,
    base64_: Annotated[bool, typer.Option("-b", "--print-base64", help="buffers in base64")]
    = False,
    timetype: Annotated[str, typer.Option("-t", "--timetype", help="evt.outputtime: h "
                                          "(time of day), a (absolute), r (relative to the "
                                          "first event), d (latency), D (delta)")] = "h",
    list_flds: Annotated[bool, typer.Option("-l", "--list", help="list the fields and exit")]
    = False,
    list_evts: Annotated[bool, typer.Option("-L", "--list-events", help="list the events "
                                            "and exit")] = False,
    display_filter: Annotated[bool, typer.Option(
        "-d", "--displayflt", help="apply FILTER only to what is printed, after every event "
        "updated the state")] = False,
    summary: Annotated[bool, typer.Option(
        "-S", "--summary", help="at the end, print the calls per event type")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="print no events")] = False,
    since: Annotated[Optional[str], typer.Option(
        "--since", metavar="TIME", help="only events at or after TIME: 'YYYY-MM-DD "
        "HH:MM:SS[.frac]' (UTC unless +HH:MM/Z given), epoch ns, +5s after the first event, "
        "-10s before the last (uncompressed files)")] = None,
    until: Annotated[Optional[str], typer.Option(
        "--until", metavar="TIME", help="only events before TIME (same forms as --since); "
        "reading stops there")] = None,
    no_progress: Annotated[bool, typer.Option(
        "--no-progress", help="no progress line on stderr (shown only when it is a "
        "terminal)")] = False,
) -> None:
    """Print the events of a capture that match FILTER, one per line, as sysdig -r does."""
    from scapkit.inspect.filter.errors import FilterError
    from scapkit.inspect.format import DEFAULT_FORMAT, FormatSyntaxError, unescape
    from scapkit.inspect.listing import Listing, list_events, list_fields
    from scapkit.inspect.render import RenderOptions
    from scapkit.inspect.summary_table import EventSummary
    from scapkit.scapfile.reader import CaptureReader

    from .progress import progress_wanted

    if list_flds or list_evts:
        _write_all(list_fields(verbose) if list_flds else list_events())
        raise typer.Exit(exitcodes.OK)
    words = list(filter_words or [])
    if read_file is not None:
        if file is not None:
            words.insert(0, file)
        file = read_file
    if file is None:
        raise _fail("missing capture file (FILE or -r FILE)", exitcodes.USAGE_ERROR)
    buffer_format = "normal"
    chosen = [name for name, on in (("eols", ascii_), ("hex", hex_), ("hexascii", hexascii),
                                    ("base64", base64_)) if on]
    if len(chosen) > 1:
        raise _fail("-A, -x, -X and -b are mutually exclusive", exitcodes.USAGE_ERROR)
    if chosen:
        buffer_format = chosen[0]
    if count is not None and count < 1:
        raise _fail(f"invalid event count {count}: -n takes 1 or more", exitcodes.USAGE_ERROR)
    if timetype not in ("h", "a", "r", "d", "D"):
        raise _fail(f"invalid -t value {timetype!r}: use h, a, r, d or D",
                    exitcodes.USAGE_ERROR)
    options = RenderOptions(buffer_format=buffer_format, max_len=0 if verbose else 80,
                            json=as_json, time_format=timetype)
    text = " ".join(words)
    try:
        listing = Listing(unescape(fmt) if fmt is not None else DEFAULT_FORMAT, text, options,
                          debug, count or 0, display_filter, quiet)
    except FormatSyntaxError as exc:
        raise _fail(f"invalid format: {exc}", exitcodes.BAD_FILTER) from None
    except FilterError as exc:
        raise _fail(exc.with_text(text).render(), exitcodes.BAD_FILTER) from None
    window = _time_window(file, since, until)
    show_progress = not no_progress and progress_wanted()
    with _capture_errors(file):
        source, progress = _open_with_progress(file) if show_progress else (file, None)
        reader = CaptureReader(source)
    table = EventSummary() if summary else None
    out = LineSink()
    try:
        if progress is not None:
            if sys.stdout.isatty():
                out = LineSink(progress.stdout_proxy(sys.stdout))
            progress.start(reader)
        with _capture_errors(file, before_failing=out.flush), reader:
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
    raise typer.Exit(_report_damage(file, reader.damage))


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
        raise _fail(str(exc), exitcodes.USAGE_ERROR) from None
    if window.needs_last_event:
        last = None
        if file != "-":
            with _capture_errors(file):
                last = last_event_ts(file)
        if last is None:
            raise _fail(f"{file}: a time counted back from the last event (-DURATION) needs an "
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


@app.command()
def info(
    file: CaptureArg,
    as_json: Annotated[bool, typer.Option("-j", "--json", help="JSON output")] = False,
) -> None:
    """Summarise a capture: header, machine, time span, event counts, blocks, damage."""
    from scapkit.scapfile.summary import summarize

    from .info_view import print_summary

    with _capture_errors(file):
        s = summarize(file)
    if as_json:
        print(json.dumps(s.to_json(), indent=2))
    else:
        print_summary(s)
    for d in s.damage:
        print(f"scap: {file}: {d}", file=sys.stderr)
    raise typer.Exit(exitcodes.BAD_CAPTURE if s.damage else exitcodes.OK)


@app.command()
def convert(
    file: CaptureArg,
    out: Annotated[str, typer.Option("-w", "--write", help="output capture file")],
    compress: Annotated[str, typer.Option("--compress", "-z", help="none, gzip or zstd")]
    = "none",
) -> None:
    """Rewrite a capture in the current layout, optionally compressed (file mode 0600)."""
    from scapkit.scapfile.convert import convert as do_convert

    if compress not in ("none", "gzip", "zstd"):
        raise _fail(f"unknown compression {compress!r}: choose none, gzip or zstd",
                    exitcodes.USAGE_ERROR)
    with _capture_errors(file):
        reader = do_convert(file, out, compress)  # type: ignore[arg-type]
    raise typer.Exit(_report_damage(file, reader.damage))


@app.command()
def events(
    name: Annotated[Optional[str], typer.Argument(help="only events with this name")] = None,
) -> None:
    """List the event table: code, direction, name, category, parameters."""
    from scapkit.scapfile.event_table import EVENTS

    out = LineSink()
    for e in EVENTS:
        if name and e.name != name:
            continue
        params = ", ".join(f"{p.type.name} {p.name}" for p in e.params)
        out.write(f"{e.code:4d} {e.direction} {e.name}({params})")
    out.flush()


record_cmd.register(app)
driver_cmd.register(app)


def main() -> None:  # pragma: no cover - console entry point
    try:
        app()
    finally:
        # The process ends: what it holds needs no collection (the interpreter's exit
        # would walk every object once more, some 10 ms).
        import gc

        gc.freeze()
