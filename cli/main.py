"""The ``scap`` command: thin commands that call the library and map errors to exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Optional

import typer

from scapkit.scapfile.errors import FormatError, ScapError

from . import exitcodes
from .output import LineSink

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
        "-r", "--read", help="capture file (instead of the first argument)")] = None,
    fmt: Annotated[Optional[str], typer.Option(
        "-p", "--print", help="output format (%field tokens; leading * prints events "
        "with missing fields)")] = None,
    as_json: Annotated[bool, typer.Option("-j", "--json", help="JSON lines, as sysdig -j")]
    = False,
    count: Annotated[int, typer.Option("-n", "--numevents", help="stop after N events")] = 0,
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
) -> None:
    """Print the events of a capture that match FILTER, one per line, as sysdig -r does."""
    from scapkit.inspect.filter.errors import FilterError
    from scapkit.inspect.format import DEFAULT_FORMAT, FormatSyntaxError, unescape
    from scapkit.inspect.listing import Listing, list_events, list_fields
    from scapkit.inspect.render import RenderOptions
    from scapkit.scapfile.reader import CaptureReader

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
    if timetype not in ("h", "a", "r", "d", "D"):
        raise _fail(f"invalid -t value {timetype!r}: use h, a, r, d or D",
                    exitcodes.USAGE_ERROR)
    options = RenderOptions(buffer_format=buffer_format, max_len=0 if verbose else 80,
                            json=as_json, time_format=timetype)
    text = " ".join(words)
    try:
        listing = Listing(unescape(fmt) if fmt is not None else DEFAULT_FORMAT, text, options,
                          debug, count)
    except FormatSyntaxError as exc:
        raise _fail(f"invalid format: {exc}", exitcodes.BAD_FILTER) from None
    except FilterError as exc:
        raise _fail(exc.with_text(text).render(), exitcodes.BAD_FILTER) from None
    with _capture_errors(file):
        reader = CaptureReader(file)
    out = LineSink()
    with _capture_errors(file, before_failing=out.flush), reader:
        for line in listing.lines(reader):
            out.write(line)
            if out.closed:
                break
    out.flush()
    raise typer.Exit(_report_damage(file, reader.damage))


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


def main() -> None:  # pragma: no cover - console entry point
    app()
