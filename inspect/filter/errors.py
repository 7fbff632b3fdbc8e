"""Errors of the filter language: each names a character position in the filter text.

``str(err)`` reads like sysdig 0.29.3's own message, ``filter error at position N: ...``
(sysdig prints that line on stderr and exits with 1); :meth:`FilterError.render` adds the
filter line and a caret under the offending character. Positions are 0-based character
offsets into the filter text, as in sysdig's messages; they point at the start of the
offending token, where sysdig gives the offset its scanner had reached (often the end of
the token, or of the filter).

The command line maps every :class:`FilterError` to ``exitcodes.BAD_FILTER`` (4), which
is distinct from runtime (1), usage (2) and damaged-capture (3) failures.
"""

from __future__ import annotations


class FilterError(ValueError):
    """A filter that cannot be used; ``position`` is a 0-based offset into ``text``."""

    def __init__(self, message: str, position: int, text: str | None = None) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position
        self.text = text

    def __str__(self) -> str:
        return f"filter error at position {self.position}: {self.message}"

    def with_text(self, text: str) -> FilterError:
        """Attach the filter text (for :meth:`render`) and return self."""
        if self.text is None:
            self.text = text
        return self

    def render(self) -> str:
        """The message, then the filter line holding the position and a caret under it."""
        head = str(self)
        if self.text is None:
            return head
        text = self.text
        pos = min(max(self.position, 0), len(text))
        start = max(text.rfind("\n", 0, pos), text.rfind("\r", 0, pos)) + 1
        end = len(text)
        for sep in "\r\n":
            k = text.find(sep, pos)
            if k != -1:
                end = min(end, k)
        # Long lines are cut to a window around the position.
        lead, tail = "", ""
        if pos - start > _WINDOW:
            start, lead = pos - _WINDOW, "..."
        if end - pos > _WINDOW:
            end, tail = pos + _WINDOW, "..."
        line = lead + text[start:end] + tail
        # Keep tabs so the caret lines up under them; everything else becomes a space.
        pad = " " * len(lead) + "".join("\t" if c == "\t" else " " for c in text[start:pos])
        return f"{head}\n  {line}\n  {pad}^"


_WINDOW = 60


class FilterSyntaxError(FilterError):
    """The text does not follow the grammar (see :mod:`.parser`)."""


class FilterCompileError(FilterError):
    """The text parses but cannot be compiled: unknown field, bad value, operator not
    allowed for the field's type."""
