"""The filter scanner: context-sensitive token readers the parser calls in turn.

sysdig's filter text has no context-free token set: after an operator, the rest of a
bare word is a value whatever it contains (``evt.dir = <`` compares with ``<``;
``fd.name = a=b`` with ``a=b``), so the parser asks for the kind of token it expects
next. The readers follow sinsp 0.29.3 (libs e5c53d64, ``sinsp_filter_compiler``):

blanks
    space, tab, CR, LF.
field name
    a run of characters that are neither blanks nor one of ``( ) ! = < > [ ] , " '``
    (sinsp ends field names at blanks and ``( ) ! = < >``); an argument may follow in
    brackets: ``evt.arg[1]``, ``proc.aname[2]``, ``fd.name["a b"]``.
keyword
    ``and``, ``or``, ``not`` and word operators are whole words: the next character must
    be the end, a blank or one of the characters that end a field name.
operator
    the symbols ``== = != <= < >= >`` (longest first) or a word operator.
value
    a quoted string (``"..."`` or ``'...'``, closed by the same quote) or a bare word
    running to the next blank or bracket (and, inside a list, comma).

Escapes, in quoted and bare values alike (sinsp's rules): ``\\\\`` is a backslash,
``\\"`` and ``\\'`` are quotes, ``\\xHH`` is the byte 0xHH; a backslash before any other
character is kept as written (``'\\d+'`` is the 3 characters ``\\d+``). In a bare value
a backslash cannot escape the character that ends the value.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import FilterSyntaxError

BLANKS = frozenset(" \t\n\r")
#: Characters that end a field name (besides blanks).
FIELD_STOP = frozenset("()!=<>[],\"'")
_WORD_END = BLANKS | FIELD_STOP
_HEX = frozenset("0123456789abcdefABCDEF")
_SYMBOL_OPS = ("==", "=", "!=", "<=", "<", ">=", ">")
WORD_OPS = frozenset({
    "contains", "icontains", "bcontains", "startswith", "bstartswith", "endswith",
    "glob", "iglob", "regex", "in", "intersects", "pmatch", "exists",
})
KEYWORDS = frozenset({"and", "or", "not"})


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # the token's meaning: a name, an operator, or an unescaped value
    pos: int  # offset of its first character
    end: int  # offset just past it
    quoted: bool = False


class Lexer:
    """Reads tokens from ``text`` at ``self.pos``; each reader consumes only on success."""

    __slots__ = ("text", "pos", "n")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.n = len(text)

    # -- basics -------------------------------------------------------------------------

    def at_end(self) -> bool:
        return self.pos >= self.n

    def peek(self) -> str:
        """The current character, or '' at the end."""
        return self.text[self.pos] if self.pos < self.n else ""

    def skip_blanks(self) -> bool:
        start = self.pos
        text, n = self.text, self.n
        p = start
        while p < n and text[p] in BLANKS:
            p += 1
        self.pos = p
        return p > start

    def char(self, c: str) -> Token | None:
        """The single character ``c``."""
        if self.pos < self.n and self.text[self.pos] == c:
            self.pos += 1
            return Token(c, self.pos - 1, self.pos)
        return None

    def _word_ends_at(self, p: int) -> bool:
        return p >= self.n or self.text[p] in _WORD_END

    def keyword(self, word: str) -> Token | None:
        """``word`` as a whole word (``and``, ``or``, ``not``)."""
        p = self.pos
        if self.text.startswith(word, p) and self._word_ends_at(p + len(word)):
            self.pos = p + len(word)
            return Token(word, p, self.pos)
        return None

    def bare_word(self) -> Token | None:
        """The run of characters up to the next blank or field-ending character
        (what a field name would be); used to quote offending text in messages."""
        p = start = self.pos
        text, n = self.text, self.n
        while p < n and text[p] not in _WORD_END:
            p += 1
        if p == start:
            return None
        return Token(text[start:p], start, p)

    # -- fields ---------------------------------------------------------------------------

    def field_name(self) -> Token | None:
        tok = self.bare_word()
        if tok is not None:
            self.pos = tok.end
        return tok

    def field_arg(self) -> Token:
        """The argument after ``[``: a quoted string or a bare run without blanks,
        brackets or quotes; the caller reads the ``]``."""
        c = self.peek()
        if c in ("'", '"'):
            return self.quoted()
        p = start = self.pos
        text, n = self.text, self.n
        while p < n and text[p] not in BLANKS and text[p] not in "[]\"'":
            p += 1
        if p == start:
            raise FilterSyntaxError("expected a field argument after '['", start)
        self.pos = p
        return Token(text[start:p], start, p)

    # -- operators ------------------------------------------------------------------------

    def operator(self) -> Token | None:
        p = self.pos
        text = self.text
        for op in _SYMBOL_OPS:
            if text.startswith(op, p):
                self.pos = p + len(op)
                return Token(op, p, self.pos)
        q = p
        while q < self.n and text[q].isascii() and text[q].isalpha():
            q += 1
        word = text[p:q]
        if word in WORD_OPS and self._word_ends_at(q):
            self.pos = q
            return Token(word, p, q)
        return None

    # -- values ---------------------------------------------------------------------------

    def value(self, in_list: bool) -> Token | None:
        """A quoted or bare value at the current position, or None if none starts here."""
        c = self.peek()
        if c == "":
            return None
        if c in ("'", '"'):
            return self.quoted()
        if c in "()" or (in_list and c == ","):
            return None
        return self._bare(in_list)

    def quoted(self) -> Token:
        text, n = self.text, self.n
        start = self.pos
        delim = text[start]
        out = bytearray()
        p = start + 1
        while p < n:
            c = text[p]
            if c == delim:
                self.pos = p + 1
                return Token(_decode(out), start, self.pos, quoted=True)
            if c == "\\":
                p = self._escape(p, out, None)
                continue
            out += c.encode("utf-8", "surrogateescape")
            p += 1
        raise FilterSyntaxError("unclosed quotes", start)

    def _bare(self, in_list: bool) -> Token:
        text, n = self.text, self.n
        start = p = self.pos
        out = bytearray()
        stops = "()," if in_list else "()"
        while p < n:
            c = text[p]
            if c in BLANKS or c in stops:
                break
            if c == "\\":
                p = self._escape(p, out, stops)
                continue
            out += c.encode("utf-8", "surrogateescape")
            p += 1
        self.pos = p
        return Token(_decode(out), start, p)

    def _escape(self, p: int, out: bytearray, stops: str | None) -> int:
        """Decode the escape at ``text[p] == '\\'`` into ``out``; return the next offset.
        ``stops`` holds the characters that end a bare value (None inside quotes)."""
        text, n = self.text, self.n
        if p + 1 >= n:
            if stops is None:  # the quote is never closed
                raise FilterSyntaxError("unclosed quotes", self.pos)
            raise FilterSyntaxError("unrecognized escape sequence at end of filter", p)
        c = text[p + 1]
        if stops is not None and (c in BLANKS or c in stops):
            raise FilterSyntaxError("unrecognized escape sequence: a backslash cannot escape a "
                                    "blank, bracket or comma in a bare value (quote the value)", p)
        if c in "\\\"'":
            out += c.encode()
            return p + 2
        if c == "x":
            digits = text[p + 2:p + 4]
            if len(digits) == 2 and all(d in _HEX for d in digits):
                out.append(int(digits, 16))
                return p + 4
            raise FilterSyntaxError(f"unrecognized escape sequence \\x{digits}", p)
        out += ("\\" + c).encode("utf-8", "surrogateescape")
        return p + 2


def _decode(raw: bytearray) -> str:
    return bytes(raw).decode("utf-8", "surrogateescape")
