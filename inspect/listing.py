"""The event listing of ``scap read``: sysdig's ``-r FILE [FILTER] [-p FORMAT] [-j]`` loop.

Every event goes through one :class:`~scapkit.inspect.state.engine.StateEngine`. sysdig's
read loop receives an event when the filter accepts it and it is not state-only; with
``debug`` (``-D``) it also receives internal events the filter refused. Of those it shows
the ones that are not internal (unless ``debug``), and ``count`` stops after that many
received events, internal ones included, as ``sysdig -n``.

Where the filter runs decides what the state sees:

* by default it is sysdig's capture filter, given to the engine so that it applies where
  sinsp applies it (:meth:`~scapkit.inspect.state.engine.StateEngine.process`): a refused
  event that changes no state is not parsed, and the exit of a refused enter has no fd;
* with ``display_filter`` (``-d``) every event is parsed, every event is received, and the
  filter only decides, after the line was formatted, whether it is printed.

``quiet`` (``-q``) prints no event; ``summary`` (``-S``) counts the received events
(:class:`~.summary_table.EventSummary`). A ``window`` (``--since``/``--until``) keeps the
events with a timestamp in ``[lo, hi)``: earlier ones are still parsed (the state is that of
the whole capture) but neither shown, counted nor summarised, and reading stops at the
first event at or past ``hi`` (captures are written in timestamp order).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

from scapkit.scapfile.event_table import EC, EF, PT, SYSDIG_029_NUM_EVENTS, sysdig_029_event_info
from scapkit.scapfile.events import RawEvent
from scapkit.scapfile.reader import CaptureReader

from .format import DEFAULT_FORMAT, EventFormat
from .render import RenderOptions
from .state.engine import CONTAINER_JSON, StateEngine

if TYPE_CHECKING:
    from .summary_table import EventSummary
    from .timerange import TimeWindow

# The field registry (inspect.fields: tens of milliseconds to import) is imported only
# when something needs it: a format other than the default, a filter on fields the C
# read engine does not know (fastfilter.compile_light), an event the Python engine
# renders, -l. A plain ``scap read`` never does.

__all__ = ["Listing", "list_events", "list_fields"]


@dataclass
class Listing:
    """A compiled listing: output format, filter and options (compile errors raise here).

    Raises :class:`~.format.FormatSyntaxError` for a bad format and
    :class:`~.filter.errors.FilterError` for a bad filter.
    """

    fmt: str = DEFAULT_FORMAT
    filter_text: str = ""
    options: RenderOptions = RenderOptions(max_len=80)
    debug: bool = False
    count: int = 0
    #: ``-d``: the filter decides what is printed, after every event was parsed.
    display_filter: bool = False
    #: ``-q``: print no event (a summary still counts them).
    quiet: bool = False

    def __post_init__(self) -> None:
        from scapkit.inspect.visibility import hidden_by_default

        self._hidden = hidden_by_default
        # (the default format always compiles: built when first used)
        self._format = None if self.fmt == DEFAULT_FORMAT else EventFormat(self.fmt,
                                                                            self.options)
        text = self.filter_text
        self.accept = None
        light = True
        if text:
            from .fastfilter import compile_light

            self.accept = compile_light(text)
            if self.accept is None:
                from .filter.compiler import FieldsResolver, compile_filter

                light = False
                self.accept = compile_filter(
                    text, FieldsResolver(options=self.options.for_filter()))
        # Neither the default format nor the fields compile_light knows need spans.
        self._track_spans: bool | None = (False if light and self.fmt == DEFAULT_FORMAT
                                          else None)

    @property
    def format(self) -> EventFormat:
        """The compiled output format."""
        if self._format is None:
            self._format = EventFormat(self.fmt, self.options)
        return self._format

    @property
    def track_spans(self) -> bool:
        """Whether the session tracks tracer spans (as sysdig: a field needs them)."""
        if self._track_spans is None:
            from .fields_span import session_tracks_spans

            self._track_spans = session_tracks_spans(self.format, self.filter_text)
        return self._track_spans

    def lines(self, reader: CaptureReader, *, summary: EventSummary | None = None,
              window: TimeWindow | None = None) -> Iterator[str]:
        """The output lines for the events of ``reader`` (read as they are needed).

        ``summary`` counts the events received; ``window`` is resolved here (a bound
        counted from the first event on the first event that is not a container event;
        ``window.last_ts`` must be set for a bound counted back from the last).
        """
        engine = StateEngine(reader)
        engine.tracers.track = self.track_spans  # as sysdig, only when a field needs spans
        if summary is None and window is None and not self.display_filter and not self.quiet:
            from .fastread import fast_lines  # the C engine, when it can do this listing

            fast = fast_lines(self, reader, engine)
            if fast is not None:
                yield from fast
                return
        display = self.display_filter
        accept = None if display else self.accept
        shown = self.accept if display else None
        render = self.format.render_json if self.options.json else self.format.render
        hidden = self._hidden
        debug, count, quiet = self.debug, self.count, self.quiet
        events: Iterator[RawEvent] = reader.events()
        lo = hi = None
        if window is not None:
            if window.needs_first_event:
                events = _resolve_on_first(events, window)
            else:
                window.resolve(None)
            lo, hi = window.lo, window.hi
        seen = 0
        for ev in events:
            if hi is not None and ev.ts >= hi and ev.type not in CONTAINER_JSON:
                return
            ctx = engine.process(ev, accept)
            # Refused and state-only events stay inside sinsp, except internal ones with -D.
            if (ctx.filtered_out or ctx.hidden) and not (debug and hidden(ev.type)):
                continue
            if lo is not None and ev.ts < lo:
                continue
            seen += 1
            if summary is not None:
                summary.add(ctx.event)  # (a tracer write counts as a tracer)
            if not quiet and (debug or not hidden(ev.type)):
                line = render(ctx)
                if line is not None and (shown is None or shown(ctx)):
                    yield line
            if count and seen >= count:
                return


def _resolve_on_first(events: Iterator[RawEvent], window: TimeWindow) -> Iterator[RawEvent]:
    """Resolve ``window`` on the first event that is not a container event (the origin of
    ``evt.reltime``), reading ahead up to it; return the events, from the first again."""
    head: list[RawEvent] = []
    for ev in events:
        head.append(ev)
        if ev.type not in CONTAINER_JSON:
            break
    window.resolve(head[-1].ts if head else None)
    return chain(head, events)


_TYPE_NAMES = {PT.DYN: "DYNAMIC"}


def list_events() -> Iterator[str]:
    """``-L``: the events sysdig 0.29.3 knows, as ``sysdig -L`` lists them."""
    for code in range(SYSDIG_029_NUM_EVENTS):
        e = sysdig_029_event_info(code)
        assert e is not None
        if e.flags & (EF.UNUSED | EF.OLD_VERSION) or e.category & EC.INTERNAL:
            continue
        params = ", ".join(f"{_TYPE_NAMES.get(p.type, p.type.name)} {p.name}" for p in e.params)
        yield f"{e.direction} {e.name}({params})"


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return lines


def list_fields(verbose: bool = False) -> Iterator[str]:
    """``-l``: every field by class, with its description (``verbose``: and its type);
    hidden fields are left out, as sysdig leaves out its table-only ones."""
    from .fields import CLASSES, FIELDS

    pad = " " * 30
    for klass in CLASSES.values():
        yield "-------------------------------"
        title = f" ({klass.title})" if klass.title else ""
        yield f"{'Field Class:':<30}{klass.name}{title}"
        doc = _wrap(klass.doc, 90)
        yield f"{'Description:':<30}{doc[0]}"
        for more in doc[1:]:
            yield pad + more
        yield ""
        for name in klass.fields:
            f = FIELDS[name]
            if f.hidden:
                continue
            doc_text = f.doc if not verbose else f"({f.type}) {f.doc}"
            wrapped = _wrap(doc_text, 90)
            yield f"{name:<30}{wrapped[0]}" if len(name) < 30 else f"{name} {wrapped[0]}"
            for more in wrapped[1:]:
                yield pad + more
        yield ""
