"""The drivers' generated header is current, and the declarations it comes from are right:
routing to sysdig 0.29.3 event layouts, kernel constants (checked against the system's kernel
headers), converters, and a C implementation for every named special."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scapkit.ebpf import gen_headers
from scapkit.scapfile import driver_table as dt
from scapkit.scapfile.event_table import SYSDIG_029_NUM_EVENTS, sysdig_029_event_info
from scapkit.scapfile.flag_tables import TABLES
from scapkit.scapfile.syscall_names import SYSCALL_INFO, SYSCALL_NAMES

SHARED = Path(gen_headers.__file__).with_name("shared")
UNISTD = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")


def test_committed_header_is_current() -> None:
    assert gen_headers.HEADER_PATH.read_text() == gen_headers.generate(), \
        "run: python -m scapkit.ebpf.gen_headers"
    assert gen_headers.main(["--check"]) == 0


def test_check_mode_reports_a_stale_header(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    stale = tmp_path / "stale.h"
    stale.write_text("/* old */\n")
    assert gen_headers.main(["--check", "--output", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err


def test_every_syscall_uses_a_sysdig_029_layout() -> None:
    for sc in dt.SYSCALLS_X86_64:
        for ev in (sc.enter, sc.exit):
            old = sysdig_029_event_info(ev.info.code)
            assert old is not None and ev.info.code < SYSDIG_029_NUM_EVENTS
            assert len(ev.sources) == len(old.params), (sc.name, old.symbol)
        assert sc.exit.info.code == sc.enter.info.code + 1
        # sysdig 0.29.3 indexes its syscall table with the code unchecked
        assert 0 <= sc.sc < len(SYSCALL_INFO)
        if sc.sc:
            assert SYSCALL_NAMES[sc.sc] == sc.name
    assert dt.SYSCALL_TABLE_SIZE == dt.SYSCALLS_X86_64[-1].nr + 1


def test_full_parameter_coverage() -> None:
    """The syscalls that must be recorded with their own event, not the generic one."""
    full = {sc.name for sc in dt.SYSCALLS_X86_64 if not sc.generic}
    wanted = """clone clone3 fork vfork execve execveat open openat openat2 creat close read write
        pread64 pwrite64 readv writev unlink unlinkat rename renameat renameat2 mkdir mkdirat
        rmdir symlink symlinkat link linkat chmod fchmod fchmodat chdir fchdir dup dup2 dup3
        fcntl pipe pipe2 mmap mprotect socket socketpair connect accept accept4 bind listen
        sendto recvfrom sendmsg recvmsg shutdown setuid setgid setresuid setresgid ptrace kill
        mount umount2 bpf unshare setns""".split()
    assert set(wanted) <= full, sorted(set(wanted) - full)
    # no event of sysdig 0.29.3 exists for these: they are generic events
    for name in ("chown", "fchown", "lchown", "fchownat", "memfd_create", "capset",
                 "init_module", "finit_module"):
        sc = dt.syscall_by_name(name)
        assert sc is not None and sc.generic, name


def test_syscall_numbers_match_the_kernel_headers() -> None:
    if not UNISTD.exists():
        pytest.skip(f"{UNISTD} not installed")
    declared = {sc.nr: sc.name for sc in dt.SYSCALLS_X86_64}
    found = {int(nr): name for name, nr in
             re.findall(r"#define __NR_(\w+) (\d+)", UNISTD.read_text())}
    assert found and all(declared.get(nr) == name for nr, name in found.items())


def test_converters() -> None:
    ff = dt.CONVERTERS["file_flags"]
    ppm = dict(TABLES["file_flags"])
    # O_RDWR | O_CREAT | O_CLOEXEC
    assert ff.convert(0o2 | 0o100 | 0o2000000) == ppm["O_RDWR"] | ppm["O_CREAT"] | ppm["O_CLOEXEC"]
    assert ff.convert(0) == ppm["O_RDONLY"]
    # O_DIRECTORY alone is not O_TMPFILE; O_DSYNC alone is not O_SYNC
    assert ff.convert(0o200000) == ppm["O_RDONLY"] | ppm["O_DIRECTORY"]
    assert ff.convert(0o10000) == ppm["O_RDONLY"] | ppm["O_DSYNC"]
    cmds = dt.CONVERTERS["fcntl_commands"]
    assert cmds.convert(1030) == dict(TABLES["fcntl_commands"])["F_DUPFD_CLOEXEC"]
    assert cmds.convert(12345) == dict(TABLES["fcntl_commands"])["UNKNOWN"]
    # every flag parameter sourced from an argument has a converter
    for sc in dt.SYSCALLS_X86_64:
        for ev in (sc.enter, sc.exit):
            for src, p in zip(ev.sources, ev.info.params):
                if src.kind == "value" and src.operands[0].kind == "arg" \
                        and isinstance(p.info, str):
                    assert p.info in dt.CONVERTERS, (sc.name, p.name)


_CHECK_C = """
#include <stdio.h>
#include <linux/fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/mman.h>
#include <linux/ptrace.h>
#include <linux/resource.h>
int main(void) {
%s
    return 0;
}
"""


def test_kernel_constants_match_the_kernel_headers(tmp_path: Path) -> None:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None or not Path("/usr/include/linux/openat2.h").exists():
        pytest.skip("needs a C compiler and the kernel's uapi headers")
    names = {name: kval for conv in dt.CONVERTERS.values() for name, kval, _m, _p in conv.entries}
    lines = "\n".join(f'    printf("%s %lld\\n", "{n}", (long long)({n}));' for n in names)
    src = tmp_path / "consts.c"
    src.write_text(_CHECK_C % lines)
    exe = tmp_path / "consts"
    subprocess.run([cc, "-o", str(exe), str(src)], check=True, capture_output=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    found = {name: int(v) for name, v in (line.split() for line in out.splitlines())}
    assert found == names


def test_every_special_has_c_code() -> None:
    text = "".join(p.read_text() for p in sorted(SHARED.glob("*.h")))
    for name in dt.SPECIALS:
        if name == "args":  # consumed through the bytes exe leaves pending
            continue
        assert f"case SCAP_SP_{name.upper()}:" in text, name


def test_shared_headers_stay_backend_neutral() -> None:
    """The kernel module compiles the shared code too: no BPF headers or helpers in it."""
    for path in SHARED.glob("*.h"):
        text = path.read_text()
        assert "#include <bpf/" not in text and "bpf_" not in text.replace("SCAP_BPF_", ""), \
            path.name


def test_bad_declarations_are_refused() -> None:
    conv = dt.CONVERTERS
    with pytest.raises(dt.EventTableError, match="parameters sysdig 0.29.3 declares"):
        dt._parse_syscalls("0 read SYSCALL_READ > a0 < ret\n", conv)
    with pytest.raises(dt.EventTableError, match="unknown special"):
        dt._parse_syscalls("0 read SYSCALL_READ > a0 a2 < ret nosuch(a1)\n", conv)
    with pytest.raises(dt.EventTableError, match="no event pair"):
        dt._parse_syscalls("0 read SYSCALL_NOPE > < \n", conv)
    with pytest.raises(dt.EventTableError, match="needs a special"):
        dt._parse_syscalls("0 read SYSCALL_READ > a0 a2 < ret a1\n", conv)
    with pytest.raises(dt.EventTableError, match="no converter"):
        dt._parse_syscalls("72 fcntl SYSCALL_FCNTL > a0 a1 < ret\n", {})
