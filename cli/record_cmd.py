"""``scap record``: record syscalls with a driver into a capture file, as ``sysdig -w``.

Only typer is imported here; the recorder and the driver are imported when the
command runs (``scap`` starts fast, and works while a driver is missing).
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any, Callable, Optional

import typer
from typer.core import TyperCommand

from . import exitcodes

#: --driver NAME -> (module, class).
DRIVERS = {"ebpf": ("scapkit.ebpf.driver", "EbpfDriver"),
           "kmod": ("scapkit.kmod.driver", "KmodDriver")}
_COMMAND_KEY = "scap.record.command"


class RecordCommand(TyperCommand):
    """Everything after the first ``--`` is the command to run, never FILTER words."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if "--" in args:
            i = args.index("--")
            ctx.meta[_COMMAND_KEY] = args[i + 1:]
            args = args[:i]
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        return ["[OPTIONS]", "-w FILE", "[FILTER]...", "[-- COMMAND [ARGS]...]"]


def _fail(message: str, code: int) -> int:
    print(f"scap: {message}", file=sys.stderr)
    return code


def load_driver(name: str) -> Any:
    """A new driver of kind ``name``; ImportError (saying why) when it cannot be loaded."""
    module_name, class_name = DRIVERS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise ImportError(f"{name} ({module_name} is not installed)") from None
        raise ImportError(f"{name} ({exc})") from None
    except ImportError as exc:
        raise ImportError(f"{name} ({exc})") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ImportError(f"{name} ({module_name} has no {class_name})")
    return cls()


def record(
    ctx: typer.Context,
    filter_words: Annotated[Optional[list[str]], typer.Argument(
        metavar="FILTER",
        help="sysdig filter expression (the words are joined): only matching events are "
        "written. After --, a command to run and record with its descendants")] = None,
    write: Annotated[Optional[str], typer.Option(
        "-w", "--write", metavar="FILE", help="capture file to write (mode 0600)")] = None,
    snaplen: Annotated[int, typer.Option(
        "-s", "--snaplen", help="bytes of each I/O buffer to capture")] = 80,
    compress: Annotated[str, typer.Option(
        "--compress", "-z", help="none, gzip or zstd")] = "none",
    file_size: Annotated[int, typer.Option(
        "-C", "--file-size", metavar="MB", help="start a new file (FILE0, FILE1...) once "
        "the current one is over MB million bytes")] = 0,
    seconds: Annotated[int, typer.Option(
        "-G", "--seconds", metavar="SECONDS", help="start a new file every SECONDS; FILE "
        "may hold strftime(3) fields (%Y-%m-%d_%H%M%S), else a counter is appended")] = 0,
    limit: Annotated[int, typer.Option(
        "-W", "--limit", metavar="COUNT", help="with -C: a ring of COUNT files; with -G: "
        "keep the COUNT newest files")] = 0,
    numevents: Annotated[int, typer.Option(
        "-n", "--numevents", metavar="EVENTS", help="stop after EVENTS events")] = 0,
    duration: Annotated[int, typer.Option(
        "-M", "--duration", metavar="SECONDS", help="stop after SECONDS")] = 0,
    driver: Annotated[str, typer.Option(
        "--driver", help="ebpf (default) or kmod")] = "ebpf",
) -> None:
    """Record system calls into a capture file, system-wide until Ctrl-C, or those of
    COMMAND and its descendants until it exits (then exit with its status)."""
    command = ctx.meta.get(_COMMAND_KEY)
    code = run_record(write=write, filter_words=filter_words or [], command=command,
                      snaplen=snaplen, compress=compress, file_size=file_size,
                      seconds=seconds, limit=limit, numevents=numevents, duration=duration,
                      driver=driver)
    raise typer.Exit(code)


def run_record(*, write: str | None, filter_words: list[str], command: list[str] | None,
               snaplen: int = 80, compress: str = "none", file_size: int = 0,
               seconds: int = 0, limit: int = 0, numevents: int = 0, duration: int = 0,
               driver: str = "ebpf", make_driver: Callable[[], Any] | None = None) -> int:
    """The command's work: the exit code, after one-line messages on stderr.

    ``make_driver`` replaces the driver named by ``driver`` (tests feed a recorded one).
    """
    if write is None:
        return _fail("missing output file (-w FILE)", exitcodes.USAGE_ERROR)
    if command is not None and not command:
        return _fail("missing command after --", exitcodes.USAGE_ERROR)
    if driver not in DRIVERS:
        return _fail(f"unknown driver {driver!r}: choose ebpf or kmod", exitcodes.USAGE_ERROR)

    from scapkit.inspect.filter.errors import FilterError
    from scapkit.scapfile.driver_api import DriverError
    from scapkit.scapfile.recorder import CommandError, Recorder, RecordOptions

    text = " ".join(filter_words)
    try:
        options = RecordOptions(path=write, snaplen=snaplen,
                                compress=compress,  # type: ignore[arg-type]
                                file_size_mb=file_size, rotate_seconds=seconds,
                                file_limit=limit, max_events=numevents, max_seconds=duration,
                                filter_text=text)
    except ValueError as exc:
        return _fail(str(exc), exitcodes.USAGE_ERROR)
    try:
        recorder = Recorder(None, options)  # type: ignore[arg-type]
    except FilterError as exc:
        return _fail(exc.with_text(text).render(), exitcodes.BAD_FILTER)
    try:
        recorder.driver = make_driver() if make_driver is not None else load_driver(driver)
    except ImportError as exc:
        return _fail(f"driver not available: {exc}", exitcodes.RUNTIME_ERROR)
    try:
        result = recorder.run(command)
    except CommandError as exc:
        print(f"scap: {exc.strerror}", file=sys.stderr)
        _print_summary(recorder.result)
        return 127 if exc.errno == 2 else 126
    except DriverError as exc:
        return _fail(f"{driver} driver: {exc}", exitcodes.RUNTIME_ERROR)
    except OSError as exc:
        where = exc.filename or write
        return _fail(f"{where}: {exc.strerror or exc}", exitcodes.RUNTIME_ERROR)
    _print_summary(result)
    if result.exit_status is not None:
        return result.exit_status
    return exitcodes.OK


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)  # pragma: no cover


def _print_summary(r: Any) -> None:
    """One line on stderr: events, bytes, drops, duration, where."""
    files = r.files[0] if len(r.files) == 1 else f"{len(r.files)} files ({r.files[0]} ... " \
        f"{r.files[-1]})" if r.files else "no file"
    lost = "no events lost" if not r.drops else \
        f"{r.drops} EVENTS LOST by the driver (drop reports are in the capture)"
    extra = f", {r.filtered_out} filtered out" if r.filtered_out else ""
    print(f"scap: recorded {r.events} events ({_size(r.bytes)}) in {r.duration:.2f} s to "
          f"{files}{extra}; {lost}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    """Add ``record`` to the ``scap`` command."""
    app.command("record", cls=RecordCommand)(record)
