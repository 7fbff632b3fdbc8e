"""The ``scap`` commands under typer: thin commands that call the library and map errors
to exit codes (``scap read FILE [FILTER]`` alone skips typer: see :mod:`.main`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Optional

import typer

from .fastargs import install as _install_plain_coercion

from . import driver_cmd, exitcodes, read_cmd, record_cmd
from .outcome import CommandExit, capture_errors, fail, report_damage
from .output import LineSink

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
    fail(message, code)
    return typer.Exit(code)


@contextmanager
def _typer_exit() -> Iterator[None]:
    """A command body's :class:`~.outcome.CommandExit` as typer's exit."""
    try:
        yield
    except CommandExit as exc:
        raise typer.Exit(exc.code) from None


@contextmanager
def _capture_errors(file: str) -> Iterator[None]:
    """:func:`~.outcome.capture_errors`, ending the command through typer."""
    with _typer_exit(), capture_errors(file):
        yield


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
    options = read_cmd.ReadOptions(
        file=file, filter_words=filter_words, read_file=read_file, fmt=fmt, as_json=as_json,
        count=count, debug=debug, verbose=verbose, ascii_=ascii_, hex_=hex_,
        hexascii=hexascii, base64_=base64_, timetype=timetype, list_flds=list_flds,
        list_evts=list_evts, display_filter=display_filter, summary=summary, quiet=quiet,
        since=since, until=until, no_progress=no_progress)
    with _typer_exit():
        code = read_cmd.run(options)
    raise typer.Exit(code)


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
    raise typer.Exit(report_damage(file, reader.damage))


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
