"""``span.*`` and ``evtin.*`` fields: tracers (spans marked by writes to ``/dev/null``).

Semantics of sysdig 0.29.3 (libs e5c53d64, ``sinsp_filter_check_tracer`` and
``sinsp_filter_check_evtin``), on the tracer events and open spans of
:mod:`scapkit.inspect.state.tracers`:

* ``span.*`` have values on tracer events only. ``span.id``, ``span.ntags``,
  ``span.tags`` and ``span.tag[N]`` describe the tracer itself; the others need its span
  (the one an enter tracer opened, or the one an exit tracer closed; none for an exit
  that matched no open span), and turn span tracking on: ``span.nargs`` (which does
  not) has no value unless another field of a session does. ``span.time`` is the
  tracer's own time; ``span.args``/``span.arg`` are the tracer's arguments, the
  ``enter`` ones those of the span's enter tracer; ``span.duration`` is exit minus enter.
* ``evtin.*`` describe the open span an event happens in: in ``-p``, the newest open
  span that qualifies; in filters, any open span (and for an exit tracer, the span it
  closed; an enter tracer is not in its own span). ``evtin.span.X`` needs the event's
  thread to be the span's; ``.p.`` asks the same of a span whose thread still exists
  (sysdig compares thread ids there too); ``.s.`` a span whose thread's process is the
  event thread's parent; ``.m.`` any span. ``-p`` shows nothing for tracer events and for
  threads that never wrote a tracer. ``evtin.span.tag.NAME`` and ``evtin.span.arg.NAME``
  accept only event argument names, and then give the last tag or argument.

Arguments are ``[N]`` (negative: from the end) or, for ``span.arg`` and
``span.enterarg``, ``.NAME``, which in ``-p`` takes the whole rest of the format.

The hidden fields of csysdig's span views (``span.count``, ``span.count.fortag[N]``,
``span.childcount.fortag[N]``, ``span.duration.fortag[N]``, ``span.duration.quantized``,
``span.idtag[N]``, ``span.rawtime``, ``span.rawparenttime``) follow sinsp too: a ``.NAME``
argument of the ``fortag`` ones is a tag count of -1000000, and the parent span that
``span.rawparenttime`` looks for has the span's tags but the last only when there are at
most two of them (sinsp's offset into the packed tags forgets the separators).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any


from .fields import FIELDS, field, field_class, match_field
from . import fields_evt as _evt  # (attributes read at use: it may be loading)
from .filter.ast import And, Compare, Node, Not, Or
from .filter.values import parse_c_int
from .render import RenderOptions
from .state.paths import to_text
from .state.tracers import TRACER_E, TRACER_X, PartialTracer, TracerParser

if TYPE_CHECKING:
    from .state.engine import EventContext

__all__ = ["TRACKING_FIELDS", "needs_span_tracking", "session_tracks_spans"]

_TRACERS = frozenset({TRACER_E, TRACER_X})
#: Fields that make sysdig track spans (``request_tracer_state_tracking``).
TRACKING_FIELDS = frozenset({"span.time", "span.args", "span.arg", "span.enterargs",
                             "span.enterarg", "span.duration", "span.duration.human",
                             "span.duration.quantized", "span.duration.fortag", "span.idtag",
                             "span.rawtime", "span.rawparenttime"})


def needs_span_tracking(names: Iterable[str]) -> bool:
    """True when one of these registry fields needs spans tracked."""
    return any(n in TRACKING_FIELDS or n.startswith("evtin.") for n in names)


def filter_field_names(node: Node) -> list[str]:
    """The registry names of the fields a parsed filter uses."""
    if isinstance(node, Compare):
        f = FIELDS.get(node.field) or match_field(node.field)
        return [] if f is None else [f.name]
    if isinstance(node, Not):
        return filter_field_names(node.child)
    assert isinstance(node, (And, Or))
    return [n for child in node.children for n in filter_field_names(child)]


# -- arguments ------------------------------------------------------------------------------------


def _bracket(text: str) -> tuple[str, int] | None:
    """``[N]``, kept with its brackets."""
    if not text.startswith("["):
        return None
    end = text.find("]")
    return None if end < 0 else (text[:end + 1], end + 1)


def _bracket_or_rest(text: str) -> tuple[str, int] | None:
    """``[N]``, or ``.NAME`` taking everything after the dot."""
    if text.startswith("."):
        return text, len(text)
    return _bracket(text)


def _bracket_or_param(text: str) -> tuple[str, int] | None:
    """``[N]``, or ``.NAME`` where NAME is the longest event argument name it starts with."""
    if text.startswith("."):
        name = _evt._longest_param(text[1:])
        return None if name is None else ("." + name, len(name) + 1)
    return _bracket(text)


def _index(arg: str) -> int:
    """The number of a ``[N]`` argument (sysdig reads it as a C ``int32``)."""
    return parse_c_int(arg[1:-1], True, 32)


def _pick(items: list[bytes], index: int) -> bytes | None:
    if index < 0:
        index += len(items)
        if index < 0:
            return None
    return items[index] if index < len(items) else None


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else to_text(raw)


# -- span -----------------------------------------------------------------------------------------


def _parser(ctx: EventContext) -> TracerParser | None:
    if ctx.event.type not in _TRACERS:
        return None
    return ctx.engine.tracers.parser(ctx.thread)


def _span(ctx: EventContext) -> tuple[TracerParser, PartialTracer] | None:
    """The tracer's parser and span, for the fields that need the span."""
    parser = _parser(ctx)
    if parser is None or parser.enter is None:
        return None
    return parser, parser.enter


def _own(ctx: EventContext, parser: TracerParser, span: PartialTracer) -> PartialTracer:
    """The record of this tracer's own arguments: the span's for an enter tracer."""
    return span if ctx.event.type == TRACER_E else parser.exit


def _args_text(span: PartialTracer, sep: str) -> str:
    return ",".join(to_text(n) + sep + to_text(v) for n, v in zip(span.argnames, span.argvals))


def _arg_of(span: PartialTracer, arg: str) -> bytes | None:
    if arg.startswith("."):
        name = arg[1:].encode("utf-8", "surrogateescape")
        for n, v in zip(span.argnames, span.argvals):
            if n == name:
                return v
        return None
    return _pick(span.argvals, _index(arg))


field_class("span", "span", "", "Tracers: spans a program marks by writing to /dev/null "
            "(>:ID:TAGS:ARGS:: opens a span, <:ID:TAGS:: closes it); values on tracer "
            "events.")


@field("span.id", "INT64", "the span's ID, shared by its enter and exit tracers", fmt="ID")
def span_id(ctx: EventContext) -> int | None:
    parser = _parser(ctx)
    return None if parser is None else parser.id


@field("span.time", "CHARBUF", "time of day of the tracer, with nanoseconds")
def span_time(ctx: EventContext) -> str | None:
    return None if _span(ctx) is None else _evt.time_of_day(ctx.event.ts, False, True)


@field("span.ntags", "UINT32", "number of tags of the tracer", fmt="DEC")
def span_ntags(ctx: EventContext) -> int | None:
    parser = _parser(ctx)
    return None if parser is None else len(parser.tags)


@field("span.nargs", "UINT32", "number of arguments of the span's enter tracer (only when "
       "another field of the session tracks spans)", fmt="DEC")
def span_nargs(ctx: EventContext) -> int | None:
    parser = _parser(ctx)
    if parser is None or parser.enter is None:
        return None
    return len(parser.enter.argvals)


@field("span.tags", "CHARBUF", "the tracer's tags, joined with dots")
def span_tags(ctx: EventContext) -> str | None:
    parser = _parser(ctx)
    if parser is None:
        return None
    # sysdig copies each tag by its parsed length: an invalid tracer's message is cut to
    # the length of the first tag of the failed parse.
    out = []
    for i, tag in enumerate(parser.tags):
        n = parser.taglens[i] if i < len(parser.taglens) else len(tag)
        if n > len(tag):
            out.append(tag)  # (the copy reaches the end of the text)
            break
        out.append(tag[:n])
    return to_text(b".".join(out))


@field("span.tag", "CHARBUF", "one tag of the tracer: span.tag[0] the first, span.tag[-1] "
       "the last", arg="required", parse_arg=_bracket, arg_syntax="raw", maker=True)
def span_tag(arg: str | None, options: RenderOptions) -> Callable[[Any], str | None]:
    if arg is None or not arg.startswith("["):
        raise ValueError("invalid syntax for span.tag")
    index = _index(arg)

    def extract(ctx: EventContext) -> str | None:
        parser = _parser(ctx)
        return None if parser is None else _text(_pick(parser.tags, index))
    return extract


@field("span.args", "CHARBUF", "the tracer's arguments as name=value, comma-separated")
def span_args(ctx: EventContext) -> str | None:
    found = _span(ctx)
    if found is None:
        return None
    return _args_text(_own(ctx, *found), "=")


def _span_arg(own: bool) -> Callable[[str | None, RenderOptions], Callable[[Any], str | None]]:
    def make(arg: str | None, options: RenderOptions) -> Callable[[Any], str | None]:
        assert arg is not None
        if arg.startswith("["):
            _index(arg)  # ValueError: not a number

        def extract(ctx: EventContext) -> str | None:
            found = _span(ctx)
            if found is None:
                return None
            parser, span = found
            return _text(_arg_of(_own(ctx, parser, span) if own else span, arg))
        return extract
    return make


field("span.arg", "CHARBUF", "one argument of the tracer, by name (span.arg.NAME) or "
      "number (span.arg[0], span.arg[-1] the last)", arg="required",
      parse_arg=_bracket_or_rest, arg_syntax="raw", maker=True)(_span_arg(True))


@field("span.enterargs", "CHARBUF", "the arguments of the span's enter tracer as "
       "name=value, comma-separated")
def span_enterargs(ctx: EventContext) -> str | None:
    found = _span(ctx)
    return None if found is None else _args_text(found[1], "=")


field("span.enterarg", "CHARBUF", "one argument of the span's enter tracer, by name or "
      "number (as span.arg)", arg="required", parse_arg=_bracket_or_rest, arg_syntax="raw",
      maker=True)(_span_arg(False))


def _duration(ctx: EventContext) -> int | None:
    found = _span(ctx)
    if found is None or ctx.event.type != TRACER_X:
        return None
    parser, span = found
    d = parser.exit.time - span.time
    return d if d > 0 else 0


@field("span.duration", "RELTIME", "on exit tracers, the time since the span's enter "
       "tracer (ns)", fmt="DEC")
def span_duration(ctx: EventContext) -> int | None:
    return _duration(ctx)


@field("span.duration.quantized", "UINT64", "span.duration quantized for csysdig's views "
       "(as evt.latency.quantized)", fmt="DEC", hidden=True)
def span_duration_quantized(ctx: EventContext) -> int | None:
    d = _duration(ctx)
    return None if d is None else _evt.quantized(d)


@field("span.duration.human", "CHARBUF", "span.duration as text, e.g. 10.3ms")
def span_duration_human(ctx: EventContext) -> str | None:
    d = _duration(ctx)
    return None if d is None else _evt.human_time(d)


# -- the fields of csysdig's span views (hidden) -----------------------------------------------

#: The number sinsp gives a ``.NAME`` argument of these fields (``TEXT_ARG_ID``).
_TEXT_ARG_ID = -1000000


def _ntags_arg(arg: str | None) -> int:
    """The tag count of a ``[N]`` argument; a ``.NAME`` one counts as sinsp's text id."""
    assert arg is not None
    return _index(arg) if arg.startswith("[") else _TEXT_ARG_ID


def _int32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


@field("span.duration.fortag", "RELTIME", "span.duration of the spans with N+1 tags "
       "(span.duration.fortag[N])", fmt="DEC", arg="required", parse_arg=_bracket_or_rest,
       arg_syntax="raw", maker=True, hidden=True)
def span_duration_fortag(arg: str | None, options: RenderOptions) -> Callable[[Any], Any]:
    wanted = _ntags_arg(arg)

    def extract(ctx: EventContext) -> int | None:
        found = _span(ctx)
        if found is None or len(found[0].tags) - 1 != wanted:
            return None
        return _duration(ctx)
    return extract


@field("span.count", "UINT64", "1 on exit tracers, 0 on enter tracers (to count spans)",
       fmt="DEC", hidden=True)
def span_count(ctx: EventContext) -> int | None:
    return None if _parser(ctx) is None else int(ctx.event.type == TRACER_X)


def _tag_counter(more: bool) -> Callable[[str | None, RenderOptions], Callable[[Any], Any]]:
    """1 on exit tracers with N+1 tags (``more``: more than N+1), else 0."""
    def make(arg: str | None, options: RenderOptions) -> Callable[[Any], int | None]:
        wanted = _ntags_arg(arg)

        def extract(ctx: EventContext) -> int | None:
            parser = _parser(ctx)
            if parser is None:
                return None
            if ctx.event.type != TRACER_X:
                return 0
            n = len(parser.tags)
            return int(n > _int32(wanted + 1) if more else n - 1 == wanted)
        return extract
    return make


field("span.count.fortag", "UINT64", "1 on exit tracers with N+1 tags "
      "(span.count.fortag[N]), else 0", fmt="DEC", arg="required", parse_arg=_bracket_or_rest,
      arg_syntax="raw", maker=True, hidden=True)(_tag_counter(False))
field("span.childcount.fortag", "UINT64", "1 on exit tracers with more than N+1 tags "
      "(span.childcount.fortag[N]), else 0", fmt="DEC", arg="required",
      parse_arg=_bracket_or_rest, arg_syntax="raw", maker=True, hidden=True)(
    _tag_counter(True))


@field("span.idtag", "CHARBUF", "the span's ID followed by its tag [N] (csysdig's span "
       "list)", arg="required", parse_arg=_bracket, arg_syntax="raw", maker=True, hidden=True)
def span_idtag(arg: str | None, options: RenderOptions) -> Callable[[Any], str | None]:
    if arg is None or not arg.startswith("["):
        raise ValueError("invalid syntax for span.idtag")
    index = _index(arg)

    def extract(ctx: EventContext) -> str | None:
        found = _span(ctx)
        if found is None:
            return None
        parser = found[0]
        tag = _pick(parser.tags, index)
        return str(parser.id) + ("" if tag is None else to_text(tag))
    return extract


@field("span.rawtime", "CHARBUF", "the time of the span's enter tracer, in ns since the "
       "epoch, as text (csysdig's span list)", hidden=True)
def span_rawtime(ctx: EventContext) -> str | None:
    found = _span(ctx)
    return None if found is None else str(found[1].time)


def _parent_prefix(packed: bytes, taglens: int) -> int:
    """How much of a span's packed tags (``tag\\0tag\\0...\\0``) its parent has, as sinsp's
    ``find_parent_enter_pae`` reckons it: up to the last NUL before offset ``taglens``
    (the total length of the tags last parsed; sinsp reads stale memory past the packed
    tags, taken as zeros here)."""
    def at(i: int) -> int:
        return packed[i] if i < len(packed) else 0

    end = taglens
    if at(end) == 0 and end > 0:
        end -= 1
    while end != 0:
        if at(end) == 0:
            return end + 1
        end -= 1
    return 0


@field("span.rawparenttime", "CHARBUF", "span.rawtime of the open span with the same ID "
       "whose tags are this span's but the last (csysdig's span list)", hidden=True)
def span_rawparenttime(ctx: EventContext) -> str | None:
    found = _span(ctx)
    if found is None:
        return None
    parser, span = found
    # (the tag lengths of the last parse: an invalid tracer's message replaced its tags)
    taglens = sum(parser.parsed_taglens)
    n = _parent_prefix(span.packed_tags, taglens)
    prefix = span.packed_tags[:n].ljust(n, b"\0")
    for other in ctx.engine.tracers.spans:
        if (other.id == span.id and n == len(other.packed_tags) - 1
                and other.packed_tags[:n] == prefix):
            return str(other.time)
    return None


# -- evtin ----------------------------------------------------------------------------------------


def _in_scope(scope: str, ctx: EventContext, span: PartialTracer) -> bool:
    t = ctx.thread
    assert t is not None
    if scope == "m":
        return True
    if scope == "":
        return span.tid == t.tid
    owner = ctx.engine.threads.get(span.tid)
    if owner is None:
        return False
    return owner.tid == t.tid if scope == "p" else owner.pid == t.ptid


def _evtin_value(kind: str, arg: str | None) -> Callable[[PartialTracer], Any]:
    if kind == "id":
        return lambda span: span.id
    if kind == "ntags":
        return lambda span: len(span.tags)
    if kind == "nargs":
        return lambda span: len(span.argvals)
    if kind == "tags":
        return lambda span: ".".join(to_text(t) for t in span.tags)
    if kind == "args":
        return lambda span: _args_text(span, ":")
    assert arg is not None
    index = _index(arg) if arg.startswith("[") else -1  # (a name is taken as [-1])
    if kind == "tag":
        return lambda span: _text(_pick(span.tags, index))
    return lambda span: _text(_pick(span.argvals, index))


class _ValueResolver:
    """Resolves any field to the value itself: compiles a check of one span's value."""

    def __init__(self, type: str) -> None:
        from .filter.compiler import FieldRef

        self.ref = FieldRef("value", type, lambda v: v)

    def lookup(self, name: str, arg: str | None, pos: int) -> Any:
        return self.ref


def _evtin(scope: str, kind: str, type: str) -> Callable[[str | None, RenderOptions],
                                                          Callable[[Any], Any]]:
    def make(arg: str | None, options: RenderOptions) -> Callable[[Any], Any]:
        if arg is not None and arg.startswith(".") and _evt._longest_param(arg[1:]) != arg[1:]:
            raise ValueError(f"unknown event argument {arg[1:]}")
        value = _evtin_value(kind, arg)

        def of(ctx: EventContext, span: PartialTracer) -> Any:
            return value(span) if _in_scope(scope, ctx, span) else None

        def extract(ctx: EventContext) -> Any:
            tracers = ctx.engine.tracers
            if ctx.event.type in _TRACERS or tracers.parser(ctx.thread) is None:
                return None
            for span in tracers.spans:
                v = of(ctx, span)
                if v is not None:
                    return v
            return None

        def predicate(node: Compare) -> Callable[[Any], bool]:
            from .filter.compiler import compile_ast

            test = compile_ast(replace(node, field="value", arg=None), _ValueResolver(type))

            def accept(ctx: EventContext) -> bool:
                if ctx.thread is None:
                    return False
                tracers = ctx.engine.tracers
                code = ctx.event.type
                for span in tracers.spans:
                    v = of(ctx, span)
                    if v is not None and test(v):
                        parser = tracers.parser(ctx.thread)
                        return not (code == TRACER_E and parser is not None
                                    and span is parser.enter)
                if code == TRACER_X:
                    parser = tracers.parser(ctx.thread)
                    if parser is None or parser.enter is None:
                        return False
                    v = of(ctx, parser.enter)
                    return v is not None and test(v)
                return False
            return accept

        extract.predicate = predicate  # type: ignore[attr-defined]
        return extract
    return make


field_class("evtin", "evtin", "", "The open span (tracer) an event happens in.")

_SCOPES = {"": "spans of the event's thread",
           "p": "as evtin.span.*, for spans whose thread still exists",
           "s": "spans whose thread's process is the parent of the event's thread",
           "m": "any open span"}
for _scope, _what in _SCOPES.items():
    _prefix = "evtin.span." + (_scope + "." if _scope else "")
    for _kind, _type, _fmt, _doc in (
            ("id", "INT64", "ID", "ID"), ("ntags", "UINT32", "DEC", "number of tags"),
            ("nargs", "UINT32", "DEC", "number of arguments"),
            ("tags", "CHARBUF", "NA", "tags, joined with dots"),
            ("tag", "CHARBUF", "NA", "tag [N]"),
            ("args", "CHARBUF", "NA", "arguments as name:value, comma-separated"),
            ("arg", "CHARBUF", "NA", "argument [N]")):
        _arg = _kind in ("tag", "arg")
        field(f"{_prefix}{_kind}", _type, f"the {_doc} of the open span the event is in "
              f"({_what})", fmt=_fmt, arg="required" if _arg else "none",
              parse_arg=_bracket_or_param if _arg else None,
              arg_syntax="raw" if _arg else "any", maker=True)(_evtin(_scope, _kind, _type))


def session_tracks_spans(fmt: Any, filter_text: str) -> bool:
    """Whether sysdig would track spans for this ``-p`` format (an
    :class:`~scapkit.inspect.format.EventFormat`) and filter."""
    from .filter.parser import parse_filter

    names = [t.field.name for t in fmt.tokens if t.field is not None]
    if filter_text:
        names += filter_field_names(parse_filter(filter_text))
    return needs_span_tracking(names)
