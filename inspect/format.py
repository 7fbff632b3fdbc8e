"""``-p`` output formats: ``%field`` tokens between literal text, as sysdig parses them.

Grammar (sysdig's): an optional leading ``*`` (print events even when a field is
missing, as ``<NA>``), then text in which ``%[WIDTH]FIELD`` inserts a field value;
``FIELD`` is the longest known field name at that point (with its argument, as
``evt.arg.fd`` or ``proc.aname[2]``), and ``WIDTH`` pads or cuts the value to that many
bytes. :func:`unescape` turns ``\\n``, ``\\t``, ``\\e`` and ``\\\\`` into the characters,
as sysdig does with ``-p`` before parsing.

A compiled format renders an event context to a text line (:meth:`EventFormat.render`)
or to a JSON line (:meth:`EventFormat.render_json`, sysdig's ``-j``: an object keyed by
the field tokens as written, values typed as sysdig types them, literal text left out).
Without ``*``, an event with a missing field gives None (not printed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .render import DEFAULT_OPTIONS, RenderOptions, json_line

if TYPE_CHECKING:
    from .fields import Field

# (The field registry is imported when a format is compiled: the constants and
# unescape() here cost nothing to import.)

#: sysdig's default output (``sysdig -r FILE`` when not writing to a terminal).
DEFAULT_FORMAT = ("*%evt.num %evt.outputtime %evt.cpu %proc.name (%thread.tid) %evt.dir "
                  "%evt.type %evt.info")


class FormatSyntaxError(ValueError):
    """A format string that cannot be parsed; names the position."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at position {position})")
        self.position = position


def unescape(fmt: str) -> str:
    """sysdig's escapes in ``-p`` formats: ``\\n``, ``\\t``, ``\\e``, ``\\\\``."""
    if "\\" not in fmt:
        return fmt
    out = []
    i, n = 0, len(fmt)
    while i < n:
        c = fmt[i]
        if c == "\\" and i + 1 < n and fmt[i + 1] in "nte\\":
            out.append({"n": "\n", "t": "\t", "e": "\x1b", "\\": "\\"}[fmt[i + 1]])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _Token:
    text: str | None  # literal text, or None for a field
    key: str = ""  # the field as written (JSON key)
    field: Field | None = None
    width: int = 0
    extract: Callable[[Any], Any] | None = None
    type: str = ""


def _missing(ctx: Any) -> None:
    return None


def _fit(s: str, width: int) -> str:
    """Cut or pad to ``width`` bytes (C++ ``string::resize``)."""
    b = s.encode("utf-8", "surrogateescape")
    if len(b) == width:
        return s
    b = b[:width] if len(b) > width else b + b" " * (width - len(b))
    return b.decode("utf-8", "surrogateescape")


class EventFormat:
    """A compiled ``-p`` format: ``EventFormat(fmt, options).render(ctx)`` -> line or None."""

    def __init__(self, fmt: str, options: RenderOptions = DEFAULT_OPTIONS) -> None:
        if not fmt:
            raise FormatSyntaxError("empty format", 0)
        self.options = options
        self.require_all = not fmt.startswith("*")
        body = fmt if self.require_all else fmt[1:]
        self._base = 0 if self.require_all else 1
        self.tokens = self._parse(body)
        self._fields = [t for t in self.tokens if t.text is None]
        self._json = [(t.key, self._json_getter(t)) for t in self._fields]
        from .fields import text_converter

        self._ops = [(t.text, t.extract, text_converter(t.type, t.field.fmt) if t.field else None,
                      t.width) for t in self.tokens]

    def _parse(self, s: str) -> list[_Token]:
        from .fields import parse_field

        tokens: list[_Token] = []
        i = lit = 0
        n = len(s)
        while i < n:
            if s[i] != "%":
                i += 1
                continue
            if lit != i:
                tokens.append(_Token(s[lit:i]))
            if i == n - 1:
                raise FormatSyntaxError("a format cannot end with %", self._base + i)
            j = i + 1
            while j < n and s[j].isdigit():
                j += 1
            width = int(s[i + 1:j]) if j > i + 1 else 0
            if j == n:
                raise FormatSyntaxError("a format cannot end with a width", self._base + i)
            found = parse_field(s[j:])
            if found is None:
                raise FormatSyntaxError(f"unknown field in %{s[j:j + 30]}", self._base + j)
            f, arg, used = found
            if f.filter_only:
                raise FormatSyntaxError(f"{f.name} is for filters only and cannot be "
                                        "printed", self._base + j)
            try:
                if used == 0:
                    extract: Callable[[Any], Any] = _missing
                elif f.bind is not None:
                    extract = f.bind(arg, self.options)
                else:
                    extract = f.extract
            except ValueError as exc:
                raise FormatSyntaxError(str(exc), self._base + j) from None
            ftype = getattr(extract, "field_type", f.type)
            tokens.append(_Token(None, s[j:j + used], f, width, extract, ftype))
            i = lit = j + used  # when used == 0, the literal goes on after the % sign
        if lit < n:
            tokens.append(_Token(s[lit:]))
        return tokens

    def render(self, ctx: Any) -> str | None:
        """The formatted line, or None if a field is missing and ``*`` was not given."""
        out = []
        require_all = self.require_all
        for text, extract, conv, width in self._ops:
            if extract is None:
                out.append(text)
                continue
            v = extract(ctx)
            s = None if v is None else conv(v)
            if s is None:
                if require_all:
                    return None
                s = "<NA>"
            if width:
                s = _fit(s, width)
            out.append(s)
        return "".join(out)

    @staticmethod
    def _json_getter(t: _Token) -> Callable[[Any], Any]:
        f, extract, ftype = t.field, t.extract, t.type
        assert f is not None and extract is not None
        mode = f.json
        if mode == "ts":
            return lambda ctx: ctx.event.ts
        if mode == "number":
            return extract
        if mode == "twice":
            def twice(ctx: Any) -> Any:
                extract(ctx)
                return extract(ctx)
            return twice
        fmt = f.fmt
        from .fields import value_json

        return lambda ctx: value_json(extract(ctx), ftype, fmt)

    def values_json(self, ctx: Any) -> dict[str, Any] | None:
        """The JSON values by key, or None when a field is missing and ``*`` was not given."""
        values: dict[str, Any] = {}
        for key, get in self._json:
            v = get(ctx)
            if v is None and self.require_all:
                return None
            values[key] = v
        return values

    def render_json(self, ctx: Any) -> str | None:
        """The event as one JSON line (sysdig's ``-j``), or None as :meth:`render`."""
        values = self.values_json(ctx)
        return None if values is None else json_line(values)
