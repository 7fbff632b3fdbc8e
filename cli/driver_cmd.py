"""``scap driver``: build, load and unload the kernel module, and show its state.

Thin commands over :mod:`scapkit.kmod.build` and :mod:`scapkit.kmod.loader`; every
failure is one ``scap: ...`` line on stderr and exit code 1.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import exitcodes

driver_app = typer.Typer(
    name="driver", help="Build, load and unload the kernel-module driver (scapkit.ko).",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def _fail(message: str) -> typer.Exit:
    print(f"scap: {message}", file=sys.stderr)
    return typer.Exit(exitcodes.RUNTIME_ERROR)


@driver_app.command()
def build(
    kdir: Annotated[Optional[Path], typer.Option(
        "--kdir", metavar="DIR", help="kernel build tree (default: the running kernel's, "
        "/lib/modules/$(uname -r)/build)")] = None,
    force: Annotated[bool, typer.Option("--force", help="rebuild even if built")] = False,
) -> None:
    """Build scapkit.ko against a kernel's headers; print the module's path."""
    from scapkit.kmod.build import BuildError, build_module

    try:
        built = build_module(kdir, force=force)
    except BuildError as exc:
        raise _fail(str(exc)) from None
    print(built.path)
    print(f"scap: built for kernel {built.kernel_release}", file=sys.stderr)


@driver_app.command()
def load(
    module: Annotated[Optional[Path], typer.Option(
        "--module", metavar="FILE", help="module file (default: the one scap driver build "
        "made for the running kernel)")] = None,
) -> None:
    """Load the module (insmod); /dev/scapkit appears."""
    from scapkit.kmod.loader import load_module
    from scapkit.scapfile.driver_api import DriverError

    try:
        path = load_module(module)
    except DriverError as exc:
        raise _fail(str(exc)) from None
    print(f"scap: loaded {path}", file=sys.stderr)


@driver_app.command()
def unload() -> None:
    """Unload the module (rmmod)."""
    from scapkit.kmod.loader import unload_module
    from scapkit.scapfile.driver_api import DriverError

    try:
        unload_module()
    except DriverError as exc:
        raise _fail(str(exc)) from None
    print("scap: unloaded scapkit", file=sys.stderr)


@driver_app.command()
def status() -> None:
    """Show whether this kernel can load the module, and its build and load state."""
    from scapkit.kmod.build import built_module_for, default_kdir
    from scapkit.kmod.device import DEVICE, module_loaded, module_support

    release = os.uname().release
    kdir = default_kdir(release)
    built = built_module_for(release)
    print(f"kernel: {release}")
    print(f"module support: {'yes' if module_support() else 'no (CONFIG_MODULES is off)'}")
    print(f"headers: {kdir if (kdir / 'Makefile').exists() else 'missing'}")
    print(f"built module: {built or 'none'}")
    print(f"loaded: {'yes' if module_loaded() else 'no'}")
    print(f"device: {DEVICE if DEVICE.exists() else 'missing'}")


def register(app: typer.Typer) -> None:
    """Add ``scap driver`` to the main application."""
    app.add_typer(driver_app, name="driver")
