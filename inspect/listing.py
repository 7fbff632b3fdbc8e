"""The event listing of ``scap read``: sysdig's ``-r FILE [FILTER] [-p FORMAT] [-j]`` loop.

Every event goes through one :class:`~scapkit.inspect.state.engine.StateEngine`, with the
filter given to it so that it applies at the point sysdig's does (see
:meth:`~scapkit.inspect.state.engine.StateEngine.process`). An event is shown when the
filter accepts it, it is not state-only, and it is not internal (unless ``debug``);
``count`` stops after that many accepted events, internal ones included, as ``sysdig -n``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from scapkit.scapfile.event_table import EC, EF, PT, SYSDIG_029_NUM_EVENTS, sysdig_029_event_info
from scapkit.scapfile.reader import CaptureReader

from .fields import CLASSES, FIELDS
from .filter.compiler import FieldsResolver, compile_filter
from .format import DEFAULT_FORMAT, EventFormat
from .render import RenderOptions
from .state.engine import StateEngine

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

    def __post_init__(self) -> None:
        from scapkit.inspect.visibility import hidden_by_default

        self._hidden = hidden_by_default
        self.format = EventFormat(self.fmt, self.options)
        text = self.filter_text
        self.accept = (compile_filter(text, FieldsResolver(options=self.options.for_filter()))
                       if text else None)

    def lines(self, reader: CaptureReader) -> Iterator[str]:
        """The output lines for the events of ``reader`` (read as they are needed)."""
        engine = StateEngine(reader)
        accept = self.accept
        render = self.format.render_json if self.options.json else self.format.render
        hidden = self._hidden
        debug, count = self.debug, self.count
        seen = 0
        for ev in reader.events():
            ctx = engine.process(ev, accept)
            if ctx.filtered_out or ctx.hidden:
                continue
            seen += 1
            if debug or not hidden(ev.type):
                line = render(ctx)
                if line is not None:
                    yield line
            if count and seen >= count:
                return


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
    """``-l``: every field by class, with its description (``verbose``: and its type)."""
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
            doc_text = f.doc if not verbose else f"({f.type}) {f.doc}"
            wrapped = _wrap(doc_text, 90)
            yield f"{name:<30}{wrapped[0]}" if len(name) < 30 else f"{name} {wrapped[0]}"
            for more in wrapped[1:]:
                yield pad + more
        yield ""
