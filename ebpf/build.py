"""Build the eBPF probe object and its cffi loader on first use, into the scapkit cache.

Both are keyed by a hash of their sources (and, for the loader, the Python version), built
under a file lock and installed by atomic rename, like ``scapfile.cscan``:

* ``vmlinux-<btf hash>.h`` - ``bpftool btf dump file /sys/kernel/btf/vmlinux format c``;
* ``probe-<hash>.bpf.o``   - ``clang -target bpf -D__TARGET_ARCH_x86 -O2 -g`` of probe.bpf.c
  (CO-RE: the object relocates itself on any kernel with BTF);
* ``_scapkit_ebpf_<hash>`` - the cffi API-mode extension of loader.c, linked with libbpf.

``python -m scapkit.ebpf.build`` (``make ebpf``) builds both ahead of time and prints their
paths. Failures raise :class:`BuildError` with the tool's message.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.machinery
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..scapfile.cext import cache_dir, load_extension

HERE = Path(__file__).resolve().parent
SHARED = HERE / "shared"
PROBE_SOURCE = HERE / "probe.bpf.c"
LOADER_SOURCE = HERE / "loader.c"
BTF_PATH = Path("/sys/kernel/btf/vmlinux")
APT_HINT = "apt-get install clang llvm libbpf-dev bpftool"


class BuildError(RuntimeError):
    """The probe or its loader could not be built; the message says why."""


def probe_sources() -> list[Path]:
    """Every file the probe object is compiled from."""
    return [PROBE_SOURCE, HERE / "probe_cfg.h", *sorted(SHARED.glob("*.h"))]


def _hash(parts: list[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def _workdir() -> Path:
    d = cache_dir() / "ebpf"
    d.mkdir(mode=0o700, exist_ok=True)
    return d


@contextmanager
def _locked(d: Path, name: str) -> Iterator[None]:
    with open(d / f"{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; the others wait
        yield


def _tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}")
                                  else None)
    if path is None:
        raise BuildError(f"{name} not found, needed to build the eBPF probe ({APT_HINT})")
    return path


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess[bytes]:
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"{what} failed: {exc}") from None
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip() or f"exit status {proc.returncode}"
        raise BuildError(f"{what} failed: {message[-2000:]}")
    return proc


def vmlinux_header() -> Path:
    """vmlinux.h of the running kernel (generated once per kernel BTF)."""
    if not BTF_PATH.exists():
        raise BuildError(f"{BTF_PATH} is missing: this kernel exposes no BTF")
    key = _hash([BTF_PATH.read_bytes()])
    d = _workdir()
    target = d / f"vmlinux-{key}.h"
    if target.exists():
        return target
    bpftool = _tool("bpftool")
    with _locked(d, "vmlinux"):
        if target.exists():
            return target
        proc = _run([bpftool, "btf", "dump", "file", str(BTF_PATH), "format", "c"],
                    "bpftool btf dump")
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(proc.stdout)
        os.replace(tmp, target)
    return target


def probe_object() -> Path:
    """The compiled probe (built if needed)."""
    vmlinux = vmlinux_header()
    key = _hash([p.read_bytes() for p in probe_sources()] + [vmlinux.name.encode()])
    d = _workdir()
    target = d / f"probe-{key}.bpf.o"
    if target.exists():
        return target
    clang = _tool("clang")
    with _locked(d, "probe"):
        if target.exists():
            return target
        with tempfile.TemporaryDirectory(dir=d, prefix="build-") as tmp:
            inc = Path(tmp) / "include"
            inc.mkdir()
            (inc / "vmlinux.h").symlink_to(vmlinux)
            out = Path(tmp) / "probe.bpf.o"
            _run([clang, "-target", "bpf", "-D__TARGET_ARCH_x86", "-O2", "-g", "-Wall",
                  "-Wno-unused-function", "-Werror=switch", f"-I{inc}", f"-I{HERE}",
                  "-c", str(PROBE_SOURCE), "-o", str(out)], "compiling the eBPF probe")
            os.chmod(out, 0o600)
            os.replace(out, target)
    return target


_BUILDER = r"""
import sys, cffi
name, src, cdef, tmpdir, incdir = sys.argv[1:6]
ffi = cffi.FFI()
ffi.cdef(open(cdef).read())
ffi.set_source(name, open(src).read(), include_dirs=[incdir], libraries=["bpf"],
               extra_compile_args=["-O2", "-fno-strict-aliasing"])
print(ffi.compile(tmpdir=tmpdir, verbose=False))
"""


def _cdef(source: str) -> str:
    begin = source.index("/* --- cdef begin")
    begin = source.index("\n", begin) + 1
    return source[begin:source.index("/* --- cdef end")]


def loader_module() -> Any:
    """The cffi extension of loader.c (built if needed), with ``.ffi`` and ``.lib``."""
    if sys.byteorder != "little":
        raise BuildError("the eBPF loader assumes a little-endian host")
    source = LOADER_SOURCE.read_text()
    key = _hash([source.encode(), (HERE / "probe_cfg.h").read_bytes(), sys.version.encode()])
    name = f"_scapkit_ebpf_{key}"
    d = _workdir()
    target = d / (name + importlib.machinery.EXTENSION_SUFFIXES[0])
    if not target.exists():
        if not Path("/usr/include/bpf/libbpf.h").exists():
            raise BuildError(f"libbpf headers not found, needed by the eBPF loader ({APT_HINT})")
        with _locked(d, "loader"), tempfile.TemporaryDirectory(dir=d, prefix="build-") as tmp:
            if not target.exists():
                src = Path(tmp) / "loader_src.c"
                src.write_text(source)
                cdef = Path(tmp) / "loader.cdef"
                cdef.write_text(_cdef(source))
                proc = _run([sys.executable, "-c", _BUILDER, name, str(src), str(cdef), tmp,
                             str(HERE)], "building the eBPF loader")
                built = proc.stdout.decode().strip().splitlines()[-1]
                os.chmod(built, 0o700)
                os.replace(built, target)
    return load_extension(name, target)


def main() -> int:
    try:
        obj = probe_object()
        mod = loader_module()
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"probe:  {obj}")
    print(f"loader: {mod.__file__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
