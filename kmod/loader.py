"""Loading and unloading scapkit.ko (``scap driver load`` / ``unload``).

The module is inserted with the finit_module(2) system call and removed with
delete_module(2), as insmod and rmmod do, so every failure comes back as an errno that
maps to one clear sentence (no module support, wrong kernel, not root, in use...).
Before inserting, the module's ``vermagic`` is compared with the running kernel.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
from pathlib import Path

from scapkit.scapfile.driver_api import DriverError, NoPrivilegeError, UnsupportedKernelError

from .build import built_module_for
from .device import MODULE_NAME, module_loaded, module_support

__all__ = ["load_module", "unload_module", "module_vermagic"]

#: (finit_module, delete_module) system call numbers per machine.
_SYSCALLS = {"x86_64": (313, 176), "aarch64": (273, 106)}
_O_NONBLOCK = os.O_NONBLOCK


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _syscall_numbers() -> tuple[int, int]:
    machine = platform.machine()
    if machine not in _SYSCALLS:
        raise UnsupportedKernelError(f"loading modules is not supported on {machine}")
    return _SYSCALLS[machine]


def module_vermagic(path: Path) -> str | None:
    """The ``vermagic`` string of a module file (its .modinfo), or None."""
    data = path.read_bytes()
    i = data.find(b"vermagic=")
    if i < 0:
        return None
    end = data.find(b"\0", i)
    return data[i + len("vermagic="):end].decode(errors="replace")


def _require_support() -> None:
    if not module_support():
        raise UnsupportedKernelError(
            "kernel has no module support (no /proc/modules: CONFIG_MODULES is off); "
            "the kernel-module driver cannot run here, use --driver ebpf")


def load_module(path: Path | None = None) -> Path:
    """Insert the module (default: the one built for the running kernel); return its path.
    Raises a DriverError subclass with the reason on failure."""
    _require_support()
    release = os.uname().release
    if path is None:
        path = built_module_for(release)
        if path is None:
            raise DriverError(f"no scapkit module built for the running kernel {release}: "
                              "run scap driver build first")
    path = Path(path)
    if not path.exists():
        raise DriverError(f"{path}: no such module file")
    magic = module_vermagic(path)
    if magic is None:
        raise DriverError(f"{path}: not a kernel module (no vermagic)")
    built_for = magic.split()[0]
    if built_for != release:
        raise UnsupportedKernelError(
            f"{path} was built for kernel {built_for}, the running kernel is {release}: "
            "rebuild it (scap driver build)")
    if module_loaded():
        raise DriverError("the scapkit module is already loaded (scap driver unload first)")
    finit, _ = _syscall_numbers()
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        libc = _libc()
        if libc.syscall(finit, fd, b"", 0) != 0:
            _raise_load_error(ctypes.get_errno(), path)
    finally:
        os.close(fd)
    return path


def _raise_load_error(err: int, path: Path) -> None:
    if err in (errno.EPERM, errno.EACCES):
        raise NoPrivilegeError(f"loading {path.name} needs root (CAP_SYS_MODULE), or module "
                               "loading is locked down (kernel.modules_disabled, lockdown)")
    if err == errno.EKEYREJECTED:
        raise DriverError(f"{path.name}: the kernel requires signed modules and this one is "
                          "not signed (module.sig_enforce or Secure Boot)")
    if err == errno.ENOEXEC:
        raise UnsupportedKernelError(f"{path.name}: invalid module format for this kernel "
                                     "(built for another kernel or configuration?)")
    if err == errno.EEXIST:
        raise DriverError("the scapkit module is already loaded")
    if err == errno.ENOENT:
        raise UnsupportedKernelError(f"{path.name}: the kernel lacks a tracepoint the module "
                                     "needs (see dmesg)")
    if err == errno.ENOSYS:
        raise UnsupportedKernelError("kernel has no module support (finit_module: ENOSYS)")
    raise DriverError(f"loading {path.name} failed: {os.strerror(err)} (see dmesg)")


def unload_module() -> None:
    """Remove the module; raises with the reason (not loaded, in use, not root)."""
    _require_support()
    if not module_loaded():
        raise DriverError("the scapkit module is not loaded")
    _, delete = _syscall_numbers()
    libc = _libc()
    if libc.syscall(delete, MODULE_NAME.encode(), _O_NONBLOCK) != 0:
        err = ctypes.get_errno()
        if err in (errno.EPERM, errno.EACCES):
            raise NoPrivilegeError("unloading the module needs root (CAP_SYS_MODULE)")
        if err in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK):
            raise DriverError("the scapkit module is in use (a recorder has /dev/scapkit "
                              "open): stop it first")
        if err == errno.ENOENT:
            raise DriverError("the scapkit module is not loaded")
        raise DriverError(f"unloading the module failed: {os.strerror(err)}")
