"""Filter tree -> predicate: nested Python closures, typed like sinsp 0.29.3's checks.

Entry point::

    from scapkit.inspect.filter.compiler import compile_filter
    keep = compile_filter('evt.type in (open, openat) and not evt.dir = ">"')
    engine = StateEngine(reader)            # the registry's fields read event contexts
    for ev in reader.events():
        ctx = engine.process(ev, keep)      # the engine runs the filter where sinsp does
        if not ctx.filtered_out: ...

``compile_filter(text, resolver=None)`` parses ``text`` (:mod:`.parser`), resolves each
field through ``resolver`` (default: :class:`FieldsResolver` over the ``@field``
registry of :mod:`scapkit.inspect.fields`), reads every value according to the field's
type, and returns a ``Callable[[event], bool]``. It raises
:class:`~.errors.FilterSyntaxError` or :class:`~.errors.FilterCompileError` (both
:class:`~.errors.FilterError`, with ``position`` and ``render()``); the command line
maps them to exit code 4 (``exitcodes.BAD_FILTER``). An empty text means "no filter"
and matches every event, as in sysdig; a text of blanks only is an error. The text is
never evaluated as Python: values become constants (numbers, strings, compiled glob
and regex matchers) captured by closures.

Fields are looked up through the :class:`FieldResolver` protocol, which returns a
:class:`FieldRef` (sysdig type name + extractor). Semantics (sinsp 0.29.3, libs
e5c53d64, ``filter.cpp``/``filterchecks.cpp``/``value_parser.cpp``):

- A field without a value for the event (extractor returns None) makes every
  comparison false, ``!=`` and ``exists`` included (``sinsp_filter_check::compare``
  returns false when ``extract`` gives NULL); ``not`` of such a check is true.
- Numbers (INT*, UINT*, FD, PID, ERRNO, FLAGS*, MODE, SYSCALLID, SIGTYPE, L4PROTO,
  RELTIME, ABSTIME, PORT, BOOL, DOUBLE): ``= != < <= > >=``, ``in``/``intersects``.
  Values are read for the field's width at compile time (:func:`.values.parse_c_int`:
  decimal only, C wrap-around); a non-number is a compile error naming its position.
  PORT also takes service names; BOOL takes ``true``/``false``. String operators are
  refused ("'contains' not supported for numeric filters"), ``pmatch`` too ("pmatch
  requires all charbuf arguments").
- Strings (CHARBUF, FSPATH, FSRELPATH): byte-wise ``strcmp`` semantics for
  ``= != < <= > >=``; ``contains``, ``icontains`` (ASCII case folding), ``startswith``,
  ``endswith``, ``glob``/``iglob`` (glibc ``fnmatch``), ``regex`` (full match, Python
  ``re`` syntax; libs HEAD uses RE2), ``in``/``intersects`` (set membership),
  ``pmatch`` (path prefixes). Values stop at a NUL byte (C strings).
- Buffers (BYTEBUF): ``= != contains startswith endswith in intersects`` on bytes, and
  ``bcontains``/``bstartswith`` whose value is hex (``bcontains 0d0a``).
- Addresses (IPV4ADDR, IPV6ADDR, IPADDR) and networks (IPV4NET, IPV6NET, IPNET):
  ``= != in intersects``; a network field's extractor returns an address and ``=``
  tests membership (``fd.net = 10.0.0.0/8``).
- ``in``/``intersects`` are "equal to one of"; a list field value (``multi``) matches
  when any of its values does, except ``!=``, which needs all of them to differ (sinsp's
  ``fd.ip``/``fd.port``/``fd.net``: client or server side).
- ``exists`` is true when the field has a value.

Departures from 0.29.3, which accepts the operator and then throws at the first event:
operators a type cannot take are compile errors here; ordering comparisons of IP
addresses are refused (0.29.3 compared the raw network-order words); DOUBLE fields can
be compared (0.29.3 could not parse their values).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from . import values as V
from .ast import And, Compare, Node, Not, Or, Value
from .errors import FilterCompileError, FilterError
from .parser import parse_filter

Predicate = Callable[[Any], bool]
Extractor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A resolved field: what the compiler needs to compare it.

    ``type``: sysdig type name (``CHARBUF``, ``UINT64``, ``IPNET``, ...; a ``PT_`` prefix
    and case are ignored). ``extract(event)`` returns the value or None when the event has
    none: int for numbers, bool or int for BOOL, float for DOUBLE, str for strings,
    bytes for BYTEBUF, ``ipaddress`` addresses (or 4/16 raw bytes, or text) for address
    and network types. With ``multi`` it returns a tuple of such values instead.
    ``validate(text)`` may refuse a value by raising ValueError(message) (sinsp refuses
    unknown event names for ``evt.type``); ``ops`` restricts the operators the field
    accepts (None: all its type allows). ``predicate(node)``, for a field whose
    comparison is its own (``evt.around``, ``evtin.*``), builds the whole check from the
    :class:`~.ast.Compare` node and raises :class:`FilterCompileError` for what it refuses.
    """

    name: str
    type: str
    extract: Extractor
    multi: bool = False
    validate: Callable[[str], None] | None = None
    ops: frozenset[str] | None = None
    predicate: Callable[[Compare], Predicate] | None = None


class FieldResolver(Protocol):
    """Finds fields for the compiler.

    ``name`` is the field as written (``evt.type``, ``evt.arg.fd``, ``proc.aname``), ``arg``
    the text inside ``[...]`` after it or None, ``pos`` the field's offset in the filter
    (for errors). Return None for an unknown field (the compiler reports "unrecognized
    field"); raise :class:`FilterCompileError` for a known field with a bad argument.
    """

    def lookup(self, name: str, arg: str | None, pos: int) -> FieldRef | None: ...


# -- the default resolver: the @field registry ------------------------------------------------

@lru_cache(maxsize=1)
def _event_type_names() -> frozenset[str]:
    """Names ``evt.type`` may be compared with: event and syscall names, current and those
    of sysdig 0.29.3 (sinsp's ``validate_filter_value`` for ``evt.type``)."""
    from scapkit.scapfile.event_table import EVENTS, NUM_EVENTS, sysdig_029_event_info
    from scapkit.scapfile.syscall_names import SYSCALL_INFO, SYSCALL_NAMES, \
        sysdig_029_syscall_name

    names = {e.name for e in EVENTS} | set(SYSCALL_NAMES)
    for code in range(NUM_EVENTS):
        info = sysdig_029_event_info(code)
        if info is not None:
            names.add(info.name)
    for code in range(len(SYSCALL_INFO)):
        name = sysdig_029_syscall_name(code)
        if name is not None:
            names.add(name)
    names.discard("NA")  # unused slots of the event table
    return frozenset(names)


def check_event_type(text: str) -> None:
    if text not in _event_type_names():
        raise ValueError(f"unknown event type {text}")


#: Value checks of particular fields, for registry fields that declare none.
FIELD_VALIDATORS: dict[str, Callable[[str], None]] = {"evt.type": check_event_type}


class FieldsResolver:
    """:class:`FieldResolver` over the ``@field`` registry (:mod:`scapkit.inspect.fields`).

    A registry field is used as declared (``name``, ``type``, ``extract``). Optional
    attributes let the registry grow without changes here:

    - ``bind(arg: str | None[, options]) -> extractor``: the field takes an argument,
      written ``field[arg]`` or ``field.arg`` (``evt.arg[1]``, ``evt.arg.fd``,
      ``proc.aname[2]``), or depends on the session's rendering options (``evt.info``);
      raise ValueError for a bad or missing argument. Fields without ``bind`` take no
      argument. The extractor may carry ``field_type`` (its type, when the argument
      decides it: ``evt.rawarg.*``), ``multi`` and ``predicate`` (see :class:`FieldRef`).
    - ``multi`` (bool), ``validate(text)``, ``ops``: as in :class:`FieldRef`.
    - ``arg_syntax``: ``"bracket"`` or ``"dot"`` when only ``field[arg]`` or only
      ``field.arg`` is accepted (sysdig refuses the other form); ``"raw"`` when the two
      forms mean different things: ``bind`` then gets ``[arg]`` or ``.arg``.

    ``options`` (a :class:`~scapkit.inspect.render.RenderOptions`) is passed to ``bind``;
    by default, the registry's fields get the library defaults for filtering.

    Names are matched as sysdig does: the longest registered name that prefixes the text,
    which must then be the whole text, or be followed by ``.arg`` for a field with ``bind``.
    """

    def __init__(self, fields: Mapping[str, Any] | None = None, options: Any = None) -> None:
        from scapkit.inspect.fields import FIELDS

        self._fields = FIELDS if fields is None else fields
        if options is None and fields is None:
            from scapkit.inspect.render import DEFAULT_OPTIONS

            options = DEFAULT_OPTIONS.for_filter()
        self._options = options

    def _longest_prefix(self, name: str) -> Any:
        from scapkit.inspect.fields import FIELDS, match_field

        if self._fields is FIELDS:
            return match_field(name)
        best = None
        for fname, f in self._fields.items():
            if name.startswith(fname) and (best is None or len(fname) > len(best.name)):
                best = f
        return best

    def lookup(self, name: str, arg: str | None, pos: int) -> FieldRef | None:
        f = self._fields.get(name)
        dotted = f is None
        if f is None:
            f = self._longest_prefix(name)
            if (f is None or getattr(f, "bind", None) is None or arg is not None
                    or name[len(f.name):len(f.name) + 1] != "." or len(name) == len(f.name) + 1):
                return None
            arg = name[len(f.name) + 1:]
        syntax = getattr(f, "arg_syntax", "any")
        if arg is not None and syntax == ("bracket" if dotted else "dot"):
            raise FilterCompileError(f"filter syntax error: {name}", pos)
        if arg is not None and syntax == "raw":
            arg = "." + arg if dotted else f"[{arg}]"
        bind = getattr(f, "bind", None)
        if bind is not None:
            try:
                extract = bind(arg) if self._options is None else bind(arg, self._options)
            except ValueError as exc:
                raise FilterCompileError(str(exc), pos) from None
        elif arg is not None:
            raise FilterCompileError(f"field {f.name} takes no argument", pos)
        else:
            extract = f.extract
        return FieldRef(
            name=f.name if arg is None else f"{f.name}[{arg}]",
            type=getattr(extract, "field_type", f.type),
            extract=extract,
            multi=bool(getattr(extract, "multi", getattr(f, "multi", False))),
            validate=getattr(f, "validate", None) or FIELD_VALIDATORS.get(f.name),
            ops=getattr(f, "ops", None),
            predicate=getattr(extract, "predicate", None),
        )


# -- public entry points --------------------------------------------------------------------

def _match_all(event: Any) -> bool:
    return True


def compile_filter(text: str, resolver: FieldResolver | None = None) -> Predicate:
    """Compile filter ``text`` into a predicate over events (see the module docstring).

    ``""`` gives a predicate that keeps every event. Raises FilterSyntaxError or
    FilterCompileError (``str()``: "filter error at position N: ...", ``render()`` adds
    the filter and a caret).
    """
    if text == "":
        return _match_all
    node = parse_filter(text)
    try:
        return compile_ast(node, resolver)
    except FilterError as exc:
        raise exc.with_text(text) from None


def compile_ast(node: Node, resolver: FieldResolver | None = None) -> Predicate:
    """Compile a tree from :func:`~.parser.parse_filter`."""
    return _Compiler(resolver if resolver is not None else FieldsResolver()).node(node)


# -- the compiler ---------------------------------------------------------------------------

_SIGNED = {"INT8": 8, "INT16": 16, "INT32": 32, "INT64": 64, "FD": 64, "PID": 64, "ERRNO": 64}
_UNSIGNED = {
    "UINT8": 8, "FLAGS8": 8, "ENUMFLAGS8": 8, "SIGTYPE": 8, "L4PROTO": 8,
    "UINT16": 16, "FLAGS16": 16, "ENUMFLAGS16": 16, "SYSCALLID": 16,
    "UINT32": 32, "FLAGS32": 32, "ENUMFLAGS32": 32, "MODE": 32, "UID": 32, "GID": 32,
    "UINT64": 64, "RELTIME": 64, "ABSTIME": 64,
}
_STRINGS = frozenset({"CHARBUF", "FSPATH", "FSRELPATH"})
_ADDRS: dict[str, Callable[[str], Any]] = {
    "IPV4ADDR": V.parse_ipv4, "IPV6ADDR": V.parse_ipv6, "IPADDR": V.parse_ip}
_NETS: dict[str, Callable[[str], Any]] = {
    "IPV4NET": V.parse_ipv4_net, "IPV6NET": V.parse_ipv6_net, "IPNET": V.parse_net}

_ORDER_OPS = frozenset({"<", "<=", ">", ">="})
_NUMERIC_OPS = frozenset({"=", "!=", "in", "intersects"}) | _ORDER_OPS
_STRING_OPS = _NUMERIC_OPS | {"contains", "icontains", "startswith", "endswith", "glob",
                              "iglob", "regex", "pmatch"}
_BUFFER_OPS = frozenset({"=", "!=", "contains", "startswith", "endswith", "in", "intersects",
                         "bcontains", "bstartswith"})
_IP_OPS = frozenset({"=", "!=", "in", "intersects"})


def _type_name(t: str) -> str:
    t = t.upper()
    return t[3:] if t.startswith("PT_") else t


def _family(t: str) -> tuple[str, frozenset[str], str]:
    """(family, operators it takes, noun for messages) of a sysdig type name."""
    if t in _SIGNED or t in _UNSIGNED or t in ("PORT", "BOOL", "DOUBLE"):
        return "number", _NUMERIC_OPS, "numeric"
    if t in _STRINGS:
        return "string", _STRING_OPS, "string"
    if t == "BYTEBUF":
        return "buffer", _BUFFER_OPS, "buffer"
    if t in _ADDRS or t in _NETS:
        return "ip", _IP_OPS, "IP address and network"
    return "none", frozenset(), ""


def _order_test(op: str, v: Any) -> Callable[[Any], bool]:
    if op == "<":
        return lambda x: x < v
    if op == "<=":
        return lambda x: x <= v
    if op == ">":
        return lambda x: x > v
    return lambda x: x >= v


def _eq_tests(op: str, parsed: Sequence[Any]) -> Callable[[Any], bool]:
    if op in ("in", "intersects"):
        members = frozenset(parsed)
        return lambda x: x in members
    (v,) = parsed
    if op == "=":
        return lambda x: x == v
    if op == "!=":
        return lambda x: x != v
    return _order_test(op, v)


class _Compiler:
    def __init__(self, resolver: FieldResolver) -> None:
        self.resolver = resolver

    def node(self, node: Node) -> Predicate:
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Not):
            child = self.node(node.child)
            return lambda ev: not child(ev)
        if isinstance(node, And):
            preds = tuple(self.node(c) for c in node.children)
            if len(preds) == 2:
                a, b = preds
                return lambda ev: a(ev) and b(ev)

            def all_of(ev: Any) -> bool:
                for p in preds:
                    if not p(ev):
                        return False
                return True

            return all_of
        if isinstance(node, Or):
            preds = tuple(self.node(c) for c in node.children)
            if len(preds) == 2:
                a, b = preds
                return lambda ev: a(ev) or b(ev)

            def any_of(ev: Any) -> bool:
                for p in preds:
                    if p(ev):
                        return True
                return False

            return any_of
        raise TypeError(f"not a filter node: {node!r}")

    # -- one check --------------------------------------------------------------------------

    def compare(self, node: Compare) -> Predicate:
        ref = self.resolver.lookup(node.field, node.arg, node.pos)
        if ref is None:
            raise FilterCompileError(f"unrecognized field {node.field_text}", node.pos)
        if ref.predicate is not None:
            return ref.predicate(node)
        op = "=" if node.op == "==" else node.op
        t = _type_name(ref.type)
        family, allowed, noun = _family(t)
        if ref.ops is not None and op not in ref.ops and node.op not in ref.ops:
            raise FilterCompileError(
                f"'{node.op}' not supported by field {ref.name}", node.op_pos)
        extract = ref.extract
        if op == "exists":
            if ref.multi:
                return lambda ev: bool(extract(ev))
            return lambda ev: extract(ev) is not None
        if family == "none":
            raise FilterCompileError(
                f"field {ref.name} has type {t}, which filters cannot compare", node.pos)
        if op not in allowed:
            if op == "pmatch":
                raise FilterCompileError("pmatch requires all charbuf arguments", node.op_pos)
            raise FilterCompileError(f"'{node.op}' not supported for {noun} filters", node.op_pos)
        vals: tuple[Value, ...] = node.values if node.values is not None else (node.value,)  # type: ignore[assignment]
        if ref.validate is not None:
            for v in vals:
                try:
                    ref.validate(v.text)
                except ValueError as exc:
                    raise FilterCompileError(str(exc), v.pos) from None
        try:
            if family == "number":
                norm, test = self.numbers(t, op, vals)
            elif family == "string":
                norm, test = self.strings(op, vals)
            elif family == "buffer":
                norm, test = self.buffers(op, vals)
            else:
                norm, test = self.ips(t, op, vals)
        except _BadValue as exc:
            raise FilterCompileError(exc.message, exc.pos) from None
        return _predicate(extract, norm, test, ref.multi, op == "!=")

    @staticmethod
    def _parse_all(parse: Callable[[str], Any], vals: Sequence[Value]) -> list[Any]:
        out = []
        for v in vals:
            try:
                out.append(parse(v.text))
            except ValueError as exc:
                raise _BadValue(str(exc), v.pos) from None
        return out

    def numbers(self, t: str, op: str, vals: Sequence[Value]) -> tuple[Any, Callable[[Any], bool]]:
        if t in _SIGNED:
            bits = _SIGNED[t]
            parse: Callable[[str], Any] = lambda s: V.parse_c_int(s, True, bits)  # noqa: E731
        elif t in _UNSIGNED:
            ubits = _UNSIGNED[t]
            parse = lambda s: V.parse_c_int(s, False, ubits)  # noqa: E731
        elif t == "PORT":
            parse = V.parse_port
        elif t == "BOOL":
            parse = V.parse_bool
        else:
            parse = V.parse_double
        return None, _eq_tests(op, self._parse_all(parse, vals))

    def strings(self, op: str, vals: Sequence[Value]) -> tuple[Any, Callable[[Any], bool]]:
        texts = [v.text.split("\0", 1)[0] for v in vals]  # C strings
        if op in ("in", "intersects"):
            members = frozenset(texts)
            return _to_str, lambda x: x in members
        if op == "pmatch":
            return _to_str, V.PathPrefixSet(texts).match
        (s,) = texts
        if op == "=":
            return _to_str, lambda x: x == s
        if op == "!=":
            return _to_str, lambda x: x != s
        if op == "contains":
            return _to_str, lambda x: s in x
        if op == "icontains":
            folded = V.ascii_lower(s)
            lower = V.ascii_lower
            return _to_str, lambda x: folded in lower(x)
        if op == "startswith":
            return _to_str, lambda x: x.startswith(s)
        if op == "endswith":
            return _to_str, lambda x: x.endswith(s)
        if op in ("glob", "iglob"):
            match = V.glob_matcher(V.encode(s), casefold=op == "iglob")
            enc = V.encode
            return _to_str, lambda x: match(enc(x))
        if op == "regex":
            try:
                rx = re.compile(s)
            except (re.error, RecursionError, OverflowError) as exc:
                raise _BadValue(f"invalid regex pattern: {exc}", vals[0].pos) from None
            full = rx.fullmatch
            return _to_str, lambda x: full(x) is not None
        # < <= > >=: strcmp order, i.e. of the UTF-8 bytes
        test = _order_test(op, V.encode(s))
        enc = V.encode
        return _to_str, lambda x: test(enc(x))

    def buffers(self, op: str, vals: Sequence[Value]) -> tuple[Any, Callable[[Any], bool]]:
        if op in ("bcontains", "bstartswith"):
            raw = self._parse_all(V.unhex, vals)
        else:
            raw = [v.as_bytes() for v in vals]
        if op in ("in", "intersects"):
            members = frozenset(raw)
            return V.to_bytes, lambda x: x in members
        (b,) = raw
        if op == "=":
            return V.to_bytes, lambda x: x == b
        if op == "!=":
            return V.to_bytes, lambda x: x != b
        if op in ("contains", "bcontains"):
            return V.to_bytes, lambda x: b in x
        if op in ("startswith", "bstartswith"):
            return V.to_bytes, lambda x: x.startswith(b)
        return V.to_bytes, lambda x: x.endswith(b)

    def ips(self, t: str, op: str, vals: Sequence[Value]) -> tuple[Any, Callable[[Any], bool]]:
        if t in _ADDRS:
            return V.to_ip, _eq_tests(op, self._parse_all(_ADDRS[t], vals))
        nets = tuple(self._parse_all(_NETS[t], vals))
        if op == "!=":
            (net,) = nets
            return V.to_ip, lambda x: x not in net
        if len(nets) == 1:
            (net,) = nets
            return V.to_ip, lambda x: x in net
        return V.to_ip, lambda x: any(x in n for n in nets)


class _BadValue(Exception):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def _to_str(x: Any) -> str:
    return x if type(x) is str else V.to_str(x)


def _predicate(extract: Extractor, norm: Callable[[Any], Any] | None,
               test: Callable[[Any], bool], multi: bool, all_differ: bool) -> Predicate:
    """Wrap a value test: false when the field is absent; for list values, any value
    matching (all differing for ``!=``)."""
    if not multi:
        if norm is None:
            def single(ev: Any) -> bool:
                x = extract(ev)
                return x is not None and test(x)
            return single
        if norm is _to_str:
            def single_str(ev: Any) -> bool:
                x = extract(ev)
                if x is None:
                    return False
                return test(x if type(x) is str else V.to_str(x))
            return single_str

        def single_norm(ev: Any) -> bool:
            x = extract(ev)
            if x is None:
                return False
            y = norm(x)
            return y is not None and test(y)
        return single_norm

    conv = norm if norm is not None else (lambda x: x)

    def each(xs: Any) -> list[Any]:
        return [y for y in map(conv, xs) if y is not None]

    if all_differ:
        def every(ev: Any) -> bool:
            xs = extract(ev)
            if not xs:
                return False
            ys = each(xs)
            return bool(ys) and all(test(y) for y in ys)
        return every

    def some(ev: Any) -> bool:
        xs = extract(ev)
        if not xs:
            return False
        return any(test(y) for y in each(xs))
    return some


__all__ = [
    "FieldRef", "FieldResolver", "FieldsResolver", "FIELD_VALIDATORS", "Predicate",
    "check_event_type", "compile_ast", "compile_filter",
]
