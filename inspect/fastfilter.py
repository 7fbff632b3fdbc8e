"""Filters the C read engine evaluates itself, translated from the filter's syntax tree.

The C engine (``fastread.c``) judges events with a small program: ``and``/``or``/``not``
over comparisons of the fields it knows without the Python engine — ``evt.type``,
``evt.dir``, ``evt.num``, ``evt.cpu``, ``thread.tid``, ``proc.pid``, ``proc.name`` —
with the operators whose result it can reproduce exactly: ``= != < <= > >= in
exists`` and, for an ASCII value, ``contains icontains startswith endswith``. Values
are read by the same functions as :mod:`.filter.compiler` (``parse_c_int`` for
numbers, C strings for text), so the program answers as the compiled predicate does.
:func:`translate` returns None for any other filter: the listing then runs on the
Python path.

Those fields need neither the field registry nor its import (tens of milliseconds):
:func:`compile_light` compiles a filter made of them with the real compiler, through a
resolver that gives the same :class:`~.filter.compiler.FieldRef` the registry would, its
extractors taken from the registry on first use. Any other field, or an argument,
leaves the filter to the registry (``None``). The tests check the table below against
the registry: same extractors, types and checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .filter import values as V
from .filter.ast import And, Compare, Node, Not, Or
from .filter.parser import parse_filter

__all__ = ["Program", "translate", "compile_light", "LIGHT_FIELDS"]

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


#: The fields the C engine reads: name -> (FF_*, kind of value, registry type, the module
#: and name of the registry's extractor).
LIGHT_FIELDS: dict[str, tuple[int, str, str, str, str]] = {
    "evt.type": (FF_EVT_TYPE, "str", "CHARBUF", "fields_evt", "evt_type"),
    "evt.dir": (FF_EVT_DIR, "str", "CHARBUF", "fields_evt", "evt_dir"),
    "proc.name": (FF_PROC_NAME, "str", "CHARBUF", "state.view", "proc_name"),
    "thread.tid": (FF_THREAD_TID, "i64", "INT64", "state.view", "thread_tid"),
    "proc.pid": (FF_PROC_PID, "i64", "INT64", "state.view", "proc_pid"),
    "evt.num": (FF_EVT_NUM, "u64", "UINT64", "fields_evt", "evt_num"),
    "evt.cpu": (FF_EVT_CPU, "i16", "INT16", "fields_evt", "evt_cpu"),
}


def _fields() -> dict[str, tuple[int, str, Any]]:
    """name -> (FF_*, kind, registry type) for the fields the C engine reads."""
    return {name: (spec[0], spec[1], spec[2]) for name, spec in LIGHT_FIELDS.items()}


def registry_extractor(name: str) -> Any:
    """The extractor the registry has for a field of :data:`LIGHT_FIELDS`."""
    from importlib import import_module

    spec = LIGHT_FIELDS[name]
    import_module(__package__ + ".fields")  # (the registry: the extractors' modules load with it)
    return getattr(import_module(f"{__package__}.{spec[3]}"), spec[4])


def _lazy_extractor(name: str) -> Any:
    """Calls the registry's extractor, imported on the first call."""
    found: list[Any] = []

    def extract(ctx: Any) -> Any:
        if not found:
            found.append(registry_extractor(name))
        return found[0](ctx)

    extract.__name__ = extract.__qualname__ = "lazy_" + name.replace(".", "_")
    return extract


class _NeedsRegistry(Exception):
    pass


class _LightResolver:
    """:class:`~.filter.compiler.FieldResolver` over :data:`LIGHT_FIELDS` only."""

    def lookup(self, name: str, arg: str | None, pos: int) -> Any:
        from .filter.compiler import FIELD_VALIDATORS, FieldRef

        spec = LIGHT_FIELDS.get(name)
        if spec is None or arg is not None:
            raise _NeedsRegistry
        return FieldRef(name=name, type=spec[2], extract=_lazy_extractor(name),
                        validate=FIELD_VALIDATORS.get(name))


def compile_light(text: str) -> Any:
    """The compiled filter, when it uses only :data:`LIGHT_FIELDS` (else None: compile it
    over the registry). Raises the compiler's errors, as the registry's compile would."""
    from .filter.compiler import compile_filter

    try:
        return compile_filter(text, _LightResolver())
    except _NeedsRegistry:
        return None


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
