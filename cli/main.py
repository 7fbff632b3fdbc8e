"""The ``scap`` command: thin commands that call the library and map errors to exit codes."""

from __future__ import annotations

import json
import sys
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

#: The basic listing (the full sysdig default arrives with the field engine).
BASIC_FORMAT = "%evt.num %evt.rawtime %thread.tid %evt.dir %evt.type %evt.cpu"

CaptureArg = Annotated[str, typer.Argument(help="capture file (plain, gzip or zstd); - for stdin")]


def _fail(message: str, code: int) -> typer.Exit:
    print(f"scap: {message}", file=sys.stderr)
    return typer.Exit(code)


def _report_damage(path: str, damage: list[FormatError]) -> int:
    for d in damage:
        print(f"scap: {path}: {d.describe()}", file=sys.stderr)
    return exitcodes.BAD_CAPTURE if damage else exitcodes.OK


@app.command()
def read(
    file: CaptureArg,
    filter_words: Annotated[Optional[list[str]], typer.Argument(
        metavar="[FILTER]...", help="sysdig filter expression (the words are joined)")] = None,
    fmt: Annotated[str, typer.Option("-p", "--print", help="output format (%field tokens)")]
    = BASIC_FORMAT,
    count: Annotated[int, typer.Option("-n", "--numevents", help="stop after N events")] = 0,
    debug: Annotated[bool, typer.Option("-D", "--debug", help="also show internal events")]
    = False,
) -> None:
    """Print the events of a capture that match FILTER, one per line."""
    from scapkit.inspect.filter.compiler import compile_filter
    from scapkit.inspect.filter.errors import FilterError
    from scapkit.inspect.format import EventFormat, FormatSyntaxError
    from scapkit.scapfile.reader import CaptureReader

    from .visibility import hidden_by_default

    try:
        form = EventFormat(fmt)
    except FormatSyntaxError as exc:
        raise _fail(f"invalid format: {exc}", exitcodes.BAD_FILTER) from None
    text = " ".join(filter_words or [])
    try:
        accept = compile_filter(text) if text.strip() else None
    except FilterError as exc:
        raise _fail(exc.with_text(text).render(), exitcodes.BAD_FILTER) from None
    out = LineSink()
    try:
        reader = CaptureReader(file)
    except OSError as exc:
        raise _fail(f"{file}: {exc.strerror or exc}", exitcodes.RUNTIME_ERROR) from None
    except ScapError as exc:
        raise _fail(f"{file}: {exc}", exitcodes.BAD_CAPTURE) from None
    seen = 0
    try:
        with reader:
            for ev in reader.events():
                if accept is not None and not accept(ev):
                    continue
                seen += 1  # sysdig's -n counts the events that pass the filter
                if debug or not hidden_by_default(ev.type):
                    line = form.render(ev)
                    if line is not None:
                        out.write(line)
                        if out.closed:
                            break
                if count and seen >= count:
                    break
    except ScapError as exc:
        out.flush()
        raise _fail(f"{file}: {exc}", exitcodes.BAD_CAPTURE) from None
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

    try:
        s = summarize(file)
    except OSError as exc:
        raise _fail(f"{file}: {exc.strerror or exc}", exitcodes.RUNTIME_ERROR) from None
    except ScapError as exc:
        raise _fail(f"{file}: {exc}", exitcodes.BAD_CAPTURE) from None
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
    try:
        reader = do_convert(file, out, compress)  # type: ignore[arg-type]
    except OSError as exc:
        raise _fail(f"{exc.filename or file}: {exc.strerror or exc}",
                    exitcodes.RUNTIME_ERROR) from None
    except ScapError as exc:
        raise _fail(f"{file}: {exc}", exitcodes.BAD_CAPTURE) from None
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
