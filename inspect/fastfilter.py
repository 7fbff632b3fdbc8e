"""Filters the C read engine evaluates itself, translated from the filter's syntax tree.

The C engine (``fastread.c``) judges events with a small program: ``and``/``or``/``not``
over comparisons of the fields it knows without the Python engine — ``evt.type``,
``evt.dir``, ``evt.num``, ``evt.cpu``, ``thread.tid``, ``proc.pid``, ``proc.name`` —
with the operators whose result it can reproduce exactly: ``= != < <= > >= in
exists`` and, for an ASCII value, ``contains icontains startswith endswith``. Values
are read by the same functions as :mod:`.filter.compiler` (``parse_c_int`` for
numbers, C strings for text) and the fields are checked to be the registry's own, so
the program answers as the compiled predicate does. :func:`translate` returns None for
any other filter: the listing then runs on the Python path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .filter import values as V
from .filter.ast import And, Compare, Node, Not, Or
from .filter.parser import parse_filter

__all__ = ["Program", "translate"]

# fastread.c's FN_*, FF_*, FO_*
FN_AND, FN_OR, FN_NOT, FN_CMP = range(4)
FF_EVT_TYPE, FF_EVT_DIR, FF_PROC_NAME, FF_THREAD_TID, FF_PROC_PID, FF_EVT_NUM, FF_EVT_CPU = \
    range(7)
(FO_EQ, FO_NE, FO_LT, FO_LE, FO_GT, FO_GE, FO_IN, FO_EXISTS, FO_CONTAINS, FO_ICONTAINS,
 FO_STARTSWITH, FO_ENDSWITH) = range(12)

_OPS = {"=": FO_EQ, "==": FO_EQ, "!=": FO_NE, "<": FO_LT, "<=": FO_LE, ">": FO_GT,
        ">=": FO_GE, "in": FO_IN, "intersects": FO_IN, "exists": FO_EXISTS,
        "contains": FO_CONTAINS, "icontains": FO_ICONTAINS, "startswith": FO_STARTSWITH,
        "endswith": FO_ENDSWITH}
_TEXT_ONLY = frozenset({FO_CONTAINS, FO_ICONTAINS, FO_STARTSWITH, FO_ENDSWITH})
_MAX_DEPTH = 200


def _fields() -> dict[str, tuple[int, str, Any]]:
    """name -> (FF_*, kind, the registry's extractor) for the fields the C engine reads."""
    from .fields import FIELDS
    from .fields_evt import evt_cpu, evt_dir, evt_num, evt_type
    from .state import view

    wanted = {"evt.type": (FF_EVT_TYPE, "str", evt_type), "evt.dir": (FF_EVT_DIR, "str", evt_dir),
              "proc.name": (FF_PROC_NAME, "str", view.proc_name),
              "thread.tid": (FF_THREAD_TID, "i64", view.thread_tid),
              "proc.pid": (FF_PROC_PID, "i64", view.proc_pid),
              "evt.num": (FF_EVT_NUM, "u64", evt_num), "evt.cpu": (FF_EVT_CPU, "i16", evt_cpu)}
    types = {"str": "CHARBUF", "i64": "INT64", "u64": "UINT64", "i16": "INT16"}
    return {name: spec for name, spec in wanted.items()
            if name in FIELDS and FIELDS[name].extract is spec[2]
            and FIELDS[name].type == types[spec[1]] and FIELDS[name].make is None}


class _Unsupported(Exception):
    pass


@dataclass
class Program:
    """The filter as fastread.c's ``struct fr_filter`` arrays."""

    nodes: list[tuple[int, int, int, int, int]] = field(default_factory=list)  # kind, fld, op, a, b
    kids: list[int] = field(default_factory=list)
    strings: list[bytes] = field(default_factory=list)
    ints: list[int] = field(default_factory=list)  # 64-bit patterns (unsigned for u64)

    def add(self, node: Node, known: dict[str, tuple[int, str, Any]], depth: int = 0) -> int:
        if depth > _MAX_DEPTH:
            raise _Unsupported  # (the C evaluator recurses)
        if isinstance(node, Compare):
            return self._compare(node, known)
        if isinstance(node, Not):
            child = self.add(node.child, known, depth + 1)
            return self._node(FN_NOT, 0, 0, child, 0)
        kind = FN_AND if isinstance(node, And) else FN_OR
        children = [self.add(c, known, depth + 1) for c in node.children]  # type: ignore[union-attr]
        start = len(self.kids)
        self.kids.extend(children)
        return self._node(kind, 0, 0, start, len(children))

    def _node(self, *values: int) -> int:
        self.nodes.append(values)  # type: ignore[arg-type]
        return len(self.nodes) - 1

    def _compare(self, node: Compare, known: dict[str, tuple[int, str, Any]]) -> int:
        if node.arg is not None or node.field not in known or node.op not in _OPS:
            raise _Unsupported
        fld, kind, _ = known[node.field]
        op = _OPS[node.op]
        if op == FO_EXISTS:
            return self._node(FN_CMP, fld, op, 0, 0)
        vals = node.values if node.values is not None else (node.value,)
        if op != FO_IN and len(vals) != 1:
            raise _Unsupported
        if kind == "str":
            texts = [v.text.split("\0", 1)[0].encode("utf-8", "surrogateescape")
                     for v in vals]  # type: ignore[union-attr]
            if op in _TEXT_ONLY and not texts[0].isascii():
                raise _Unsupported  # the Python test works on text, not bytes
            start = len(self.strings)
            self.strings.extend(texts)
            return self._node(FN_CMP, fld, op, start, len(texts))
        if op in _TEXT_ONLY:
            raise _Unsupported
        signed, bits = {"i64": (True, 64), "u64": (False, 64), "i16": (True, 16)}[kind]
        parsed = [V.parse_c_int(v.text, signed, bits) for v in vals]  # type: ignore[union-attr]
        start = len(self.ints)
        self.ints.extend(x - (1 << 64) if x >= 1 << 63 else x for x in parsed)  # as int64
        return self._node(FN_CMP, fld, op, start, len(parsed))

    def to_c(self, ffi: Any) -> tuple[Any, list[Any]]:
        """``struct fr_filter *`` and the arrays it points to (keep them alive with it)."""
        keep: list[Any] = []
        nodes = ffi.new("struct fr_fnode[]", max(1, len(self.nodes)))
        for i, (kind, fld, op, a, b) in enumerate(self.nodes):
            nodes[i].kind, nodes[i].field, nodes[i].op, nodes[i].a, nodes[i].b = \
                kind, fld, op, a, b
        strings = [ffi.new("uint8_t[]", s or b"\0") for s in self.strings]
        svals = ffi.new("uint8_t *[]", strings or [ffi.NULL])
        keep += [nodes, strings, svals]
        kids = ffi.new("int32_t[]", self.kids or [0])
        slens = ffi.new("uint32_t[]", [len(s) for s in self.strings] or [0])
        ints = ffi.new("int64_t[]", self.ints or [0])
        keep += [kids, slens, ints]  # (the owners: struct fields only point to them)
        f = ffi.new("struct fr_filter *")
        f.nnodes = len(self.nodes)
        f.nodes, f.kids, f.svals, f.slens, f.ivals = nodes, kids, svals, slens, ints
        return f, keep


def translate(text: str) -> Program | None:
    """The C program for filter ``text``, or None when the C engine cannot judge it.

    ``text`` has compiled (the listing's own predicate): it parses, its fields exist and
    its values read.
    """
    known = _fields()
    program = Program()
    try:
        root = program.add(parse_filter(text), known)
    except (_Unsupported, ValueError, RecursionError):
        return None
    if root != len(program.nodes) - 1:  # the root is the last node (children first)
        return None
    return program
