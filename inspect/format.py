"""``-p`` output formats: ``%field`` tokens between literal text, as sysdig parses them.

Grammar (sysdig's): an optional leading ``*`` (print events even when a field is
missing, as ``<NA>``), then text in which ``%[WIDTH]FIELD`` inserts a field value;
``FIELD`` is the longest known field name at that point, and ``WIDTH`` pads or cuts
the value to that many characters.
"""

from __future__ import annotations

from dataclasses import dataclass

from scapkit.scapfile.events import RawEvent

from .fields import Field, match_field


class FormatSyntaxError(ValueError):
    """A format string that cannot be parsed; names the position."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at position {position})")
        self.position = position


@dataclass(frozen=True, slots=True)
class _Token:
    text: str | None  # literal text, or None for a field
    field: Field | None = None
    width: int = 0


class EventFormat:
    """A compiled ``-p`` format: ``EventFormat(fmt).render(ev)`` -> line or None."""

    def __init__(self, fmt: str) -> None:
        if not fmt:
            raise FormatSyntaxError("empty format", 0)
        self.require_all = not fmt.startswith("*")
        body = fmt if self.require_all else fmt[1:]
        self._base = 0 if self.require_all else 1
        self.tokens = self._parse(body)

    def _parse(self, s: str) -> list[_Token]:
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
            f = match_field(s[j:])
            if f is None:
                raise FormatSyntaxError(f"unknown field in %{s[j:j + 30]}", self._base + j)
            tokens.append(_Token(None, f, width))
            i = lit = j + len(f.name)
        if lit < n:
            tokens.append(_Token(s[lit:]))
        return tokens

    def render(self, ev: RawEvent) -> str | None:
        """The formatted line, or None if a field is missing and ``*`` was not given."""
        out = []
        for t in self.tokens:
            if t.text is not None:
                out.append(t.text)
                continue
            v = t.field.extract(ev)  # type: ignore[union-attr]
            if v is None:
                if self.require_all:
                    return None
                s = "<NA>"
            else:
                s = str(v)
            if t.width:
                s = s[:t.width].ljust(t.width)
            out.append(s)
        return "".join(out)
