"""Run a shell script inside a qemu VM booted from Debian's packaged kernel.

The host kernel here cannot load modules, so the kernel module is exercised in a guest:
qemu (TCG, q35) boots the uncompressed ``vmlinux`` extracted from ``/boot/vmlinuz-*``
(which skips in-guest decompression) with a small busybox-static initramfs. Its ``/init``
loads the virtio and 9p modules, mounts the host's ``/`` read-only over 9p, puts fresh
``proc``/``sys``/``dev``/``tmp`` mounts on top, mounts a writable 9p share of a host
scratch directory at ``/tmp/scratch`` and runs ``/tmp/scratch/guest.sh`` chrooted into the
host root, so the guest runs the host's Python and this project. The script's output and
exit status land in the scratch directory; the guest then powers off.

Everything built here (the extracted kernel, the initramfs) is cached per kernel version
in the scapkit cache directory. Nothing is installed: the packages come from the Makefile
(``linux-image-amd64 qemu-system-x86 busybox-static``).
"""

from __future__ import annotations

import hashlib
import lzma
import os
import re
import shutil
import stat
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["VmError", "GuestKernel", "VmResult", "find_guest_kernel", "vm_unavailable_reason",
           "run_in_vm", "kernel_headers_for"]

QEMU = "qemu-system-x86_64"
BUSYBOX = "/bin/busybox"
#: Modules the initramfs loads (with their dependencies first) to reach the 9p shares.
_BOOT_MODULES = ("virtio_pci", "9pnet_virtio", "9p")
#: Printed by /init when the guest script starts and when it is done.
START_MARK = "SCAPKIT-GUEST-START"
DONE_MARK = "SCAPKIT-GUEST-DONE"


class VmError(RuntimeError):
    """The VM could not be prepared, booted, or did not finish in time."""


@dataclass(frozen=True)
class GuestKernel:
    """A Debian kernel package's files: version string, compressed image, modules tree."""

    version: str
    vmlinuz: Path
    modules: Path


@dataclass
class VmResult:
    """What a guest run left: script exit status and output, console, timings (s)."""

    returncode: int
    output: str
    console: str
    boot_seconds: float
    total_seconds: float
    scratch: Path
    extra: dict[str, str] = field(default_factory=dict)


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v))


def find_guest_kernel() -> GuestKernel:
    """The newest ``/boot/vmlinuz-*`` that has its modules tree (found at run time: the
    Debian ABI suffix changes with updates)."""
    found = []
    for image in Path("/boot").glob("vmlinuz-*"):
        version = image.name[len("vmlinuz-"):]
        modules = Path("/lib/modules") / version
        if (modules / "modules.dep").exists():
            found.append(GuestKernel(version, image, modules))
    if not found:
        raise VmError("no guest kernel: /boot/vmlinuz-* with /lib/modules/<version> "
                      "(apt-get install linux-image-amd64)")
    return max(found, key=lambda k: _version_key(k.version))


def kernel_headers_for(version: str) -> Path | None:
    """The kbuild directory of ``version`` (Debian's linux-headers package), if present."""
    for d in (Path("/lib/modules") / version / "build",
              Path("/usr/src") / f"linux-headers-{version}"):
        if (d / "Makefile").exists():
            return d.resolve()
    return None


def vm_unavailable_reason() -> str | None:
    """Why a VM cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root (the 9p share of / must read every file)"
    if shutil.which(QEMU) is None:
        return f"{QEMU} not installed (apt-get install qemu-system-x86)"
    if not os.access(BUSYBOX, os.X_OK):
        return "busybox not installed (apt-get install busybox-static)"
    try:
        find_guest_kernel()
    except VmError as exc:
        return str(exc)
    return None


# -- building the boot files -----------------------------------------------------------------

_XZ_MAGIC = b"\xfd7zXZ\x00"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_GZIP_MAGIC = b"\x1f\x8b\x08"


def extract_vmlinux(vmlinuz: Path, dest: Path) -> None:
    """Write the ELF kernel compressed inside a bzImage (xz, zstd or gzip payload)."""
    blob = vmlinuz.read_bytes()
    for magic, unpack in ((_XZ_MAGIC, _unxz), (_ZSTD_MAGIC, _unzstd), (_GZIP_MAGIC, _ungzip)):
        start = blob.find(magic)
        while start >= 0:
            try:
                elf = unpack(blob[start:])
            except Exception:  # noqa: BLE001 - a false magic match: try the next one
                elf = b""
            if elf[:4] == b"\x7fELF":
                tmp = dest.with_suffix(".tmp")
                tmp.write_bytes(elf)
                os.replace(tmp, dest)
                return
            start = blob.find(magic, start + 1)
    raise VmError(f"{vmlinuz}: no compressed ELF kernel found inside")


def _unxz(data: bytes) -> bytes:
    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data)


def _unzstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def _ungzip(data: bytes) -> bytes:
    import zlib

    return zlib.decompressobj(31).decompress(data)


_INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.list); do insmod /mod/$m.ko || echo "init: insmod $m failed"; done
R=/newroot
mkdir -p $R
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot $R; then
    echo "init: cannot mount the host root"; poweroff -f
fi
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs shm $R/dev/shm
mount -t tmpfs tmp $R/tmp
mount -t tmpfs run $R/run
mount -t tracefs tracefs $R/sys/kernel/tracing 2>/dev/null
mount -t bpf bpf $R/sys/fs/bpf 2>/dev/null
mkdir -p $R/tmp/scratch
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 scratch $R/tmp/scratch; then
    echo "init: cannot mount the scratch share"; poweroff -f
fi
# Host directories the fresh /tmp and /run above hide but the script needs (a virtualenv or a
# checkout under /tmp): "tag path" lines, each share mounted read-only at the same path.
if [ -f $R/tmp/scratch/extra.list ]; then
    while read tag path; do
        mkdir -p "$R$path"
        mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose $tag "$R$path" \
            || echo "init: cannot mount $path"
    done < $R/tmp/scratch/extra.list
fi
hostname scapkit-vm
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
echo SCAPKIT-GUEST-START
chroot $R /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/sh /tmp/scratch/guest.sh > $R/tmp/scratch/guest.log 2>&1
echo $? > $R/tmp/scratch/guest.rc
dmesg > $R/tmp/scratch/dmesg.txt
sync
umount $R/tmp/scratch
echo SCAPKIT-GUEST-DONE
poweroff -f
"""


def _cpio_entry(name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0),
                ino: int = 0) -> bytes:
    """One cpio "newc" record."""
    bname = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(bname), 0)
    head = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = head + bname
    out += b"\0" * (-len(out) % 4)
    out += data + b"\0" * (-len(data) % 4)
    return out


def build_initramfs(kernel: GuestKernel, dest: Path) -> None:
    """Write the cpio initramfs: busybox, /init, the 9p/virtio modules and /dev/console."""
    deps = _module_paths(kernel)
    entries: list[bytes] = []
    ino = 1

    def add(name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> None:
        nonlocal ino
        entries.append(_cpio_entry(name, mode, data, rdev, ino))
        ino += 1

    for d in ("bin", "dev", "proc", "sys", "mod", "newroot"):
        add(d, stat.S_IFDIR | 0o755)
    add("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
    add("bin/busybox", stat.S_IFREG | 0o755, Path(BUSYBOX).read_bytes())
    add("init", stat.S_IFREG | 0o755, _INIT.encode())
    names = []
    for name, path in deps:
        add(f"mod/{name}.ko", stat.S_IFREG | 0o644, path.read_bytes())
        names.append(name)
    add("modules.list", stat.S_IFREG | 0o644, ("\n".join(names) + "\n").encode())
    blob = b"".join(entries) + _cpio_entry("TRAILER!!!", 0)
    tmp = dest.with_suffix(".tmp")
    tmp.write_bytes(blob)
    os.replace(tmp, dest)


def _module_paths(kernel: GuestKernel) -> list[tuple[str, Path]]:
    """The .ko files of :data:`_BOOT_MODULES` and their dependencies, in load order
    (dependencies first), from modules.dep. Uncompressed modules only: busybox insmod
    takes plain ELF objects."""
    table: dict[str, tuple[Path, list[str]]] = {}
    for line in (kernel.modules / "modules.dep").read_text().splitlines():
        rel, _, rest = line.partition(":")
        if rel.endswith(".ko"):
            table[_mod_name(rel)] = (kernel.modules / rel, [_mod_name(d) for d in rest.split()])
    order: list[tuple[str, Path]] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        path, needs = table[name]
        for dep in needs:
            visit(dep)
        order.append((name, path))

    missing = [n for n in _BOOT_MODULES if n not in table]
    if missing and not _builtin(kernel, set(missing)):
        raise VmError(f"kernel {kernel.version} lacks the modules {missing} (virtio, 9p)")
    for name in _BOOT_MODULES:
        if name in table:
            visit(name)
    return order


def _mod_name(rel: str) -> str:
    return os.path.basename(rel).split(".ko")[0]


def _builtin(kernel: GuestKernel, names: set[str]) -> bool:
    builtin = kernel.modules / "modules.builtin"
    if not builtin.exists():
        return False
    have = {_mod_name(x) for x in builtin.read_text().split()}
    return names <= have


def boot_files(kernel: GuestKernel, cache: Path) -> tuple[Path, Path]:
    """The extracted vmlinux and the initramfs for ``kernel``, built once into ``cache``."""
    st = kernel.vmlinuz.stat()
    key = hashlib.sha256(f"{kernel.version}:{st.st_size}:{st.st_mtime_ns}:{_INIT}:"
                         f"{_BOOT_MODULES}".encode()).hexdigest()[:16]
    d = cache / "vm" / f"{kernel.version}-{key}"
    if not d.exists():  # boot files of other kernels or of an older /init: not needed again
        for old in (cache / "vm").glob("*") if (cache / "vm").is_dir() else ():
            shutil.rmtree(old, ignore_errors=True)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    vmlinux, initrd = d / "vmlinux", d / "initramfs.cpio"
    if not vmlinux.exists():
        extract_vmlinux(kernel.vmlinuz, vmlinux)
    if not initrd.exists():
        build_initramfs(kernel, initrd)
    return vmlinux, initrd


def elf_section(path: Path, name: str) -> bytes | None:
    """The bytes of a section of a 64-bit little-endian ELF file (e.g. the guest kernel's
    ``.BTF``, which is what its /sys/kernel/btf/vmlinux serves), or None."""
    import struct

    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def header(i: int) -> tuple[int, int, int]:
        name_off, = struct.unpack_from("<I", data, shoff + i * shentsize)
        offset, size = struct.unpack_from("<QQ", data, shoff + i * shentsize + 24)
        return name_off, offset, size

    _, str_off, _ = header(shstrndx)
    for i in range(shnum):
        name_off, offset, size = header(i)
        end = data.index(b"\0", str_off + name_off)
        if data[str_off + name_off:end].decode() == name:
            return data[offset:offset + size]
    return None


# -- running ---------------------------------------------------------------------------------


#: Directories the guest mounts afresh, hiding what the host has below them.
_GUEST_FRESH_MOUNTS = tuple(Path(p) for p in ("/tmp", "/run", "/dev", "/proc", "/sys"))


def hidden_host_paths() -> list[Path]:
    """Host directories the guest needs (this interpreter's prefixes, this project) that lie
    under a directory the guest mounts afresh, outermost first; each is shared on its own."""
    import sys

    wanted = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix)}
    wanted.add(Path(__file__).resolve().parent.parent)
    hidden = sorted((p for p in wanted
                     if any(p == m or m in p.parents for m in _GUEST_FRESH_MOUNTS)),
                    key=lambda p: len(p.parts))
    result: list[Path] = []
    for p in hidden:
        if not any(q == p or q in p.parents for q in result):
            result.append(p)
    return result


def qemu_command(vmlinux: Path, initrd: Path, scratch: Path, smp: int = 2,
                 memory_mb: int = 2048, append: str = "",
                 extra: tuple[Path, ...] = ()) -> list[str]:
    """The qemu command line: q35, TCG, serial console on stdio, 9p shares of the host
    root, the scratch directory and the ``extra`` directories (tags extra0, extra1...)."""
    # norandmaps: no address-space randomisation, so two runs of a command touch the same
    # pages in the same order and record the same events
    cmdline = ("console=ttyS0 rdinit=/init panic=-1 loglevel=4 mitigations=off "
               "no_timer_check norandmaps " + append).strip()
    return [QEMU, "-machine", "q35", "-accel", "tcg", "-cpu", "max", "-smp", str(smp),
            "-m", str(memory_mb), "-nodefaults", "-no-user-config", "-display", "none",
            "-no-reboot", "-serial", "stdio",
            "-kernel", str(vmlinux), "-initrd", str(initrd), "-append", cmdline,
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,"
            "multidevs=remap",
            "-virtfs", f"local,path={scratch},mount_tag=scratch,security_model=none,"
            "multidevs=remap",
            *(arg for i, path in enumerate(extra)
              for arg in ("-virtfs", f"local,path={path},mount_tag=extra{i},"
                          "security_model=none,readonly=on,multidevs=remap"))]


def run_in_vm(script: str, scratch: Path, timeout: float = 600.0, *, smp: int = 2,
              memory_mb: int = 2048, cache: Path | None = None) -> VmResult:
    """Boot the guest, run ``script`` (sh) chrooted in the host root, power off.

    ``scratch`` (a host directory, shared writable at ``/tmp/scratch`` in the guest) gets
    ``guest.sh``, ``guest.log`` (the script's output), ``guest.rc`` and ``dmesg.txt``.
    qemu is killed after ``timeout`` seconds (VmError). Boot time is measured on the host
    from qemu's start to the guest's start mark on the console.
    """
    reason = vm_unavailable_reason()
    if reason:
        raise VmError(reason)
    if cache is None:
        from scapkit.scapfile.cext import cache_dir

        cache = cache_dir()
    kernel = find_guest_kernel()
    vmlinux, initrd = boot_files(kernel, cache)
    scratch.mkdir(parents=True, exist_ok=True)
    for name in ("guest.log", "guest.rc", "dmesg.txt"):
        (scratch / name).unlink(missing_ok=True)
    (scratch / "guest.sh").write_text(script)
    extra = tuple(hidden_host_paths())
    (scratch / "extra.list").write_text("".join(f"extra{i} {p}\n" for i, p in enumerate(extra)))
    cmd = qemu_command(vmlinux, initrd, scratch, smp, memory_mb, extra=extra)
    t0 = time.monotonic()
    marks: dict[str, float] = {}
    lines: list[str] = []
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)

    def pump() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            lines.append(line)
            for mark in (START_MARK, DONE_MARK):
                if mark in line and mark not in marks:
                    marks[mark] = time.monotonic() - t0

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        reader.join(5)
        raise VmError(f"the VM did not finish within {timeout:.0f} s; console tail:\n"
                      + "\n".join(lines[-30:])) from None
    reader.join(5)
    total = time.monotonic() - t0
    console = "\n".join(lines)
    rc_file = scratch / "guest.rc"
    if START_MARK not in marks or not rc_file.exists():
        raise VmError(f"the guest did not run the script (qemu exit {proc.returncode}); "
                      "console tail:\n" + "\n".join(lines[-30:]))
    log = scratch / "guest.log"
    return VmResult(returncode=int(rc_file.read_text().strip() or "255"),
                    output=log.read_text(errors="replace") if log.exists() else "",
                    console=console, boot_seconds=marks[START_MARK], total_seconds=total,
                    scratch=scratch)


def main() -> None:  # pragma: no cover - manual use: python -m scapkit.kmod.vm 'command'
    import sys
    import tempfile

    script = " ".join(sys.argv[1:]) or "uname -a; cat /proc/cpuinfo | grep -c processor"
    with tempfile.TemporaryDirectory(prefix="scapkit-vm-") as tmp:
        res = run_in_vm(script + "\n", Path(tmp))
        print(res.output, end="")
        print(f"[rc {res.returncode}, boot {res.boot_seconds:.1f} s, "
              f"total {res.total_seconds:.1f} s]", file=sys.stderr)
        raise SystemExit(res.returncode)


if __name__ == "__main__":  # pragma: no cover
    main()
