"""Exceptions raised while reading or writing capture files.

Every reading error carries the byte offset (in the decompressed stream) where the
problem was found, so a one-line message can point at the damage.
"""

from __future__ import annotations


class ScapError(Exception):
    """Base class for capture-file problems."""


class FormatError(ScapError):
    """The bytes at ``offset`` do not follow the .scap format."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.message = message
        self.offset = offset
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line naming the offset, suitable for stderr."""
        if self.offset is None:
            return self.message
        return f"{self.message} at offset {self.offset} (0x{self.offset:x})"


class TruncatedError(FormatError):
    """The file ends in the middle of a block."""


class NotACaptureError(FormatError):
    """The file does not start with a section header block."""


class CompressionError(FormatError):
    """The compressed stream is damaged."""
