"""The ``scap`` console command.

``scap read FILE [FILTER]...`` with no option, the commonest call, runs without typer:
there is nothing to parse, and importing typer costs more than reading a small capture.
Everything else goes to the typer application (:mod:`.app`), which runs the same
command body (:func:`.read_cmd.run`).
"""

from __future__ import annotations

import errno
import gc
import sys

from .outcome import CommandExit
from .read_cmd import ReadOptions, plain_invocation, run


def main() -> None:  # pragma: no cover - console entry point
    # Startup (imports, the snapshot's threads and fds) makes objects that live to the
    # end: collect young objects every 50,000 allocations, not 700 (cycles are still
    # collected; 2-3% of a read's time).
    gc.set_threshold(50_000, 20, 20)
    try:
        options = plain_invocation(sys.argv[1:])
        if options is None:
            from .app import app

            app()
        else:
            sys.exit(run_plain(options))
    finally:
        # The process ends: what it holds needs no collection (the interpreter's exit
        # would walk every object once more, some 10 ms).
        gc.freeze()


def run_plain(options: ReadOptions) -> int:
    """:func:`.read_cmd.run` ended as typer ends it: the command's status, 130 on ^C, 1
    when an output is a closed pipe."""
    try:
        return run(options)
    except CommandExit as exc:
        return exc.code
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        return 1
