"""The filter syntax tree: immutable nodes, each with ``pos``, its offset in the filter text.

``And``/``Or`` hold two or more children (a chain ``a and b and c`` is one node; brackets
make nested nodes). ``Compare`` is one check, ``field[arg] op value`` or
``field op (v1, v2, ...)`` or ``field exists``. Values keep the text as written after
unquoting and escapes; the compiler interprets them according to the field's type.

:func:`format_filter` turns a tree back into filter text that parses to the same tree
(positions aside).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

#: Operators taking one value.
VALUE_OPS = frozenset({
    "=", "==", "!=", "<", "<=", ">", ">=",
    "contains", "icontains", "bcontains", "startswith", "bstartswith", "endswith",
    "glob", "iglob", "regex",
})
#: Operators taking a bracketed list of values.
LIST_OPS = frozenset({"in", "intersects", "pmatch"})
#: Operators taking no value.
UNARY_OPS = frozenset({"exists"})
ALL_OPS = VALUE_OPS | LIST_OPS | UNARY_OPS


@dataclass(frozen=True, slots=True)
class Value:
    """A value as written: ``text`` after unquoting and escapes (bytes from ``\\xHH``
    escapes are kept through ``surrogateescape``), ``pos`` of its first character (the
    opening quote when quoted)."""

    text: str
    pos: int
    quoted: bool = False

    def as_bytes(self) -> bytes:
        return self.text.encode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class Compare:
    """``field[arg] op value``; ``values`` for list operators, neither for ``exists``."""

    field: str
    arg: str | None
    op: str
    value: Value | None
    values: tuple[Value, ...] | None
    pos: int  # start of the field name
    op_pos: int

    @property
    def field_text(self) -> str:
        return self.field if self.arg is None else f"{self.field}[{self.arg}]"


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    pos: int  # the 'not' keyword


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]
    pos: int


Node = Union[And, Or, Not, Compare]


def _quote(text: str) -> str:
    """``text`` as a double-quoted filter string that unescapes back to it exactly."""
    out = ['"']
    for b in text.encode("utf-8", "surrogateescape"):
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append(f"\\x{b:02x}")
    out.append('"')
    return "".join(out)


_BARE_ARG_STOP = frozenset(" \t\n\r[]\"'")


def _format_arg(arg: str) -> str:
    if arg and not any(c in _BARE_ARG_STOP for c in arg) and "\\" not in arg:
        return arg
    return _quote(arg)


def format_filter(node: Node) -> str:
    """Canonical filter text for ``node``: values double-quoted, ``and`` chains inside
    ``or`` chains bracketed only where needed."""
    if isinstance(node, Compare):
        field = node.field if node.arg is None else f"{node.field}[{_format_arg(node.arg)}]"
        if node.op in UNARY_OPS:
            return f"{field} {node.op}"
        if node.values is not None:
            return f"{field} {node.op} ({', '.join(_quote(v.text) for v in node.values)})"
        assert node.value is not None
        return f"{field} {node.op} {_quote(node.value.text)}"
    if isinstance(node, Not):
        return f"not {_format_operand(node.child, Not)}"
    if isinstance(node, And):
        return " and ".join(_format_operand(c, And) for c in node.children)
    if isinstance(node, Or):
        return " or ".join(_format_operand(c, Or) for c in node.children)
    raise TypeError(f"not a filter node: {node!r}")


def _format_operand(child: Node, parent: type) -> str:
    text = format_filter(child)
    if isinstance(child, (Compare, Not)) or (parent is Or and isinstance(child, And)):
        return text
    # A chain inside a chain of its own kind, or inside a tighter operator, needs brackets
    # to keep the tree's shape.
    return f"({text})"


def strip_positions(node: Node) -> tuple:
    """The tree as nested tuples without positions (to compare trees of different texts)."""
    if isinstance(node, Compare):
        vals = None if node.values is None else tuple(v.text for v in node.values)
        return ("cmp", node.field, node.arg, node.op,
                None if node.value is None else node.value.text, vals)
    if isinstance(node, Not):
        return ("not", strip_positions(node.child))
    kind = "and" if isinstance(node, And) else "or"
    return (kind, tuple(strip_positions(c) for c in node.children))
