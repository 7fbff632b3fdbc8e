"""How a command ends: its exit status, and the one-line messages on stderr.

Plain Python (no typer), so that the commands' bodies run the same under typer and in
the fast path of :mod:`.main`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from scapkit.scapfile.errors import ScapError

from . import exitcodes
from .output import LineSink

if TYPE_CHECKING:
    from scapkit.scapfile.errors import FormatError


class CommandExit(Exception):
    """End the command with exit status ``code`` (any message is already printed)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def fail(message: str, code: int) -> CommandExit:
    """Print ``scap: message`` on stderr; the exception that ends the command with ``code``."""
    print(f"scap: {message}", file=sys.stderr)
    return CommandExit(code)


@contextmanager
def capture_errors(file: str, before_failing: Callable[[], None] | None = None
                   ) -> Iterator[None]:
    """Turn I/O and capture-format errors into one stderr line and their exit code."""
    try:
        yield
    except OSError as exc:
        if before_failing is not None:
            before_failing()
        raise fail(f"{exc.filename or file}: {exc.strerror or exc}",
                   exitcodes.RUNTIME_ERROR) from None
    except ScapError as exc:
        if before_failing is not None:
            before_failing()
        raise fail(f"{file}: {exc}", exitcodes.BAD_CAPTURE) from None


def report_damage(path: str, damage: list[FormatError]) -> int:
    """One stderr line per damage found; the exit status that says whether there was any."""
    for d in damage:
        print(f"scap: {path}: {d.describe()}", file=sys.stderr)
    return exitcodes.BAD_CAPTURE if damage else exitcodes.OK


def write_all(lines: Iterable[str]) -> None:
    """Write lines to stdout, stopping quietly when the reader closes the pipe."""
    out = LineSink()
    for line in lines:
        out.write(line)
        if out.closed:
            break
    out.flush()
