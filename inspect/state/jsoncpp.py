"""JSON read and queried the way sysdig 0.29.3's k8s replay does it (jsoncpp 1.9.5).

sysdig 0.29.3 (Debian's build, linked with libjsoncpp 1.9.5) reads the k8s events of a
capture with jsoncpp's lenient ``Json::Reader``, which accepts more than RFC 8259 and
gives up in its own places; what it accepts decides which events change the state, so
:func:`parse` reproduces its rules rather than using :mod:`json`:

* the document is the first value: whatever follows it is ignored (``{}x`` is ``{}``);
* ``/* */`` and ``//`` comments are allowed between tokens, and inside an object a
  comment followed by any token stands for the ``,`` between members;
* a NUL byte outside a string ends the document; strings may hold any byte (NUL and
  control characters included); ``\\u`` escapes give UTF-8 bytes, lone surrogates
  included; an object member named ``""`` may be followed by ``,}``;
* numbers are ``-?digits(.digits)?([eE][+-]?digits)?`` with every part optional
  (``-`` alone is 0, ``1.`` is 1.0, ``1e`` is an error); integers that do not fit in
  64 bits become doubles, doubles that overflow are an error;
* more than 1000 nested values raise :class:`JsonDepthError` (jsoncpp throws there,
  which stops sysdig) instead of failing the parse.

Values are plain Python: None, bool, int, float, ``bytes`` (strings: C++ strings are
bytes), list, and dict with ``bytes`` keys. The accessors below (:func:`member`,
:func:`as_string`...) follow jsoncpp's ``Json::Value`` methods, including the cases
where jsoncpp throws (a member of a number, a string of an array...), which raise
:class:`JsonLogicError`: sysdig does not catch those, so they end its reading.
Members and object iteration come in jsoncpp's order, the byte order of the names.
"""

from __future__ import annotations

import re
from typing import Any

#: jsoncpp's limit on nested values (``JSONCPP_DEPRECATED_STACK_LIMIT``).
MAX_DEPTH = 1000

INT_MIN, INT_MAX, UINT_MAX = -(1 << 31), (1 << 31) - 1, (1 << 32) - 1
_LARGEST_INT_MIN, _LARGEST_UINT_MAX = -(1 << 63), (1 << 64) - 1


class JsonLogicError(Exception):
    """jsoncpp would throw here (a value of the wrong type was used)."""


class JsonDepthError(JsonLogicError):
    """The document nests values deeper than jsoncpp reads."""


class _Fail(Exception):
    """The document is not one jsoncpp reads (the parse returns false)."""


# token kinds
(_OBJ_BEGIN, _OBJ_END, _ARR_BEGIN, _ARR_END, _STRING, _NUMBER, _TRUE, _FALSE, _NULL,
 _SEP, _COLON, _COMMENT, _EOS, _ERROR) = range(14)

_SPACES = frozenset(b" \t\r\n")
_SPACE_RUN = re.compile(rb"[ \t\r\n]*")
_QUOTE_OR_BACKSLASH = re.compile(rb'["\\]')
#: What follows the first character of a number (jsoncpp's readNumber).
_NUMBER_REST = re.compile(rb"[0-9]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]*)?")
_DIGITS = frozenset(b"0123456789")
_SIMPLE = {ord("{"): _OBJ_BEGIN, ord("}"): _OBJ_END, ord("["): _ARR_BEGIN,
           ord("]"): _ARR_END, ord(","): _SEP, ord(":"): _COLON, 0: _EOS}
_WORDS = {ord("t"): (_TRUE, b"rue", True), ord("f"): (_FALSE, b"alse", False),
          ord("n"): (_NULL, b"ull", None)}
_ESCAPES = {ord('"'): b'"', ord("/"): b"/", ord("\\"): b"\\", ord("b"): b"\b",
            ord("f"): b"\f", ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t"}


class _Reader:
    """One pass over a document: tokens, then values, in jsoncpp's order."""

    def __init__(self, doc: bytes) -> None:
        self.doc = doc
        self.pos = 0
        self.end = len(doc)

    def _next_char(self) -> int:
        if self.pos >= self.end:
            return 0
        c = self.doc[self.pos]
        self.pos += 1
        return c

    def token(self) -> tuple[int, int, int]:
        """(kind, start, end); kind is _ERROR when the token is malformed."""
        doc, end = self.doc, self.end
        start = _SPACE_RUN.match(doc, self.pos).end()  # type: ignore[union-attr]
        if start >= end:
            self.pos = start
            return _EOS, start, start
        c = doc[start]
        self.pos = pos = start + 1
        kind = _SIMPLE.get(c)
        if kind is not None:
            return kind, start, pos
        if c == 0x22:  # '"': up to the first quote not escaped by a backslash
            while True:
                m = _QUOTE_OR_BACKSLASH.search(doc, pos)
                if m is None:
                    self.pos = end
                    return _ERROR, start, end
                pos = m.start()
                if doc[pos] == 0x22:
                    self.pos = pos + 1
                    return _STRING, start, pos + 1
                if pos + 1 >= end:  # (a backslash ending the document)
                    self.pos = end
                    return _ERROR, start, end
                pos += 2
        if c == 0x2F:  # '/'
            return (_COMMENT if self._comment() else _ERROR), start, self.pos
        if c in _DIGITS or c == 0x2D:  # digit or '-'
            self.pos = _NUMBER_REST.match(doc, pos).end()  # type: ignore[union-attr]
            return _NUMBER, start, self.pos
        word = _WORDS.get(c)
        if word is not None:
            kind, rest, _ = word
            if doc[pos:pos + len(rest)] == rest:
                self.pos = pos + len(rest)
                return kind, start, self.pos
        return _ERROR, start, pos

    def _comment(self) -> bool:
        c = self._next_char()
        if c == 0x2A:  # '/*': up to '*/'
            while self.pos + 1 < self.end:
                if self._next_char() == 0x2A and self.doc[self.pos] == 0x2F:
                    break
            return self._next_char() == 0x2F
        if c == 0x2F:  # '//': up to the end of the line
            while self.pos < self.end:
                c = self._next_char()
                if c == 0x0A:
                    break
                if c == 0x0D:
                    if self.pos < self.end and self.doc[self.pos] == 0x0A:
                        self.pos += 1
                    break
            return True
        return False

    def token_skipping_comments(self) -> tuple[int, int, int]:
        while True:
            tok = self.token()
            if tok[0] != _COMMENT:
                return tok

    # -- values ---------------------------------------------------------------------------

    def number(self, start: int, end: int) -> int | float:
        text = self.doc[start:end]
        body = text[1:] if text[:1] == b"-" else text
        if all(c in _DIGITS for c in body):
            value = -int(body or b"0") if text[:1] == b"-" else int(body or b"0")
            if _LARGEST_INT_MIN <= value <= _LARGEST_UINT_MAX:
                return value
        try:
            real = float(text)
        except ValueError:
            raise _Fail from None
        if real in (float("inf"), float("-inf")):
            raise _Fail
        return real

    def string(self, start: int, end: int) -> bytes:
        doc = self.doc
        raw = doc[start + 1:end - 1]
        if 0x5C not in raw:
            return raw
        out = bytearray()
        i, stop = start + 1, end - 1
        while i < stop:
            c = doc[i]
            i += 1
            if c == 0x22:
                break
            if c != 0x5C:
                out.append(c)
                continue
            if i == stop:
                raise _Fail
            esc = doc[i]
            i += 1
            simple = _ESCAPES.get(esc)
            if simple is not None:
                out += simple
                continue
            if esc != ord("u"):
                raise _Fail
            cp, i = self._hex4(i, stop)
            if 0xD800 <= cp <= 0xDBFF:
                if stop - i < 6:
                    raise _Fail
                if doc[i] != 0x5C:
                    raise _Fail
                if doc[i + 1] != ord("u"):
                    raise _Fail
                low, i = self._hex4(i + 2, stop)
                cp = 0x10000 + ((cp & 0x3FF) << 10) + (low & 0x3FF)
            out += chr(cp).encode("utf-8", "surrogatepass")
        return bytes(out)

    def _hex4(self, i: int, stop: int) -> tuple[int, int]:
        if stop - i < 4:
            raise _Fail
        try:
            text = self.doc[i:i + 4].decode("ascii")
            if not all(ch in "0123456789abcdefABCDEF" for ch in text):
                raise ValueError(text)
            return int(text, 16), i + 4
        except (UnicodeDecodeError, ValueError):
            raise _Fail from None

    def begin_value(self, depth: int) -> tuple[Any, bool]:
        """The value starting at the next token; (container, True) for ``{`` and ``[``."""
        if depth > MAX_DEPTH:
            raise JsonDepthError(f"values nested more than {MAX_DEPTH} deep")
        kind, start, end = self.token_skipping_comments()
        if kind == _OBJ_BEGIN:
            return {}, True
        if kind == _ARR_BEGIN:
            return [], True
        if kind == _NUMBER:
            return self.number(start, end), False
        if kind == _STRING:
            return self.string(start, end), False
        if kind in (_TRUE, _FALSE, _NULL):
            return _WORDS[self.doc[start]][2], False
        raise _Fail


class _Frame:
    __slots__ = ("value", "depth", "name", "state")

    def __init__(self, value: dict[bytes, Any] | list[Any], depth: int) -> None:
        self.value = value
        self.depth = depth
        self.name = b""          # the last member name read (jsoncpp keeps it between members)
        self.state = "first"


def parse(doc: bytes) -> tuple[bool, Any]:
    """(True, value) when jsoncpp's Reader accepts ``doc``, else (False, None).

    Raises :class:`JsonDepthError` where jsoncpp throws (values nested too deep).
    """
    r = _Reader(doc)
    try:
        root, opened = r.begin_value(1)
        if opened:
            _fill(r, root)
    except _Fail:
        return False, None
    return True, root


def _fill(r: _Reader, root: dict[bytes, Any] | list[Any]) -> None:
    stack = [_Frame(root, 1)]
    while stack:
        f = stack[-1]
        child: Any = None
        opened = False
        if isinstance(f.value, dict):
            if f.state in ("first", "name"):
                kind, start, end = r.token()
                while kind == _COMMENT:
                    kind, start, end = r.token()
                if kind == _ERROR:
                    raise _Fail
                if kind == _OBJ_END and f.name == b"":
                    stack.pop()
                    continue
                f.name = b""
                if kind != _STRING:
                    raise _Fail
                f.name = r.string(start, end)
                if r.token()[0] != _COLON:
                    raise _Fail
                child, opened = r.begin_value(f.depth + 1)
                f.value[f.name] = child
                f.state = "comma"
                if opened:
                    stack.append(_Frame(child, f.depth + 1))
                continue
            # after a member's value
            kind = r.token()[0]
            if kind not in (_OBJ_END, _SEP, _COMMENT):
                raise _Fail
            while kind == _COMMENT:
                kind = r.token()[0]
            if kind == _OBJ_END:
                stack.pop()
            else:
                f.state = "name"
            continue
        # an array
        if f.state == "first":
            doc, pos = r.doc, r.pos
            while pos < r.end and doc[pos] in _SPACES:
                pos += 1
            r.pos = pos
            if pos < r.end and doc[pos] == ord("]"):
                r.token()
                stack.pop()
                continue
            f.state = "value"
        if f.state == "value":
            child, opened = r.begin_value(f.depth + 1)
            f.value.append(child)
            f.state = "sep"
            if opened:
                stack.append(_Frame(child, f.depth + 1))
            continue
        kind = r.token()[0]
        while kind == _COMMENT:
            kind = r.token()[0]
        if kind == _ARR_END:
            stack.pop()
        elif kind == _SEP:
            f.state = "value"
        else:
            raise _Fail


# -- Json::Value's methods ----------------------------------------------------------------------


def _type_name(v: Any) -> str:
    if v is True or v is False:
        return "a boolean"
    return {dict: "an object", list: "an array", bytes: "a string"}.get(type(v), "a number")


def member(v: Any, key: bytes) -> Any:
    """``v[key]``: None when absent or when ``v`` is null; jsoncpp throws for non-objects."""
    if v is None:
        return None
    if isinstance(v, dict):
        return v.get(key)
    raise JsonLogicError(f"member {key.decode(errors='replace')!r} looked up in "
                         f"{_type_name(v)}")


def member_names(v: Any) -> list[bytes]:
    """``getMemberNames()``: sorted names; jsoncpp throws for non-objects."""
    if v is None:
        return []
    if isinstance(v, dict):
        return sorted(v)
    raise JsonLogicError(f"member names asked of {_type_name(v)}")


def elements(v: Any) -> list[Any]:
    """What a range-for over ``v`` visits: array items, object values (by name), else none."""
    if isinstance(v, list):
        return v
    if isinstance(v, dict):
        return [v[k] for k in sorted(v)]
    return []


def is_string_like(v: Any) -> bool:
    """``isConvertibleTo(stringValue)``."""
    return not isinstance(v, (list, dict))


def as_string(v: Any) -> bytes:
    """``asString()``."""
    if v is None:
        return b""
    if isinstance(v, bytes):
        return v
    if v is True or v is False:
        return b"true" if v else b"false"
    if isinstance(v, int):
        return str(v).encode()
    if isinstance(v, float):
        text = "%.17g" % v
        if "." not in text and "e" not in text:
            text += ".0"
        return text.encode()
    raise JsonLogicError(f"{_type_name(v)} where a string is expected")


def as_uint(v: Any) -> int:
    """``asUInt()``."""
    if v is None:
        return 0
    if v is True or v is False:
        return int(v)
    if isinstance(v, int):
        if 0 <= v <= UINT_MAX:
            return v
    elif isinstance(v, float):
        if 0 <= v <= UINT_MAX:
            return int(v)
    raise JsonLogicError(f"{_type_name(v)} where a 32-bit unsigned number is expected")


def is_int(v: Any) -> bool:
    """``isInt()``."""
    if v is True or v is False:
        return False
    if isinstance(v, int):
        return INT_MIN <= v <= INT_MAX
    if isinstance(v, float):
        return INT_MIN <= v <= INT_MAX and v.is_integer()
    return False


def is_int_like(v: Any) -> bool:
    """``isConvertibleTo(intValue)``."""
    if v is None or v is True or v is False:
        return True
    if isinstance(v, float):
        return INT_MIN <= v <= INT_MAX
    return is_int(v)


def is_integral(v: Any) -> bool:
    """``isIntegral()``."""
    if v is True or v is False:
        return False
    if isinstance(v, int):
        return True
    if isinstance(v, float):
        return float(_LARGEST_INT_MIN) <= v < 18446744073709551616.0 and v.is_integer()
    return False
