"""Path and string handling exactly as sinsp does it, on raw bytes.

sinsp joins a directory and a path from an event into one bounded buffer,
normalising ``.``/``..``/``//`` and replacing every byte that is not printable
ASCII with ``.``; a result longer than the buffer becomes ``/PATH_TOO_LONG``.
Elsewhere (socket paths, names rendered from parameters) it *drops* the
unprintable bytes instead. Both rules are reproduced here, byte for byte, so
names match sysdig's output even for hostile or non-UTF-8 paths.

Text crosses this module as ``str`` decoded with ``surrogateescape`` (the
convention of :mod:`scapkit.scapfile`), so no byte is ever lost.
"""

from __future__ import annotations

#: sinsp's path buffer size (``SCAP_MAX_PATH_SIZE``): the default path limit.
MAX_PATH = 1024
#: What a path that does not fit the buffer becomes.
PATH_TOO_LONG = "/PATH_TOO_LONG"

_SLASH = 0x2F
_DOT = 0x2E
_DROP_UNPRINTABLE = bytes(b for b in range(256) if b < 0x20 or b > 0x7E)


def to_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def to_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def c_string(raw: bytes) -> bytes:
    """The bytes up to the first NUL (what C code sees of a buffer)."""
    end = raw.find(b"\0")
    return raw if end < 0 else raw[:end]


def sanitize(text: str) -> str:
    """Drop every byte that is not printable ASCII (sinsp's ``sanitize_string``)."""
    return to_text(to_bytes(text).translate(None, _DROP_UNPRINTABLE))


def _rewind(out: bytearray) -> None:
    """Step back to just after the previous separator (``..`` handling)."""
    if len(out) <= 1:
        return
    del out[-1]
    while len(out) >= 1 and out[-1] != _SLASH:
        del out[-1]


def _append_normalised(out: bytearray, path: bytes) -> None:
    """Append ``path`` to ``out``, folding ``.``/``..``/``//`` as sinsp does.

    ``out`` may already hold the directory part; ``..`` can climb into it but
    never above its first byte.
    """
    i, n = 0, len(path)
    while i < n:
        c = path[i]
        nxt = path[i + 1] if i + 1 < n else 0
        nxt2 = path[i + 2] if i + 2 < n else 0
        if c < 0x20 or c > 0x7E:
            out.append(_DOT)
            i += 1
        elif c == _DOT and nxt == _DOT and nxt2 == _SLASH:
            _rewind(out)
            i += 3
        elif c == _DOT and nxt == _DOT:
            if i + 2 >= n:
                _rewind(out)
                i += 2
            else:
                out += b".."
                i += 2
        elif c == _DOT and nxt == _SLASH:
            i += 2
        elif c == _DOT:
            if i + 1 >= n:
                i += 1
            else:
                out.append(c)
                i += 1
        elif c == _SLASH:
            if out and out[-1] == _SLASH:
                i += 1
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    # A trailing separator is removed, as the OS does (but "/" stays "/").
    if len(out) > 1 and out[-1] == _SLASH:
        del out[-1]


def concatenate(directory: str | bytes, path: bytes, *, limit: int = MAX_PATH) -> tuple[str, bool]:
    """Join ``directory`` and a path parameter as sinsp's ``concatenate_paths``.

    ``path`` is the parameter's raw value (its trailing NUL included when the
    driver wrote one: the length check counts it, as sinsp does). Returns the
    result and whether ``path`` was relative (sinsp's return value): an
    absolute or empty path ignores ``directory``.
    """
    base = to_bytes(directory) if isinstance(directory, str) else directory
    if limit < len(base) + len(path) + 1:
        return PATH_TOO_LONG, False
    rel = c_string(path)
    if path and path[:1] != b"/":
        out = bytearray(base)
        _append_normalised(out, rel)
        return to_text(bytes(out)), True
    out = bytearray()
    _append_normalised(out, rel)
    return to_text(bytes(out)), False


def param_string(raw: bytes) -> str:
    """A string parameter as sinsp renders it: up to the first NUL, unprintable
    bytes dropped."""
    return to_text(c_string(raw).translate(None, _DROP_UNPRINTABLE))
