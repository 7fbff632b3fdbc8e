"""Generate the C headers the capture drivers share from the Python declarations.

``python -m scapkit.ebpf.gen_headers`` rewrites ``ebpf/shared/scap_events_gen.h`` from
``scapfile/event_table.py`` (codes, parameter types, DYN selectors) and
``scapfile/driver_table.py`` (syscall routing, parameter sources, flag converters). ``--check``
exits 1 when the committed header differs from a fresh generation. The header is plain C99 with
``__u8``-style types, usable by the BPF probe and by the kernel module alike.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..scapfile.driver_table import (CONVERTERS, NUM_WIDTH, SIGNED32_TYPES, SPECIALS,
                                     SYSCALL_TABLE_SIZE, SYSCALLS_X86_64, TRACEPOINT_EVENTS,
                                     Converter, Operand, RecordedEvent, Source, recorded_events)
from ..scapfile.event_table import DYN_GROUPS, EVENTS, PT, SYSDIG_029_NUM_EVENTS
from ..scapfile.flag_tables import TABLES

HEADER_PATH = Path(__file__).with_name("shared") / "scap_events_gen.h"

#: Operand encoding in ``struct scap_param_src.op``: 0-5 arguments, then these.
OP_RET, OP_NONE, OP_CONST = 6, 7, 0x80
#: Bits of ``struct scap_param_src.flags``.
FLAG_SEXT32 = 1
#: Bits of ``struct scap_event_desc.flags``.
EVF_LARGE = 1
#: ``struct scap_param_src.fixoff`` of a parameter whose position depends on the data.
NOT_FIXED = 255
EVENT_HEADER_SIZE = 26


def _pow2(n: int) -> int:
    p = 1
    while p < n:
        p <<= 1
    return p


def _c_ident(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).upper()


def _op(op: Operand | None) -> str:
    if op is None:
        return "SCAP_OP_NONE"
    if op.kind == "arg":
        return f"SCAP_OP_ARG({op.value})"
    if op.kind == "ret":
        return "SCAP_OP_RET"
    return f"SCAP_OP_CONST({op.value})"


def _src_enum(kind: str) -> str:
    return {"value": "SCAP_SRC_VALUE", "string": "SCAP_SRC_STRING"}.get(kind, f"SCAP_SP_{kind.upper()}")


def _conv_enum(conv: str | None) -> str:
    return "SCAP_CONV_NONE" if conv is None else f"SCAP_CONV_{_c_ident(conv)}"


def _width(ev: RecordedEvent, i: int) -> int:
    """Bytes of parameter i when it is a number (0 for strings and buffers)."""
    src = ev.sources[i]
    if src.kind == "string" or (src.kind in SPECIALS and SPECIALS[src.kind][0] != "num"):
        return 0
    return NUM_WIDTH.get(ev.info.params[i].type, 0)


def _fixed_offset(ev: RecordedEvent, i: int) -> int:
    """Offset of parameter i from the event start when every parameter before it is a number
    (so its position does not depend on the data), else NOT_FIXED."""
    widths = [_width(ev, j) for j in range(i)]
    if 0 in widths:
        return NOT_FIXED
    off = EVENT_HEADER_SIZE + 2 * len(ev.sources) + sum(widths)
    return off if off < NOT_FIXED else NOT_FIXED


def _sext32(ev: RecordedEvent, i: int, src: Source) -> bool:
    """Whether parameter i is a 32-bit int argument to sign-extend."""
    return (src.kind == "value" and src.operands[0].kind == "arg"
            and ev.info.params[i].type in SIGNED32_TYPES)


def _param_line(ev: RecordedEvent, i: int, src: Source) -> str:
    p = ev.info.params[i]
    width = _width(ev, i)
    flags = []
    if _sext32(ev, i, src):
        flags.append("SCAP_PF_SEXT32")
    ops = list(src.operands) + [None] * (3 - len(src.operands))
    return (f"\t{{{_src_enum(src.kind)}, {width}, {_conv_enum(src.converter)}, "
            f"{'|'.join(flags) or '0'}, SCAP_PT_{p.type.name}, "
            f"{{{', '.join(_op(o) for o in ops)}}}, {_fixed_offset(ev, i)}}},"
            f" /* {ev.info.symbol} {i}: {p.name} <- {src} */")


def _operand_c(op: Operand) -> str:
    """An operand as a C expression of the fixed-shape steps."""
    if op.kind == "arg":
        return f"SCAP_FX_ARG({op.value})"
    if op.kind == "ret":
        return "SCAP_FX_RET"
    return f"(__u64){op.value}"


def _fixed_shape(ev: RecordedEvent) -> str | None:
    """The fill steps of an event whose parameters are all numbers, or numbers then one I/O
    data buffer, each at a fixed offset (see SCAP_FIXED_SHAPES); None for any other event."""
    steps: list[str] = []
    end = EVENT_HEADER_SIZE + 2 * len(ev.sources)
    for i, src in enumerate(ev.sources):
        off = _fixed_offset(ev, i)
        if off == NOT_FIXED:
            return None
        if src.kind == "data" and i == len(ev.sources) - 1:
            ptr, length = src.operands[:2]
            steps.append(f"SCAP_FX_DATA({i}, {off}, {_operand_c(ptr)}, {_operand_c(length)})")
            return " ".join(steps)
        width = _width(ev, i)
        if src.kind != "value" or not width:
            return None
        value = _operand_c(src.operands[0])
        if _sext32(ev, i, src):
            value = f"(__u64)(__s64)(__s32){value}"
        if src.converter is not None:
            value = f"scap_conv_{src.converter}({value})"
        steps.append(f"SCAP_FX_VAL({i}, {off}, {width}, {value})")
        end = off + width
    steps.append(f"SCAP_FX_END({end})")
    return " ".join(steps)


def fixed_shapes(recorded: dict[int, RecordedEvent]) -> dict[str, list[int]]:
    """Distinct fixed shapes, in event-code order of first use -> the events that have them."""
    shapes: dict[str, list[int]] = {}
    for code in sorted(recorded):
        shape = _fixed_shape(recorded[code])
        if shape is not None:
            shapes.setdefault(shape, []).append(code)
    return shapes


def _converter_c(conv: Converter) -> list[str]:
    name = f"scap_conv_{conv.table}"
    out = [f"SCAP_INLINE __u64 {name}(__u64 v)", "{"]
    if conv.kind == "enum":
        out.append("\tswitch (v) {")
        for ename, kval, _mask, ppm in conv.entries:
            out.append(f"\tcase {kval:#x}: return {ppm:#x}; /* {ename} */")
        out.append(f"\tdefault: return {conv.default:#x};")
        out.append("\t}")
    else:
        out.append("\t__u64 r = 0;")
        for ename, kval, mask, ppm in conv.entries:
            test = f"(v & {mask:#x}) == {kval:#x}" if mask else f"(v & {kval:#x}) == {kval:#x}"
            out.append(f"\tif ({test}) r |= {ppm:#x}; /* {ename} */")
        out.append("\treturn r;")
    out.append("}")
    return out


def generate() -> str:
    """The full text of scap_events_gen.h."""
    recorded = recorded_events()
    lines: list[str] = [
        "/* SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only */",
        "/*",
        " * GENERATED by `python -m scapkit.ebpf.gen_headers` from scapfile/event_table.py and",
        " * scapfile/driver_table.py: do not edit. tests/test_driver_headers.py checks it is current.",
        " *",
        " * Event codes, parameter types, the x86_64 syscall routing, where each recorded",
        " * parameter comes from, and the kernel -> PPM flag converters. Include after defining",
        " * SCAP_INLINE (default: static inline, always inlined) and the __u8..__s64 types.",
        " */",
        "#ifndef SCAP_EVENTS_GEN_H",
        "#define SCAP_EVENTS_GEN_H",
        "",
        "#ifndef SCAP_INLINE",
        "#define SCAP_INLINE static inline __attribute__((always_inline))",
        "#endif",
        "",
        f"#define SCAP_NUM_EVENTS {len(EVENTS)}",
        f"#define SCAP_SYSDIG029_NUM_EVENTS {SYSDIG_029_NUM_EVENTS}",
        f"#define SCAP_SYSCALL_TABLE_SIZE {SYSCALL_TABLE_SIZE}",
        f"#define SCAP_SYSCALL_ROUTES {_pow2(SYSCALL_TABLE_SIZE)} /* table size, a power of 2 */",
        f"#define SCAP_EVENT_DESCS {_pow2(len(EVENTS))} /* table size, a power of 2 */",
        f"#define SCAP_MAX_PARAMS {max(len(ev.sources) for ev in recorded.values())}",
        "",
        "/* Event codes (libs numbering; names are the libs symbols with our prefix). */",
        "enum scap_event_code {",
    ]
    for ev in EVENTS:
        lines.append(f"\tSCAP_EV_{ev.symbol} = {ev.code},")
    lines += ["};", "", "/* Parameter types (libs numbering). */", "enum scap_param_type {"]
    for pt in PT:
        lines.append(f"\tSCAP_PT_{pt.name} = {pt.value},")
    lines += ["};", "", "/* DYN parameter selectors. */"]
    for group, alts in DYN_GROUPS.items():
        for idx, alt in enumerate(alts):
            lines.append(f"#define SCAP_DYN_{_c_ident(group)}_{_c_ident(alt.name)} {idx}")

    lines += ["", "/* Parameter sources: plain values and strings, then the named specials. */",
              "enum scap_src {",
              "\tSCAP_SRC_VALUE = 0, /* a number from op[0], converted by conv, of width bytes */",
              "\tSCAP_SRC_STRING = 1, /* a NUL-terminated user string at op[0] */"]
    for i, (name, (kind, lo, hi, doc)) in enumerate(SPECIALS.items(), start=2):
        lines.append(f"\tSCAP_SP_{name.upper()} = {i}, /* {kind}/{lo}-{hi}: {doc} */")
    lines += ["};", "",
              "/* Operands: syscall arguments 0-5, the return value, none, or a constant 0-127. */",
              "#define SCAP_OP_ARG(n) (n)", f"#define SCAP_OP_RET {OP_RET}",
              f"#define SCAP_OP_NONE {OP_NONE}", f"#define SCAP_OP_CONST(k) ({OP_CONST:#x} | (k))",
              f"#define SCAP_OP_IS_CONST(o) ((o) & {OP_CONST:#x})",
              f"#define SCAP_OP_CONST_VALUE(o) ((o) & {OP_CONST - 1:#x})",
              f"#define SCAP_PF_SEXT32 {FLAG_SEXT32} /* sign-extend a 32-bit int argument */",
              f"#define SCAP_EVF_LARGE {EVF_LARGE} /* 32-bit parameter lengths */",
              f"#define SCAP_NOT_FIXED {NOT_FIXED} /* scap_param_src.fixoff: not at a fixed place */",
              "",
              "/* Flag converters (kernel value -> PPM value), one per flag table. */",
              "enum scap_conv {", "\tSCAP_CONV_NONE = 0,"]
    convs = [c for c in CONVERTERS.values() if c.kind != "same"]
    for i, conv in enumerate(convs, start=1):
        lines.append(f"\tSCAP_CONV_{_c_ident(conv.table)} = {i},")
    lines += ["};", "", "/* Kernel constants the converters know (x86_64 values). */"]
    seen: set[str] = set()
    for conv in convs:
        for ename, kval, _mask, _ppm in conv.entries:
            if ename not in seen:
                seen.add(ename)
                lines.append(f"#define SCAP_K_{ename} {kval:#x}")
    lines += ["", "/* PPM values of the flag tables drivers compute themselves. */"]
    for table in ("clone_flags", "execve_flags", "file_flags"):
        for ename, val in TABLES[table]:
            lines.append(f"#define SCAP_PPM_{_c_ident(table)}_{ename} {val:#x}")
    lines.append("")
    for conv in convs:
        lines += _converter_c(conv)
        lines.append("")
    lines += ["SCAP_INLINE __u64 scap_convert(__u8 conv, __u64 v)", "{", "\tswitch (conv) {"]
    for conv in convs:
        lines.append(f"\tcase SCAP_CONV_{_c_ident(conv.table)}: return scap_conv_{conv.table}(v);")
    lines += ["\tdefault: return v;", "\t}", "}", ""]

    lines += ["/* Where each parameter of each recorded event comes from. */",
              "struct scap_param_src {",
              "\t__u8 src;   /* enum scap_src */",
              "\t__u8 width; /* bytes of a number parameter, 0 for others */",
              "\t__u8 conv;  /* enum scap_conv, for SCAP_SRC_VALUE */",
              "\t__u8 flags; /* SCAP_PF_* */",
              "\t__u8 type;  /* enum scap_param_type */",
              "\t__u8 op[3]; /* SCAP_OP_* operands */",
              "\t__u8 fixoff; /* offset from the event start when every parameter before",
              "\t\t     * this one is a number, else SCAP_NOT_FIXED */",
              "};", ""]
    first: dict[int, int] = {}
    body: list[str] = []
    for code in sorted(recorded):
        ev = recorded[code]
        first[code] = len(body)
        for i, src in enumerate(ev.sources):
            body.append(_param_line(ev, i, src))
    n_src = _pow2(max(len(body), 1))
    lines += [f"#define SCAP_PARAM_SRCS {n_src} /* table size, a power of 2 */",
              "static const struct scap_param_src scap_param_srcs[SCAP_PARAM_SRCS] = {"]
    lines += body
    lines += ["};", "",
              "/* Per event code: first entry in scap_param_srcs, parameter count, and its",
              " * fixed shape (SCAP_FIXED_SHAPES) or 0. */",
              "struct scap_event_desc {", "\t__u16 first;", "\t__u8 nparams;",
              "\t__u8 flags; /* SCAP_EVF_* */", "\t__u8 shape;", "};", "",
              "static const struct scap_event_desc scap_event_descs[SCAP_EVENT_DESCS] = {"]
    shapes = fixed_shapes(recorded)
    assert len(shapes) < 256, "shape ids are bytes"
    shape_of = {code: n for n, codes in enumerate(shapes.values(), start=1) for code in codes}
    for code in sorted(recorded):
        ev = recorded[code]
        flags = "SCAP_EVF_LARGE" if ev.info.large_payload else "0"
        lines.append(f"\t[SCAP_EV_{ev.info.symbol}] = {{{first[code]}, {len(ev.sources)}, "
                     f"{flags}, {shape_of.get(code, 0)}}},")
    lines += ["};", "",
              "/*",
              " * Events whose parameters are all numbers, or numbers then one I/O buffer, each at",
              " * a fixed offset from the event start, grouped by identical layout (\"shape\"):",
              " * scap_fill_event() writes them with straight-line code instead of walking",
              " * scap_param_srcs. One SCAP_FX_SHAPE(id, steps) per shape; the steps are",
              " * SCAP_FX_VAL(i, off, width, value) for number parameter i, then either",
              " * SCAP_FX_END(event length) or SCAP_FX_DATA(i, off, pointer, length) for a last",
              " * I/O parameter. Operands: SCAP_FX_ARG(n), SCAP_FX_RET. scap_fill.h defines these.",
              " */",
              "#define SCAP_FIXED_SHAPES \\"]
    for n, (shape, codes) in enumerate(shapes.items(), start=1):
        names = " ".join(recorded[c].info.symbol for c in codes)
        lines.append(f"\tSCAP_FX_SHAPE({n}, {shape}) /* {names} */ \\")
    lines.append("\t/* end of SCAP_FIXED_SHAPES */")
    lines += ["",
              "/* x86_64 syscall number -> enter event, exit event, PPM_SC code. */",
              "struct scap_syscall_route {", "\t__u16 enter;", "\t__u16 exit;", "\t__u16 sc;",
              "\t__u16 used; /* 1 for every number x86_64 defines */", "};", "",
              "static const struct scap_syscall_route scap_syscall_routes[SCAP_SYSCALL_ROUTES] = {"]
    for sc in SYSCALLS_X86_64:
        lines.append(f"\t[{sc.nr}] = {{SCAP_EV_{sc.enter.info.symbol}, "
                     f"SCAP_EV_{sc.exit.info.symbol}, {sc.sc}, 1}}, /* {sc.name} */")
    lines += ["};", ""]
    for name, ev in TRACEPOINT_EVENTS.items():
        lines.append(f"#define SCAP_TP_{name.upper()}_EVENT SCAP_EV_{ev.info.symbol}")
    lines += ["", "#endif /* SCAP_EVENTS_GEN_H */", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the committed header is not current")
    parser.add_argument("--output", type=Path, default=HEADER_PATH)
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python -m scapkit.ebpf.gen_headers",
                  file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
