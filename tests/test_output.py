"""``scap read`` output against sysdig 0.29.3: default listing, ``-j``, ``-p`` fields, filters.

Byte-for-byte comparisons on the shared captures and on synthetic captures holding every
event sysdig 0.29.3 knows with awkward values of every parameter type (tests/synthetic.py),
plus unit tests of the rendering rules that need no oracle.

Known differences, left out of the comparisons (sysdig reads memory it never wrote):
``fd.dev*`` of non-file fds, ``proc.is_exe_writable`` in some ``-j`` formats, ``evt.res``
of fd-creating exits without an ``fd`` parameter (sysdig crashes), ``fd.cport`` of sockets
that are not connected IP sockets (sysdig reads a port out of an empty string's buffer,
so it depends on the heap: tests/test_fields_more.py compares it on connected sockets).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

from support import CAPTURES, DATA, run_sysdig
from scapkit.cli.app import app
from scapkit.inspect import fields_evt
from scapkit.inspect.fields import FIELDS, CLASSES, parse_field, value_json, value_text
from scapkit.inspect.format import DEFAULT_FORMAT, EventFormat, FormatSyntaxError, unescape
from scapkit.inspect.render import RenderOptions, json_line, json_quote, render_buffer

runner = CliRunner()
CURL = DATA / "curl_google.scap"
SEP = "\x1f"


pytestmark = pytest.mark.usefixtures("utc")


def scap(*args: str) -> bytes:
    res = runner.invoke(app, ["read", *args])
    assert res.exit_code == 0, res.output
    return res.stdout_bytes


@lru_cache(maxsize=None)
def sysdig_out(sysdig: str, *args: str) -> bytes:
    return run_sysdig(sysdig, *args)


_SYNTHETIC_DIR: list[Path] = []


def synthetic(seed: int) -> Path:
    """The synthetic capture of this seed (written once per session)."""
    from synthetic import synthetic_capture

    path = _SYNTHETIC_DIR[0] / f"synthetic-{seed}.scap"
    if not path.exists():
        synthetic_capture(path, seed=seed, rounds=3)
    return path


@pytest.fixture(autouse=True, scope="module")
def synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    _SYNTHETIC_DIR[:] = [tmp_path_factory.mktemp("synthetic")]


SYNTHETIC_SEEDS = [1, 2, 3]

# -- the default listing and -j, byte for byte -----------------------------------------------------


@pytest.mark.sysdig
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_default_output_is_sysdigs(sysdig: str, capture: Path) -> None:
    expected = sysdig_out(sysdig, "-r", str(capture))
    got = scap(str(capture))
    assert got == expected
    assert len(got.splitlines()) > 20


@pytest.mark.sysdig
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_json_output_is_sysdigs(sysdig: str, capture: Path) -> None:
    expected = sysdig_out(sysdig, "-j", "-r", str(capture))
    got = scap("-j", str(capture))
    exp_lines, got_lines = expected.splitlines(), got.splitlines()
    assert len(got_lines) == len(exp_lines)
    for a, b in zip(exp_lines, got_lines):
        assert json.loads(b) == json.loads(a)
    assert got == expected  # the text too: key order, escapes, number forms


@pytest.mark.sysdig
@pytest.mark.parametrize("options", [["-D"], ["-v"], ["-A"], ["-x"], ["-X"], ["-b"],
                                     ["-t", "a"], ["-t", "r"], ["-t", "d"], ["-t", "D"],
                                     ["-j", "-D"], ["-j", "-X"], ["-j", "-A"], ["-j", "-b"]],
                         ids=" ".join)
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_output_options_are_sysdigs(sysdig: str, capture: Path, options: list[str]) -> None:
    assert scap(str(capture), *options) == sysdig_out(sysdig, "-r", str(capture), *options)


@pytest.mark.sysdig
@pytest.mark.parametrize("options", [[], ["-j"], ["-A"], ["-X"], ["-v"], ["-b"]], ids=" ".join)
@pytest.mark.parametrize("seed", SYNTHETIC_SEEDS)
def test_every_event_and_parameter_type_prints_as_in_sysdig(sysdig: str, seed: int,
                                                            options: list[str]) -> None:
    """All of sysdig 0.29.3's events (process structure aside), awkward values of every
    parameter type: flags with unnamed bits, unknown errnos, DYN selectors out of range,
    UTF-8 and invalid UTF-8 strings (JSON escapes), buffers over 80 bytes..."""
    path = str(synthetic(seed))
    expected = sysdig_out(sysdig, "-r", path, *options)
    got = scap(path, *options)
    assert got == expected
    assert len(got.splitlines()) > 600


@pytest.mark.sysdig
def test_read_file_option_and_stdin(sysdig: str) -> None:
    expected = sysdig_out(sysdig, "-r", str(CURL), "evt.type=connect")
    assert scap("-r", str(CURL), "evt.type=connect") == expected
    res = runner.invoke(app, ["read", "-", "evt.type=connect"], input=CURL.read_bytes())
    assert res.exit_code == 0 and res.stdout_bytes == expected


# -- fields ----------------------------------------------------------------------------------------

_WITH_ARGS = ["evt.arg.fd", "evt.arg[0]", "evt.arg[1]", "evt.arg.res", "evt.arg.name",
              "evt.arg.data", "evt.rawarg.name", "evt.rawarg.size", "evt.type.is.open",
              "proc.aname[0]", "proc.aname[1]", "proc.aname[2]", "proc.apid[1]",
              "proc.apid[3]", "thread.cgroup.cpuacct", "thread.cgroup.memory"]
_UNDEFINED_IN_SYSDIG = {"fd.dev", "fd.dev.major", "fd.dev.minor", "evt.res", "evt.abspath",
                        "proc.fdusage", "fd.cport"}


def _printable_fields() -> list[str]:
    return [n for n, f in FIELDS.items()
            if not f.filter_only and f.arg != "required" and n not in _UNDEFINED_IN_SYSDIG
            and n not in ("proc.aname", "proc.apid")] + _WITH_ARGS


def _compare_columns(expected: bytes, got: bytes, names: list[str]) -> list[str]:
    diffs = []
    exp_lines, got_lines = expected.splitlines(), got.splitlines()
    assert len(exp_lines) == len(got_lines)
    for a, b in zip(exp_lines, got_lines):
        if a == b:
            continue
        for name, x, y in zip(["evt.num", *names], a.split(SEP.encode()), b.split(SEP.encode())):
            if x != y:
                diffs.append(f"event {a.split(SEP.encode())[0]!r} {name}: sysdig {x!r}, ours {y!r}")
    return diffs[:20]


@pytest.mark.sysdig
@pytest.mark.parametrize("capture", [*CAPTURES, "synthetic"], ids=lambda p: getattr(p, "name", p))
def test_every_field_prints_as_in_sysdig(sysdig: str, capture: Path | str) -> None:
    path = str(synthetic(1) if capture == "synthetic" else capture)
    names = _printable_fields()
    fmt = "*%evt.num" + "".join(SEP + "%" + n for n in names)
    expected = sysdig_out(sysdig, "-r", path, "-p", fmt)
    got = scap(path, "-p", fmt)
    assert _compare_columns(expected, got, names) == []


@pytest.mark.sysdig
@pytest.mark.parametrize("capture", [*CAPTURES, "synthetic"], ids=lambda p: getattr(p, "name", p))
def test_every_field_has_sysdigs_json_value(sysdig: str, capture: Path | str) -> None:
    path = str(synthetic(2) if capture == "synthetic" else capture)
    names = [n for n in _printable_fields() if n != "proc.is_exe_writable"]
    fmt = "*%evt.num" + "".join(" %" + n for n in names)
    expected = sysdig_out(sysdig, "-j", "-r", path, "-p", fmt).splitlines()
    got = scap("-j", path, "-p", fmt).splitlines()
    assert len(got) == len(expected)
    diffs = []
    for a, b in zip(expected, got):
        da, db = json.loads(a), json.loads(b)
        assert da.keys() == db.keys()
        diffs += [f"{da['evt.num']} {k}: sysdig {da[k]!r}, ours {db[k]!r}" for k in da
                  if da[k] != db[k] or type(da[k]) is not type(db[k])]
    assert diffs[:20] == []


@pytest.mark.sysdig
def test_device_numbers_of_files(sysdig: str) -> None:
    """fd.dev* are defined for files (sysdig prints memory it never set for pipes...)."""
    fmt = "*%evt.num %fd.dev %fd.dev.major %fd.dev.minor"
    for path in [*CAPTURES, synthetic(1)]:
        flt = "fd.type=file or fd.type=directory"
        expected = sysdig_out(sysdig, "-r", str(path), "-p", fmt, flt)
        assert scap(str(path), "-p", fmt, flt) == expected


@pytest.mark.sysdig
def test_event_list_is_sysdigs(sysdig: str) -> None:
    assert scap("-L") == sysdig_out(sysdig, "-L")


def test_field_list_names_every_field_once() -> None:
    listed = [line.split()[0] for line in scap("-l").decode().splitlines()
              if line and not line.startswith((" ", "-", "Field Class:", "Description:"))]
    shown = [n for n, f in FIELDS.items() if not f.hidden]  # (sysdig's table-only: not listed)
    assert sorted(listed) == sorted(shown)
    assert len(listed) == len(set(listed)) == len(shown) >= 150
    assert sum(len(c.fields) for c in CLASSES.values()) == len(FIELDS)
    for prefix in ("evt.", "proc.", "thread.", "fd.", "user.", "group.", "container.",
                   "fdlist."):
        assert any(n.startswith(prefix) for n in FIELDS)


# -- filters ---------------------------------------------------------------------------------------

#: Filters over every field class and operator that sysdig 0.29.3 accepts.
FILTERS = [
    "evt.type=open",
    "evt.type in (read, write) and evt.dir=<",
    "evt.dir=<",
    "evt.num=231",
    "evt.num>=230 and evt.num<=260",
    "evt.cpu=0",
    "evt.rawres<0",
    "evt.res=ENOENT",
    "evt.res!=SUCCESS",
    "evt.failed=true",
    "evt.is_io=true",
    "evt.is_io_read=true and evt.buflen>100",
    "evt.is_io_write=true",
    "evt.io_dir=write",
    "evt.is_wait=true",
    "evt.category=file",
    "evt.category in (net, ipc)",
    "evt.latency>10000",
    "evt.latency.ns>1000 and evt.dir=<",
    "evt.deltatime>100000",
    "evt.reltime.s>=5",
    "evt.rawtime.ns<600000000",
    'evt.time contains "17:35:48.51"',
    "evt.datetime startswith 2018",
    "evt.args contains ENOENT",
    'evt.info contains "/etc"',
    "evt.rawarg.fd=3",
    'evt.arg[0] contains "<f>"',
    "evt.arg.name contains lib",
    "evt.rawarg.res<0",
    "evt.rawarg.size>=832",
    "evt.buffer contains ELF",
    "evt.count.error=1",
    "evt.count.exit=1",
    "evt.type.is.open=1",
    "syscall.type=connect",
    "evt.is_open_read=true",
    "proc.name=curl",
    "proc.name!=curl",
    "proc.pid=17497 and not evt.type=mmap",
    "proc.ppid=3200",
    "proc.pname=bash",
    "proc.aname=bash",
    "proc.aname[1]=bash",
    "proc.apid[1]=3200",
    "proc.cmdline contains google",
    'proc.exe glob "c*"',
    "proc.args icontains HTTP",
    "proc.sname exists",
    "proc.nthreads>1",
    "proc.vmsize>1000",
    "thread.tid!=17497",
    "thread.ismain=false",
    "thread.cgroups contains pids",
    "user.name=ubuntu",
    "user.uid=1000",
    "group.gid exists",
    "container.id=host",
    "container.name=host",
    "fd.num=3",
    'fd.name contains "/lib/"',
    "fd.name pmatch (/etc, /usr/lib)",
    "fd.directory=/etc",
    'fd.filename endswith ".conf"',
    "fd.type=ipv6",
    "fd.type in (ipv6, unix)",
    "fd.typechar=u",
    "fd.l4proto=udp",
    "fd.l4proto=tcp and evt.dir=>",
    "fd.sockfamily=ip",
    "fd.is_server=false",
    "fd.connected=true",
    "fd.ip=2001:4860:4860::8888",
    "fd.ip!=::1 and fd.type=ipv6",
    "fd.net=10.0.0.0/8",
    "fd.cnet=10.0.0.0/8",
    "fd.port=53",
    "fd.port!=53 and fd.sockfamily=ip",
    "fd.port<1024",
    "fd.sport=80 or fd.sport=443",
    "fd.cport>30000",
    "fd.rport=53",
    "fd.rip=2001:4860:4860::8888",
    "fd.cip=2001:db8::4",
    "fd.sip in (2001:db8::3, ::1)",
    "fd.proto=53",
    "fd.uid contains 17497",
    'fd.containername contains ":"',
    "fdlist.nums exists",
    "fdlist.names contains ->",
    "evt.type=poll and fdlist.sports exists",
    "not (evt.type=mmap or evt.type=mprotect or evt.type=clock_gettime)",
    "(fd.type=file or fd.type=directory) and evt.dir=<",
    "evt.type=read and (fd.name contains urandom or fd.name contains passwd)",
    "fd.name in (/etc/hosts, /etc/resolv.conf)",
    "evt.type=close and evt.dir=> and fd.num>2",
    "evt.arg.flags contains O_RDONLY",
    "evt.type=clone and evt.dir=<",
    "evt.wait_latency>0",
    "evt.type startswith open",
    "evt.type > sendto",
    "evt.num in (211, 212, 999, 1057)",
]


@pytest.mark.sysdig
@pytest.mark.parametrize("text", FILTERS)
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_filtered_output_is_sysdigs(sysdig: str, capture: Path, text: str) -> None:
    assert scap(str(capture), text) == sysdig_out(sysdig, "-r", str(capture), text)


#: Fields whose value depends on where the filter ran in the parser (see the engine).
STATE_FORMAT = ("*%evt.num %fd.num %fd.name %fd.type %evt.buflen %evt.category %evt.latency "
                "%evt.deltatime %proc.vmsize %evt.arg.fd %evt.count.error.file %fd.cip "
                "%fd.sport %proc.fdopencount")


@pytest.mark.sysdig
@pytest.mark.parametrize("text", FILTERS[:40])
def test_filter_changes_the_state_as_in_sysdig(sysdig: str, text: str) -> None:
    """sysdig judges events that do not modify the state before parsing them, and a refused
    enter event leaves its exit without fd: -p fields show it."""
    for capture in CAPTURES:
        args = (str(capture), "-p", STATE_FORMAT, text)
        assert scap(*args) == sysdig_out(sysdig, "-r", *args)


@pytest.mark.sysdig
@pytest.mark.parametrize("text", ["evt.dir=<", "evt.type in (open, read, close)",
                                  "fd.type=file", "proc.name=bash and evt.failed=true",
                                  "evt.rawarg.fd=4", "evt.buffer contains GET",
                                  "fd.ip=1.1.1.1", "fd.net=10.0.0.0/8", "fd.snet=1.0.0.0/8",
                                  "fd.port=443", "fd.typechar=e", "user.uid=1000",
                                  "thread.tid=555", "evt.arg.res=EAGAIN"])
def test_filters_on_synthetic_events(sysdig: str, text: str) -> None:
    path = str(synthetic(3))
    assert scap(path, text) == sysdig_out(sysdig, "-r", path, text)
    assert scap(path, "-j", text) == sysdig_out(sysdig, "-r", path, "-j", text)


@pytest.mark.sysdig
def test_filters_select_something(sysdig: str) -> None:
    """Guard against a list that only compares empty outputs."""
    selected = sum(1 for text in FILTERS
                   if any(sysdig_out(sysdig, "-r", str(c), text).strip() for c in CAPTURES))
    assert selected >= len(FILTERS) - 5


@pytest.mark.sysdig
def test_a_refused_enter_leaves_its_exit_without_fd(sysdig: str) -> None:
    fmt = "*%evt.num %fd.name %evt.buflen %evt.category"
    for text, line in [("evt.num=231", b"231 /usr/lib/x86_64-linux-gnu/libcurl-gnutls.so.4 "
                                        b"<NA> unknown"),
                       ("evt.num>=230", b"231 /usr/lib/x86_64-linux-gnu/libcurl-gnutls.so.4 "
                                        b"832 file")]:
        out = scap(str(CURL), "-p", fmt, text)
        assert line in out.splitlines()
        assert out == sysdig_out(sysdig, "-r", str(CURL), "-p", fmt, text)


def test_filter_and_format_errors_exit_4() -> None:
    for args in (["evt.type="], ["-p", "%nosuch.field"], ["-p", "%fd.ip"],
                 ["evt.arg.nosuchargument=1"], ["proc.aname[x]=a"]):
        res = runner.invoke(app, ["read", str(CURL), *args])
        assert res.exit_code == 4, (args, res.output)
        assert "Traceback" not in res.output


def test_listing_needs_a_file() -> None:
    assert runner.invoke(app, ["read"]).exit_code == 2
    assert runner.invoke(app, ["read", str(CURL), "-A", "-x"]).exit_code == 2
    assert runner.invoke(app, ["read", str(CURL), "-t", "q"]).exit_code == 2


# -- rendering rules, no oracle needed -------------------------------------------------------------


def test_json_strings_are_quoted_as_jsoncpp_does() -> None:
    assert json_quote("plain") == '"plain"'
    assert json_quote('a"b\\c\n\t\x01\x7f') == '"a\\"b\\\\c\\n\\t\\u0001\x7f"'
    assert json_quote("caf\u00e9 \u20ac \U0001F600") == '"caf\\u00e9 \\u20ac \\ud83d\\ude00"'
    raw = b"\xff x \xc3".decode("utf-8", "surrogateescape")
    assert json_quote(raw) == '"\\ufffd x \\ufffd"'
    assert json_quote("cut\0here") == '"cut"'
    line = json_line({"b": 1, "a": "x", "c": None, "d": True})
    assert line == '{"a":"x","b":1,"c":null,"d":true}'


def test_buffers_follow_the_dot_rule_and_the_80_character_cut() -> None:
    o = RenderOptions(max_len=80)
    assert render_buffer(b"ab\x00\xffc\n", o) == "ab..c."
    long = bytes(range(32, 127))
    text = render_buffer(long, o)
    assert len(text) == 80 and text.endswith("...") and text[:77] == long[:77].decode()
    assert render_buffer(long, RenderOptions(max_len=80, json=True)) == long.decode()
    assert render_buffer(b"\nA\r\nB\tC", RenderOptions(buffer_format="eols")) == "\nA\nBC"
    assert render_buffer(b"abc", RenderOptions(buffer_format="hex")) == "\n\t0x0000: 6162 63\n"
    assert render_buffer(b"abc", RenderOptions(buffer_format="hexascii")) == (
        "\n\t0x0000: 6162 63" + " " * 30 + "  abc\n")
    assert render_buffer(b"abcd", RenderOptions(buffer_format="base64")) == "YWJjZA=="


def test_values_become_text_and_json_as_in_sysdig() -> None:
    assert value_text(-1, "INT64", "HEX") == "FFFFFFFFFFFFFFFF"
    assert value_text(-1, "INT32", "HEX") == "FFFFFFFF"
    assert value_text(255, "UINT32", "HEX") == "255"  # sysdig's HEX UINT32 prints decimal
    assert value_text(5, "UINT32", "NA") is None  # ...and NA UINT32 prints <NA>
    assert value_text(7, "RELTIME", "PADDED_DEC") == "000000007"
    assert value_text(True, "BOOL", "NA") == "true"
    assert value_json(7, "RELTIME", "PADDED_DEC") == "000000007"
    assert value_json(7, "UINT32", "NA") is None
    assert value_json(-3, "INT64", "ID") == -3


def test_format_parsing() -> None:
    assert unescape(r"a\tb\nc\\d\e\q") == "a\tb\nc\\d\x1b\\q"
    f = EventFormat("*%evt.num %10proc.name|%evt.arg.fd %proc.aname[2]")
    keys = [t.key for t in f.tokens if t.text is None]
    assert keys == ["evt.num", "proc.name", "evt.arg.fd", "proc.aname[2]"]
    assert parse_field("evt.arg.fdx")[1:] == ("fd", len("evt.arg.fd"))  # type: ignore[index]
    # sysdig reads evt.type.is's argument as all the rest: followed by text, it takes none
    assert parse_field("evt.type.is.open rest")[2] == 0  # type: ignore[index]
    assert parse_field("evt.type.is.open")[1] == "open"  # type: ignore[index]
    for bad in ("", "%", "%5", "%nosuch", "%evt.arg.nosuchparam", "%fd.net"):
        with pytest.raises(FormatSyntaxError):
            EventFormat(bad)
    assert DEFAULT_FORMAT.startswith("*%evt.num %evt.outputtime")


def test_widths_pad_and_cut_bytes() -> None:
    res = runner.invoke(app, ["read", str(CURL), "-n", "212", "-p", "[%3evt.type][%12proc.name]"])
    assert res.stdout.splitlines()[0] == "[exe][curl        ]"


def test_human_latency() -> None:
    h = fields_evt.human_time
    assert [h(v) for v in (0, 999, 1593, 12_345, 1_500_000, 25_000_000, 3_200_000_000,
                           125 * 10**9, 4000 * 10**9)] == [
        "0ns", "999ns", "1.59us", "12us", "1.50ms", "25ms", "3.20s", "2:5", "01:06:40"]


def test_the_filter_runs_inside_the_engine() -> None:
    """A refused enter event that changes no state is not parsed and leaves its exit
    without an fd of its own; accepted, the same exit has it."""
    fmt = "*%evt.num %fd.name %evt.buflen %evt.category"
    alone = scap(str(CURL), "-p", fmt, "evt.num=231").decode().splitlines()
    assert alone == ["231 /usr/lib/x86_64-linux-gnu/libcurl-gnutls.so.4 <NA> unknown"]
    both = scap(str(CURL), "-p", fmt, "evt.num=230 or evt.num=231").decode().splitlines()
    assert both[1] == "231 /usr/lib/x86_64-linux-gnu/libcurl-gnutls.so.4 832 file"
