"""sysdig 0.29.3's hidden fields (``EPF_TABLE_ONLY``): left out of ``-l`` but accepted in
``-p`` formats and filters.

Golden comparisons with sysdig 0.29.3 of the 26 fields (``-p`` with and without ``*``,
``-j``, ``-D``, filters with and without ``-d``) on the real captures, the state tests'
scenarios and synthetic captures written here: memory sizes past 4 GiB, procinfo events,
latencies around 100 s, docker infrastructure events, nested tracer spans sharing an ID.
Then the name matching (``thread.vmsize.b`` is one field, not ``thread.vmsize`` and
``.b``), the errors sysdig gives, the listing, and the read path these fields take.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from support import CAPTURES, DATA
from test_fields_more import (CURL, container_capture, oracle, same, scap, tracer_capture,
                              tracer_pool_capture)
from test_state import (Capture, edge_scenario, files_scenario, net_scenario, open_file, proc,
                        snapshot, write_capture)
from scapkit.inspect import fields_evt, fields_span
from scapkit.inspect.fastfilter import compile_light, translate
from scapkit.inspect.fields import FIELDS, parse_field
from scapkit.inspect.filter.compiler import compile_filter
from scapkit.inspect.format import EventFormat
from scapkit.inspect.listing import Listing, list_fields
from scapkit.scapfile import snapshot as S
from scapkit.scapfile.reader import CaptureReader

pytestmark = pytest.mark.usefixtures("utc")  # (times are compared with sysdig's)

NS = 1_000_000_000
SEP = "\x1f"

#: The 26 fields, with sysdig's types.
HIDDEN = {
    "thread.vmsize.b": "UINT64", "thread.vmrss.b": "UINT64", "thread.nametid": "CHARBUF",
    "evt.latency.quantized": "UINT64", "evt.count.procinfo": "UINT32",
    "evt.count.threadinfo": "UINT32", "evt.buflen.in": "UINT64", "evt.buflen.out": "UINT64",
    "evt.buflen.file": "UINT64", "evt.buflen.file.in": "UINT64",
    "evt.buflen.file.out": "UINT64", "evt.buflen.net": "UINT64", "evt.buflen.net.in": "UINT64",
    "evt.buflen.net.out": "UINT64", "evt.infra.docker.name": "CHARBUF",
    "evt.infra.docker.container.id": "CHARBUF", "evt.infra.docker.container.name": "CHARBUF",
    "evt.infra.docker.container.image": "CHARBUF", "span.duration.quantized": "UINT64",
    "span.duration.fortag": "RELTIME", "span.count": "UINT64", "span.count.fortag": "UINT64",
    "span.childcount.fortag": "UINT64", "span.idtag": "CHARBUF", "span.rawtime": "CHARBUF",
    "span.rawparenttime": "CHARBUF",
}
#: The fields as -p prints them: every one, those with an argument in several forms.
PRINTED = [n for n in HIDDEN if not n.endswith(("fortag", "idtag"))] + [
    "span.duration.fortag[0]", "span.duration.fortag[1]", "span.duration.fortag[2]",
    "span.duration.fortag[-1]", "span.count.fortag[0]", "span.count.fortag[1]",
    "span.count.fortag[2]", "span.childcount.fortag[0]", "span.childcount.fortag[1]",
    "span.childcount.fortag[-1]", "span.childcount.fortag[2147483647]", "span.idtag[0]",
    "span.idtag[1]", "span.idtag[-1]", "span.idtag[9]",
]
FMT = "*%evt.num %evt.type" + "".join(SEP + "%" + n for n in PRINTED)
JSON_FMT = "*%evt.num %evt.type" + "".join(" %" + n for n in PRINTED)
#: Without *: events print only when every field has a value.
STRICT_FMTS = ["%evt.num %thread.vmsize.b %thread.vmrss.b %thread.nametid",
               "%evt.num %evt.buflen.in %evt.buflen.file", "%evt.num %evt.latency.quantized",
               "%evt.num %span.count %span.rawtime", "%evt.num %evt.infra.docker.name",
               "%evt.num %evt.count.threadinfo"]
#: A format that ends in a dotted argument takes the rest as the argument.
DOTTED_FMTS = ["*%evt.num %span.count.fortag.x", "*%evt.num %span.childcount.fortag.x",
               "*%evt.num %span.duration.fortag.x"]


# -- synthetic captures ---------------------------------------------------------------------------


def memory_capture(path: Path) -> Path:
    """Memory sizes around 4 GiB, procinfo events of main and other threads, latencies
    around 100 s, I/O on files, sockets and pipes."""
    snap = snapshot([proc(1, ptid=0, comm="systemd", exe="/sbin/init", cwd="/"),
                     proc(100, comm="big", vmsize_kb=5_000_000, vmrss_kb=4_194_303),
                     proc(101, pid=100, comm="big", vmsize_kb=5_000_000, vmrss_kb=7),
                     proc(200, comm="edge", vmsize_kb=4_194_304, vmrss_kb=4_194_305)])
    c = Capture()
    for tid in (100, 101, 200, 999):
        c.add("PROCINFO_E", tid, cpu_usr=10, cpu_sys=20)
    open_file(c, 100, 5, "/etc/hosts")
    for lat in (0, 1, 999, 99_999_999_999, 100 * NS, 150 * NS, 10**19):
        c.add("SYSCALL_READ_E", 100, fd=5, size=10)
        c.t += max(lat - 1000, 0)
        c.add("SYSCALL_READ_X", 100, res=4, data=b"abcd")
    c.add("SYSCALL_WRITE_E", 100, fd=5, size=3).add("SYSCALL_WRITE_X", 100, res=-9, data=b"")
    c.add("SYSCALL_PIPE_E", 100)
    c.add("SYSCALL_PIPE_X", 100, res=0, fd1=6, fd2=7, ino=1234)
    c.add("SYSCALL_WRITE_E", 100, fd=7, size=3).add("SYSCALL_WRITE_X", 100, res=3, data=b"abc")
    c.add("SYSCALL_READ_E", 100, fd=6, size=3).add("SYSCALL_READ_X", 100, res=3, data=b"abc")
    c.add("SYSCALL_NANOSLEEP_E", 100, interval=0)
    c.t += 200 * NS
    c.add("SYSCALL_NANOSLEEP_X", 100, res=0)
    for tid in (101, 100, 200):
        c.add("PROCINFO_E", tid, cpu_usr=30, cpu_sys=40)
    return write_capture(path, snap, c)


#: Infrastructure event descriptions (sysdig crashes on an element with the key but no
#: ``:``, so there is none of those).
INFRA_DESCRIPTIONS = [
    b"Event: start; ID: 0123456789abcdef0123; name: web; Image: nginx:1.2",
    b"  Event :  die ;ID:abc;name:  x y ;Image: repo/img@sha256:deadbeef",
    b"Image: sha256:0123abcd; Event: pull",
    b"Image: docker.io/lib/alpine:3.1:extra; ID:  short  ;",
    b"Event: kill; names: first; name: second",
    b"Events: e1; IDs: i1; Imagex: y",
    b"", b";;;",
    b"Event:a:b; ID:1:2; name:n:m",
    b"Image:\tfoo@bar\t",
    b"Event:\x01weird\xff; ID:\xc3\xa9t\xc3\xa9",
    b"Event: cut\0; ID: after the NUL",
]


def infra_capture(path: Path) -> Path:
    """Docker infrastructure events (internal: shown with -D), between syscalls."""
    c = Capture()
    open_file(c, 100, 5, "/etc/hosts")
    for desc in INFRA_DESCRIPTIONS:
        c.add("INFRASTRUCTURE_EVENT_E", 100, source="docker", name="container",
              description=desc + b"\0", scope="host")
    c.add("SYSCALL_CLOSE_E", 100, fd=5).add("SYSCALL_CLOSE_X", 100, res=0)
    return write_capture(path, snapshot([proc(1, ptid=0, comm="systemd"), proc(100)]), c)


def span_capture(path: Path) -> Path:
    """Nested spans that share an ID (the parents of csysdig's span list), spans without
    tags, tags of uneven lengths, long spans, JSON tracers, an invalid tracer."""
    c = Capture()
    open_file(c, 100, 7, "/dev/null", flags=2)
    open_file(c, 200, 7, "/dev/null", flags=2)

    def w(data: bytes, tid: int = 100) -> None:
        c.add("SYSCALL_WRITE_E", tid, fd=7, size=len(data))
        c.add("SYSCALL_WRITE_X", tid, res=len(data), data=data)

    def other(tid: int = 100) -> None:
        c.add("SYSCALL_CLOSE_E", tid, fd=99).add("SYSCALL_CLOSE_X", tid, res=-9)

    w(b">:5:::")
    w(b">:5:a::")
    w(b">:5:a.b::")
    w(b">:5:a.b.c::")
    other()
    w(b">:6:a.b.c::")  # same tags, another ID: no parent
    w(b">:5:ab.c.d::")
    w(b">:5:ab::")
    w(b">:5:ab.c::")
    w(b">:5:ab.c.d::")
    w(b'[">", 5, ["a", "b", "c", "d"], [{"k": "v"}]]')
    w(b">:t:x.y::", tid=200)
    other(200)
    c.t += 150 * NS
    w(b"<:5:a.b.c::")
    w(b"<:t:x.y::", tid=200)
    w(b'["<", 5, ["a", "b", "c", "d"], []]')
    w(b"<:5:ab.c.d::")
    w(b"<:5:ab.c::")
    c.t += 99 * NS
    w(b"<:5:a.b::")
    w(b"<:6:a.b.c::")
    w(b"<:5:ab::")
    w(b"<:5:ab.c.d::")
    w(b"<:5:a::")
    w(b"<:5:::")
    w(b"<:5:nomatch::")
    w(b">:7:p.q::")
    w(b"not a tracer")  # an invalid tracer on a tracer fd
    other()
    w(b"<:7:p.q::")
    return write_capture(path, snapshot([proc(1, ptid=0, comm="systemd"), proc(100),
                                         proc(200, comm="other")]), c)


def invalid_tracer_capture(path: Path) -> Path:
    """Invalid tracers after spans: their fields read the thread's last span, with the tag
    lengths of the failed parse (past that span's tags, where sinsp reads stale memory)."""
    c = Capture()
    open_file(c, 100, 7, "/dev/null", flags=2)
    for data in (b">:8:::", b">:8:a::", b">:8:longtagname.bad>x::", b">:8:a.b::",
                 b">:8:" + b".".join(bytes([x]) for x in range(97, 123)) + b".bad>x::",
                 b">:8:a.bb::", b">:8:a.bb.cc.d>:", b"<:8:a.bb::", b"<:8:a.bb.cc.d>:",
                 b">:8:x.bad>"):
        c.add("SYSCALL_WRITE_E", 100, fd=7, size=len(data))
        c.add("SYSCALL_WRITE_X", 100, res=len(data), data=data)
    return write_capture(path, snapshot([proc(1, ptid=0, comm="systemd"), proc(100)]), c)


def _scenario(build: Callable[[], tuple[S.Snapshot, Capture]]) -> Callable[[Path], Path]:
    """A state test's scenario as a capture builder."""
    def write(path: Path) -> Path:
        snap, cap = build()
        return write_capture(path, snap, cap)
    return write


BUILDERS = {"memory": memory_capture, "infra": infra_capture, "spans": span_capture,
            "invalid": invalid_tracer_capture,
            "tracers": tracer_capture, "pool": tracer_pool_capture,
            "containers": container_capture, "files": _scenario(files_scenario),
            "net": _scenario(net_scenario), "edge": _scenario(edge_scenario)}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("fields_hidden")
    return {name: build(d / f"{name}.scap") for name, build in BUILDERS.items()}


def _all_captures() -> list[str]:
    return [p.name for p in CAPTURES] + list(BUILDERS)


def _path(name: str, synthetic: dict[str, Path]) -> Path:
    return synthetic[name] if name in synthetic else DATA / name


# -- the registry and the listing ------------------------------------------------------------------

def test_the_hidden_fields_are_sysdigs_table_only_ones() -> None:
    assert {n for n, f in FIELDS.items() if f.hidden} == set(HIDDEN)
    for name, type in HIDDEN.items():
        f = FIELDS[name]
        assert (f.type, f.doc != "", f.filter_only) == (type, True, False), name
        assert f.arg == ("required" if name.endswith(("fortag", "idtag")) else "none"), name


def test_the_listing_leaves_them_out() -> None:
    listed = "\n".join(list_fields()) + "\n".join(list_fields(verbose=True))
    words = set(listed.split())
    assert not words & set(HIDDEN)
    assert {"thread.vmsize", "evt.buflen", "span.duration", "span.id"} <= words


@pytest.mark.sysdig
def test_scap_and_sysdig_list_the_same_fields(sysdig: str) -> None:
    def names(text: bytes) -> list[str]:
        return [ln.split()[0] for ln in text.decode().splitlines()
                if ln and not ln.startswith((" ", "-", "Field Class:", "Description:"))]

    theirs, ours = names(oracle(sysdig, "-l").stdout), names(scap("-l").stdout)
    assert not set(theirs) & set(HIDDEN)
    assert [n for n in ours if n != "evt.outputtime"] == theirs


@pytest.mark.parametrize("name", PRINTED)
def test_longest_name_wins(name: str) -> None:
    """``thread.vmsize.b`` is one field, not ``thread.vmsize`` followed by ``.b``."""
    found = parse_field(name + " rest")
    assert found is not None
    f, arg, used = found
    assert (f.name, used) == (name.split("[")[0], len(name))
    assert compile_filter(f"{name} exists") is not None


# -- golden: -p, -j, -D ----------------------------------------------------------------------------

@pytest.mark.sysdig
@pytest.mark.parametrize("capture", _all_captures())
@pytest.mark.parametrize("options", [[], ["-j"], ["-D"]], ids=["p", "json", "debug"])
def test_hidden_fields_print_as_in_sysdig(sysdig: str, synthetic: dict[str, Path],
                                          capture: str, options: list[str]) -> None:
    fmt = JSON_FMT if "-j" in options else FMT
    out = same(sysdig, _path(capture, synthetic), *options, "-p", fmt)
    assert out.count(b"\n") >= 4


@pytest.mark.sysdig
@pytest.mark.parametrize("capture", _all_captures())
def test_formats_without_star_and_dotted_arguments(sysdig: str, synthetic: dict[str, Path],
                                                   capture: str) -> None:
    path = _path(capture, synthetic)
    for fmt in STRICT_FMTS + DOTTED_FMTS:
        same(sysdig, path, "-D", "-p", fmt)
    same(sysdig, path, "-j", "-p", "%evt.num %thread.vmsize.b %thread.nametid")


@pytest.mark.sysdig
def test_values_that_matter(sysdig: str, synthetic: dict[str, Path]) -> None:
    """What the golden tests compare is not all <NA>: a sample of sysdig's values."""
    def column(capture: str, fmt: str, *opts: str) -> set[bytes]:
        out = same(sysdig, _path(capture, synthetic), *opts, "-p", "*" + fmt)
        return set(out.split())

    assert {b"11493376", b"4096"} <= column("curl_google.scap",
                                            "%thread.vmsize.b %thread.vmrss.b")
    # 5000000, 4194303, 4194304 and 4194305 kB wrap at 4 GiB; other threads give 0, an
    # unknown thread nothing
    assert column("memory", "%thread.vmsize.b %thread.vmrss.b", "-D") == {
        b"825032704", b"4294966272", b"0", b"1024", b"<NA>"}
    assert column("memory", "%evt.latency.quantized") == {b"<NA>", b"0", b"1"}
    assert column("memory", "%evt.count.procinfo", "-D") == {b"<NA>", b"1"}
    assert b"curl17497" in column("curl_google.scap", "%thread.nametid")
    assert {b"start", b"die", b"pull"} <= column("infra", "%evt.infra.docker.name", "-D")
    assert {b"0", b"1"} <= column("spans", "%span.count.fortag[2]")
    assert b"1" in column("spans", "%span.duration.quantized")
    assert b"0" in column("spans", "%span.duration.quantized")
    lines = same(sysdig, synthetic["spans"], "-p", "%span.rawtime %span.rawparenttime")
    assert any(a != b for a, b in (ln.split() for ln in lines.splitlines()))
    rows = [json.loads(ln) for ln in same(sysdig, synthetic["spans"], "-j", "-p",
                                          "%span.rawtime %span.count %span.idtag[0]"
                                          ).splitlines()]
    assert rows and all(isinstance(r["span.rawtime"], str) and isinstance(r["span.count"], int)
                        and isinstance(r["span.idtag[0]"], str) for r in rows)


# -- golden: filters -------------------------------------------------------------------------------

FILTERS = {
    "curl_google.scap": [
        "thread.vmsize.b > 1000000", "thread.vmsize.b = 0", "thread.vmrss.b exists",
        "thread.nametid = curl17497", "thread.nametid startswith curl",
        "evt.latency.quantized = 1", "not evt.latency.quantized exists",
        "evt.buflen.in > 100", "evt.buflen.out exists", "evt.buflen.file exists",
        "evt.buflen.file.in >= 832", "evt.buflen.net exists", "evt.buflen.net.in > 0",
        "evt.buflen.net.out in (32, 78)", "evt.count.procinfo = 1",
        "evt.count.threadinfo exists", "evt.infra.docker.name exists", "span.count exists",
        "evt.buflen.in exists and proc.name = curl", "evt.buflen.file.out exists or evt.num < 5",
    ],
    "memory": [
        "thread.vmsize.b = 825032704", "thread.vmrss.b < 10000", "evt.latency.quantized = 0",
        "evt.count.procinfo = 1", "evt.count.threadinfo = 1", "evt.buflen.file.in = 4",
        "evt.buflen.out exists", "thread.nametid = big101",
    ],
    "net": ["evt.buflen.net > 1", "evt.buflen.net.in exists", "evt.buflen.net.out = 3",
            "evt.buflen.in exists and not evt.buflen.net exists"],
    "files": ["evt.buflen.file exists", "evt.buflen.out > 0", "evt.buflen.in exists"],
    "infra": ["evt.infra.docker.name = start", "evt.infra.docker.container.id exists",
              "evt.infra.docker.container.image startswith docker",
              "evt.infra.docker.container.name contains ' '", "evt.type = infra"],
    "spans": ["span.count = 1", "span.count = 0", "span.count.fortag[1] = 1",
              "span.childcount.fortag[0] = 1", "span.childcount.fortag.x = 1",
              "span.count.fortag.x = 0", "span.duration.fortag[2] > 0",
              "span.duration.quantized = 0", "span.idtag[0] = 5a", "span.idtag[-1] exists",
              "span.rawtime exists", "span.rawparenttime exists", "span.rawparenttime = ''",
              "span.rawtime != span.rawparenttime", "span.count.fortag[3] = 1 and span.id = 5"],
    "invalid": ["span.rawparenttime exists", "span.idtag[0] startswith 8invalid",
                "span.rawtime = 1600000000000014000", "span.count.fortag[0] = 0"],
    "tracers": ["span.count = 1", "span.rawtime exists", "span.idtag[1] contains db",
                "span.childcount.fortag[1] = 1"],
}


@pytest.mark.sysdig
@pytest.mark.parametrize("capture", list(FILTERS))
def test_filters_on_hidden_fields_select_as_in_sysdig(sysdig: str, synthetic: dict[str, Path],
                                                      capture: str) -> None:
    path = _path(capture, synthetic)
    selected = 0
    for text in FILTERS[capture]:
        for opts in ([], ["-d"], ["-D"]):
            out = same(sysdig, path, *opts, "-p", "*%evt.num %evt.type %span.rawtime", text)
            selected += out.count(b"\n")
        same(sysdig, path, text)  # the default listing
    assert selected > 10


# -- the read path ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["thread.nametid = curl17497", "evt.buflen.in > 0",
                                  "thread.vmsize.b exists", "span.count = 1",
                                  "evt.num > 3 and evt.count.procinfo = 1"])
def test_filters_on_hidden_fields_are_left_to_python(text: str) -> None:
    assert translate(text) is None
    assert compile_light(text) is None


def test_listings_naming_hidden_fields_take_the_python_path() -> None:
    from scapkit.inspect import fastread
    from scapkit.inspect.state.engine import StateEngine

    if not fastread.available():
        pytest.skip(f"no C read engine: {fastread.unavailable_reason()}")

    def fast(**listing: object) -> bool:
        with CaptureReader(CURL) as reader:
            return fastread.fast_lines(Listing(**listing), reader,  # type: ignore[arg-type]
                                       StateEngine(reader)) is not None

    assert fast(filter_text="evt.num > 3")  # (the test can tell the paths apart)
    assert not fast(filter_text="evt.num > 3 and thread.vmsize.b > 0")
    assert not fast(fmt="%evt.num %thread.vmsize.b")


@pytest.mark.parametrize("fmt,tracks", [
    ("%span.rawtime", True), ("%span.rawparenttime", True), ("%span.idtag[0]", True),
    ("%span.duration.quantized", True), ("%span.duration.fortag[0]", True),
    ("%span.count", False), ("%span.count.fortag[0]", False),
    ("%span.childcount.fortag[0]", False),
])
def test_span_fields_that_track_spans(fmt: str, tracks: bool) -> None:
    assert fields_span.session_tracks_spans(EventFormat(fmt), "") is tracks
    assert fields_span.session_tracks_spans(EventFormat("%evt.num"), fmt[1:] + " exists") \
        is tracks


# -- units -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("ns,expected", [(0, None), (1, 1), (10**10, 1), (99_999_999_999, 1),
                                         (10**11, 0), (10**19, 0), ((1 << 64) - 1, 0)])
def test_quantized_durations(ns: int, expected: int | None) -> None:
    assert fields_evt.quantized(ns) == expected


@pytest.mark.parametrize("tags,expected", [
    ([], b""), ([b"a"], b""), ([b"a", b"b"], b"a\0"), ([b"req", b"db"], b"req\0"),
    # past two tags, the offset misses the separators: not the tags but the last one
    ([b"a", b"b", b"c"], b"a\0"), ([b"ab", b"c", b"d"], b"ab\0"),
    ([b"abc", b"de", b"f"], b"abc\0"), ([b"abcdef", b"g", b"h"], b"abcdef\0"),
])
def test_parent_tags_as_sinsp_reckons_them(tags: list[bytes], expected: bytes) -> None:
    packed = b"".join(t + b"\0" for t in tags) + b"\0"
    n = fields_span._parent_prefix(packed, sum(len(t) for t in tags))
    assert packed[:n] == expected
