"""Event fields (``evt.num``, ``proc.name``, ``fd.name``...), each declared once on its extractor.

A field is registered with :func:`field` next to the function that extracts it. The
registry (:data:`FIELDS`) is the single list behind ``-p`` formats, filters and
``scap read -l``; the declarations live in :mod:`.fields_evt` (``evt.*``),
:mod:`.fields_proc` (``proc.*``, ``thread.*``, ``user.*``, ``group.*``, ``container.*``),
:mod:`.fields_fd` (``fd.*``), :mod:`.fields_syslog`, :mod:`.fields_fdlist`,
:mod:`.fields_k8s`, :mod:`.fields_mesos` and :mod:`.fields_span` (``span.*``,
``evtin.*``), imported at the end of this module.

Extractors take an :class:`~scapkit.inspect.state.engine.EventContext` (the event right
after the state engine applied it) and return the value, or None when the event has
none (sysdig prints ``<NA>``): int for numbers, bool for BOOL, str for strings, bytes
or str for BYTEBUF, :mod:`ipaddress` addresses for IP types, float for DOUBLE.

Types and print formats are sysdig 0.29.3's (libs e5c53d64, ``filterchecks.cpp``), and so
is the way a value becomes text (:func:`value_text`, ``rawval_to_string``) or JSON
(:func:`value_json`, ``rawval_to_json``) -- quirks included: a UINT32 field whose print
format is NA prints ``<NA>`` (``evt.type.is``, ``evt.rawarg.size``), a HEX UINT32 prints
in decimal, PADDED_DEC prints ``%09``.

A field that takes an argument (``evt.arg.fd``, ``evt.arg[1]``, ``proc.aname[2]``,
``thread.cgroup.cpu``), keeps state between events (``evt.deltatime``) or depends on the
session's rendering options (``evt.info``) is declared with ``make(arg, options)``, which
returns a fresh extractor; ``Field.bind(arg, options)`` calls it, as the filter compiler's
:class:`~scapkit.inspect.filter.compiler.FieldsResolver` expects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import TYPE_CHECKING, Any

from scapkit.scapfile.params import format_ipv6

from .render import DEFAULT_OPTIONS, RenderOptions

if TYPE_CHECKING:
    from .state.engine import EventContext

__all__ = [
    "Field", "FIELDS", "CLASSES", "field", "field_class", "match_field", "parse_field",
    "value_text", "value_json", "text_converter", "bracket_arg", "label_arg", "check_label",
    "register_view", "RenderOptions", "DEFAULT_OPTIONS",
]

Extractor = Callable[["EventContext"], Any]
Maker = Callable[[str | None, RenderOptions], Extractor]
#: How a ``-p`` format reads a field's argument: text after the field name ->
#: (argument, characters used), or None when there is none.
ArgParser = Callable[[str], "tuple[str, int] | None"]


@dataclass(frozen=True, slots=True)
class Field:
    """One field: sysdig's name, type (``UINT64``, ``CHARBUF``...), print format and doc.

    ``extract(ctx)`` gives the value with default options and no argument. Fields with
    ``make`` take an argument (``arg``: ``"optional"`` or ``"required"``) or options;
    ``parse_arg`` reads the argument in ``-p`` formats. ``multi``: the extractor returns a
    tuple of values (filters match any of them). ``filter_only``: not for ``-p``.
    ``hidden``: not listed by ``-l``, yet accepted in formats and filters (sysdig's
    ``EPF_TABLE_ONLY`` fields, made for its views and chisels).
    ``lenient``: in ``-p`` formats, a required argument that cannot be read makes the
    field take no text and print ``<NA>`` (sysdig's ``evt.type.is`` does that) instead
    of an error. ``json``: how ``-j`` shows the value: ``"value"`` (from type and format),
    ``"ts"`` (the event timestamp, as sysdig does for time strings), ``"number"`` (the
    extracted number whatever the format), ``"twice"`` (a number extracted twice, as
    sysdig's JSON writer does: stateful fields then give their second reading).
    ``arg_syntax``: how filters may write the argument: ``"bracket"`` (``field[ARG]``),
    ``"dot"`` (``field.ARG``) or ``"any"``; sysdig refuses the other form. ``"raw"``: both,
    with different meanings, so the argument keeps its syntax (``[1]``, ``.name``), as
    ``parse_arg`` must give it too.
    """

    name: str
    type: str
    doc: str
    extract: Extractor
    fmt: str = "NA"
    klass: str = ""
    make: Maker | None = None
    arg: str = "none"
    parse_arg: ArgParser | None = None
    multi: bool = False
    filter_only: bool = False
    json: str = "value"
    validate: Callable[[str], None] | None = None
    ops: frozenset[str] | None = None
    lenient: bool = False
    arg_syntax: str = "any"
    hidden: bool = False

    @property
    def bind(self) -> Callable[..., Extractor] | None:
        """For fields with ``make``: ``bind(arg, options=DEFAULT_OPTIONS)`` -> extractor."""
        if self.make is None:
            return None
        return self._bind

    def _bind(self, arg: str | None, options: RenderOptions = DEFAULT_OPTIONS) -> Extractor:
        if arg is None and self.arg == "required":
            raise ValueError(f"field {self.name} requires an argument")
        if arg is not None and self.arg == "none":
            raise ValueError(f"field {self.name} takes no argument")
        assert self.make is not None
        return self.make(arg, options)


#: Every field by name, in declaration order.
FIELDS: dict[str, Field] = {}


@dataclass(frozen=True, slots=True)
class FieldClass:
    """A group of fields as ``scap read -l`` lists them."""

    name: str
    title: str
    doc: str
    fields: list[str]


#: Field classes by key, in declaration order.
CLASSES: dict[str, FieldClass] = {}
_current_class: list[str] = [""]


#: sysdig's order of the field classes (``-l``), whichever module is imported first.
CLASS_ORDER = ("evt", "evt.syscall", "process", "user", "group", "container", "fd", "syslog",
               "fdlist", "k8s", "mesos", "span", "evtin")


def field_class(key: str, name: str, title: str, doc: str) -> None:
    """Open a class: the fields declared next belong to it (until the next class)."""
    CLASSES[key] = FieldClass(name, title, doc, [])
    rank = {k: i for i, k in enumerate(CLASS_ORDER)}
    ordered = sorted(CLASSES.items(), key=lambda kv: rank.get(kv[0], len(rank)))
    CLASSES.clear()
    CLASSES.update(ordered)
    _current_class[0] = key


def _unavailable(ctx: EventContext) -> None:
    return None


def field(name: str, type: str, doc: str, *, fmt: str = "NA", arg: str = "none",
          parse_arg: ArgParser | None = None, multi: bool = False, filter_only: bool = False,
          json: str = "value", validate: Callable[[str], None] | None = None,
          ops: frozenset[str] | None = None, maker: bool = False, lenient: bool = False,
          arg_syntax: str = "any", hidden: bool = False
          ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as field ``name``.

    The function is the extractor ``fn(ctx) -> value``; with ``maker=True`` it is
    ``fn(arg, options) -> extractor`` instead (arguments, options, per-use state).
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in FIELDS:
            raise ValueError(f"field {name} declared twice")
        if maker:
            make: Maker | None = fn
            extract = fn(None, DEFAULT_OPTIONS) if arg != "required" else _unavailable
        else:
            make, extract = None, fn
        klass = _current_class[0]
        FIELDS[name] = Field(name, type, doc, extract, fmt, klass, make, arg, parse_arg,
                             multi, filter_only, json, validate, ops, lenient, arg_syntax,
                             hidden)
        if klass:
            CLASSES[klass].fields.append(name)
        return fn

    return register


def register_view(name: str, type: str, doc: str, view: Extractor, **options: Any) -> None:
    """Register an existing extractor (a state view) as field ``name``."""
    field(name, type, doc, **options)(view)


# -- argument syntax in -p formats -------------------------------------------------------------


def bracket_arg(text: str) -> tuple[str, int] | None:
    """``[ARG]``: the text up to the closing bracket."""
    if not text.startswith("["):
        return None
    end = text.find("]")
    if end < 0:
        return None
    return text[1:end], end + 1


_LABEL_CHARS = frozenset("/_-.")


def label_arg(text: str) -> tuple[str, int] | None:
    """``.KEY`` where KEY is letters, digits and ``/ _ - .`` (sysdig's label syntax)."""
    if not text.startswith("."):
        return None
    end = 1
    while end < len(text) and (text[end].isascii() and text[end].isalnum()
                                or text[end] in _LABEL_CHARS):
        end += 1
    return text[1:end], end


def check_label(arg: str | None) -> str:
    """The label key of a filter's ``field.KEY`` (ValueError when sysdig would stop
    reading the name before its end)."""
    assert arg is not None
    found = label_arg("." + arg)
    if found is None or found[1] != len(arg) + 1:
        raise ValueError(f"bad label name {arg}")
    return found[0]


# -- field names --------------------------------------------------------------------------------


def match_field(text: str) -> Field | None:
    """The longest field name that ``text`` starts with (sysdig's matching rule)."""
    best = None
    for name, f in FIELDS.items():
        if text.startswith(name) and (best is None or len(name) > len(best.name)):
            best = f
    return best


def parse_field(text: str) -> tuple[Field, str | None, int] | None:
    """A field at the start of a ``-p`` token: (field, argument, characters used).

    0 characters used: a lenient field whose argument could not be read.
    """
    f = match_field(text)
    if f is None:
        return None
    used = len(f.name)
    arg = None
    if f.parse_arg is not None:
        found = f.parse_arg(text[used:])
        if found is not None:
            arg, n = found
            used += n
        elif f.lenient and f.arg == "required":
            return f, None, 0
    return f, arg, used


# -- values as text and JSON (sysdig's rawval_to_string / rawval_to_json) --------------------------

_INT32 = frozenset({"INT8", "INT16", "INT32"})
_INT64 = frozenset({"INT64", "PID", "ERRNO", "FD"})
_UINT32 = frozenset({"UINT8", "UINT16", "UINT32", "L4PROTO", "PORT"})
_UINT64 = frozenset({"UINT64", "RELTIME", "ABSTIME"})
_TEXTS = frozenset({"CHARBUF", "FSPATH", "FSRELPATH"})
_ADDRS = frozenset({"IPV4ADDR", "IPV6ADDR", "IPADDR", "IPV4NET", "IPV6NET", "IPNET"})


def _addr_text(v: Any) -> str:
    if isinstance(v, IPv6Address):
        return format_ipv6(v)
    if isinstance(v, IPv4Address):
        return str(v)
    if isinstance(v, bytes):
        return format_ipv6(v) if len(v) == 16 else ".".join(str(b) for b in v)
    return str(v)


def _num_text(v: int, type: str, fmt: str) -> str | None:
    if type in _INT32:
        u = v & 0xFFFFFFFF
        if fmt == "OCT":
            return f"{u:o}"
        if fmt in ("DEC", "ID"):
            return str(v)
        if fmt == "HEX":
            return f"{u:X}"
        return None
    if type in _INT64:
        u = v & 0xFFFFFFFFFFFFFFFF
        if fmt == "OCT":
            return f"{u:o}"
        if fmt == "PADDED_DEC":
            return f"{v:09d}"
        if fmt == "HEX":
            return f"{u:X}"
        return str(v)
    if type in _UINT32:
        if fmt == "OCT":
            return f"{v:o}"
        if fmt in ("DEC", "ID", "HEX"):
            return str(v)
        return None
    if type in _UINT64:
        if fmt == "OCT":
            return f"{v:o}"
        if fmt in ("DEC", "ID"):
            return str(v)
        if fmt == "PADDED_DEC":
            return f"{v:09d}"
        if fmt == "HEX":
            return f"{v:X}"
        return None
    return str(v)


def value_text(v: Any, type: str, fmt: str) -> str | None:
    """A value as sysdig prints it in ``-p`` output (None: ``<NA>``)."""
    if v is None:
        return None
    if type == "BOOL":
        return "true" if v else "false"
    if type in _TEXTS:
        return v if isinstance(v, str) else str(v)
    if type == "BYTEBUF":
        if isinstance(v, (bytes, bytearray)):
            end = v.find(b"\0")
            return (v if end < 0 else v[:end]).decode("utf-8", "surrogateescape")
        return v
    if type in _ADDRS:
        return _addr_text(v)
    if type == "DOUBLE":
        return f"{v:.1f}"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return _num_text(v, type, fmt)
    return str(v)


def _bool_text(v: Any) -> str:
    return "true" if v else "false"


def _same(v: Any) -> Any:
    return v


def text_converter(type: str, fmt: str) -> Callable[[Any], str | None]:
    """:func:`value_text` for one type and format, as a function of the (non-None) value."""
    if type in _TEXTS:
        return _same
    if type == "BOOL":
        return _bool_text
    if fmt in ("DEC", "ID") and (type in _INT32 or type in _INT64 or type in _UINT32
                                 or type in _UINT64):
        return str
    return lambda v: value_text(v, type, fmt)


def value_json(v: Any, type: str, fmt: str) -> Any:
    """A value as sysdig's ``-j`` shows it: a number, bool, string or None (null)."""
    if v is None:
        return None
    if type == "BOOL":
        return bool(v)
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        if type in _INT32 or type in _UINT32:
            if fmt in ("DEC", "ID"):
                return v
            if fmt in ("OCT", "HEX"):
                return value_text(v, type, fmt)
            return None
        if type in _INT64:
            return v if fmt in ("DEC", "ID") else value_text(v, type, fmt)
        if type in _UINT64:
            if fmt in ("DEC", "ID"):
                return v
            if fmt in ("PADDED_DEC", "OCT", "HEX"):
                return value_text(v, type, fmt)
            return None
        return v
    if isinstance(v, float):
        return v
    return value_text(v, type, fmt)


# The declarations register themselves on import (after everything above exists), in the
# order of sysdig's field classes.
from . import fields_evt, fields_proc, fields_fd  # noqa: E402,F401
from . import fields_syslog, fields_fdlist, fields_k8s, fields_mesos  # noqa: E402,F401
from . import fields_span  # noqa: E402,F401
