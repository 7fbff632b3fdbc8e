"""Recursive-descent parser for sysdig filters: text -> :mod:`.ast` tree with positions.

Grammar (EBNF; blanks may separate any two tokens and are needed only between words)::

    filter      = or_expr ;
    or_expr     = and_expr , { "or" , and_expr } ;
    and_expr    = not_expr , { "and" , not_expr } ;
    not_expr    = { "not" } , primary ;
    primary     = "(" , or_expr , ")"
                | check ;
    check       = field , [ "[" , field_arg , "]" ] , condition ;
    condition   = "exists"
                | value_op , value
                | list_op , "(" , [ value , { "," , value } ] , ")" ;
    value_op    = "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
                | "contains" | "icontains" | "bcontains"
                | "startswith" | "bstartswith" | "endswith"
                | "glob" | "iglob" | "regex" ;
    list_op     = "in" | "intersects" | "pmatch" ;
    field       = field_char , { field_char } ;     (* not blank, not ( ) ! = < > [ ] , " ' *)
    field_arg   = quoted | arg_char , { arg_char } ;  (* not blank, not [ ] " ' *)
    value       = quoted | bare ;
    bare        = bare_char , { bare_char } ;       (* not blank, not ( ), and not , in a list *)
    quoted      = '"' , { char } , '"' | "'" , { char } , "'" ;

Keywords and word operators are lower case and whole words (see :mod:`.lexer` for
blanks, escapes and word boundaries). ``not`` binds tighter than ``and``, which binds
tighter than ``or``, as in current libs (``parser.cpp``'s ``OrExpr``/``AndExpr``/
``NotExpr``). Field names are not checked here; the compiler resolves them.

Differences from sysdig 0.29.3, whose hand-written state machine (libs e5c53d64,
``sinsp_filter_compiler::compile_``) accepts a few things by accident; every filter
that sysdig 0.29.3 accepts *and* means what it says is accepted here with the same
meaning:

- ``a and b or c`` is an error in 0.29.3 ("expression mixes 'and' and 'or' in an
  ambiguous way"); here ``and`` binds tighter, as in current libs and Falco.
- ``not not x`` is ``not x`` in 0.29.3 (it ORs a flag); here negations cancel.
- ``x not y`` (a missing ``and``/``or``) silently means ``x`` in 0.29.3; here it is an
  error, as are ``o r``/``a n d`` (0.29.3 skips blanks inside keywords) and keywords
  glued to a field (``notevt.type=open``, ``... andevt.dir=<``).
- ``==`` is the ``=`` operator (0.29.3 reads ``=`` and then the value ``=...``), and
  ``intersects`` works (0.29.3 reads ``in`` and then fails on ``tersects``).
- a value is required after an operator (0.29.3 compares with "" when the filter
  ends right after it: write ``''``), lists take no trailing comma, and ``in ()`` is an
  empty list that matches nothing (0.29.3 reads it as the list ``("")``).
- a quoted value ends at the same kind of quote that opened it (0.29.3 stops at
  either), so ``"it's"`` is one value; ``\\'`` is a quote (0.29.3 keeps the backslash).

Limits (so that hostile filters cannot exhaust the stack or memory): at most
:data:`MAX_FILTER_LENGTH` characters, and at most :data:`MAX_DEPTH` levels of brackets
and ``not`` around any check. libs itself caps its parser's recursion at 100.
"""

from __future__ import annotations

from .ast import LIST_OPS, UNARY_OPS, And, Compare, Node, Not, Or, Value
from .errors import FilterSyntaxError
from .lexer import Lexer, Token

#: Longest filter text accepted, in characters.
MAX_FILTER_LENGTH = 256 * 1024
#: Most brackets and ``not`` keywords that may enclose a check.
MAX_DEPTH = 100


def parse_filter(text: str) -> Node:
    """Parse ``text`` into a tree; raises :class:`FilterSyntaxError` naming the position."""
    if not isinstance(text, str):
        raise TypeError("filter text must be a str")
    try:
        return _Parser(text).parse()
    except FilterSyntaxError as exc:
        raise exc.with_text(text) from None


class _Parser:
    __slots__ = ("text", "lx")

    def __init__(self, text: str) -> None:
        self.text = text
        self.lx = Lexer(text)

    def parse(self) -> Node:
        text, lx = self.text, self.lx
        if len(text) > MAX_FILTER_LENGTH:
            raise FilterSyntaxError(
                f"filter is longer than {MAX_FILTER_LENGTH} characters", MAX_FILTER_LENGTH)
        try:
            text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise FilterSyntaxError("the filter holds a character that is not text "
                                    f"(U+{ord(text[exc.start]):04X})", exc.start) from None
        lx.skip_blanks()
        if lx.at_end():
            raise FilterSyntaxError("empty filter" if not text else
                                    "unexpected end of filter: it holds only blanks", lx.pos)
        node = self.or_expr(0)
        lx.skip_blanks()
        if not lx.at_end():
            if lx.peek() == ")":
                raise FilterSyntaxError("unexpected ')' without a matching '('", lx.pos)
            raise self.unexpected("expecting 'and', 'or' or the end of the filter")
        return node

    # -- errors -----------------------------------------------------------------------------

    def found(self) -> str:
        lx = self.lx
        if lx.at_end():
            return "the end of the filter"
        word = lx.bare_word()
        return repr(word.text if word is not None else lx.peek())

    def unexpected(self, expecting: str) -> FilterSyntaxError:
        lx = self.lx
        if lx.at_end():
            return FilterSyntaxError(f"unexpected end of filter, {expecting}", lx.pos)
        return FilterSyntaxError(f"unexpected {self.found()}, {expecting}", lx.pos)

    # -- boolean structure ------------------------------------------------------------------

    def or_expr(self, depth: int) -> Node:
        lx = self.lx
        lx.skip_blanks()
        pos = lx.pos
        children = [self.and_expr(depth)]
        while True:
            lx.skip_blanks()
            if lx.keyword("or") is None:
                break
            children.append(self.and_expr(depth))
        return children[0] if len(children) == 1 else Or(tuple(children), pos)

    def and_expr(self, depth: int) -> Node:
        lx = self.lx
        lx.skip_blanks()
        pos = lx.pos
        children = [self.not_expr(depth)]
        while True:
            lx.skip_blanks()
            if lx.keyword("and") is None:
                break
            children.append(self.not_expr(depth))
        return children[0] if len(children) == 1 else And(tuple(children), pos)

    def not_expr(self, depth: int) -> Node:
        lx = self.lx
        lx.skip_blanks()
        nots: list[int] = []
        while (tok := lx.keyword("not")) is not None:
            depth += 1
            if depth > MAX_DEPTH:
                raise FilterSyntaxError(f"filter nests more than {MAX_DEPTH} levels", tok.pos)
            nots.append(tok.pos)
            lx.skip_blanks()
        node = self.primary(depth)
        for pos in reversed(nots):
            node = Not(node, pos)
        return node

    def primary(self, depth: int) -> Node:
        lx = self.lx
        lx.skip_blanks()
        open_tok = lx.char("(")
        if open_tok is None:
            return self.check()
        if depth + 1 > MAX_DEPTH:
            raise FilterSyntaxError(f"filter nests more than {MAX_DEPTH} levels", open_tok.pos)
        node = self.or_expr(depth + 1)
        lx.skip_blanks()
        if lx.char(")") is None:
            raise self.unexpected(
                f"expecting 'and', 'or' or ')' to close the '(' at position {open_tok.pos}")
        return node

    # -- checks -----------------------------------------------------------------------------

    def check(self) -> Compare:
        lx = self.lx
        name = lx.field_name()
        if name is None or name.text in ("and", "or"):
            if name is not None:
                lx.pos = name.pos
            raise self.unexpected("expecting a field name, 'not' or '('")
        field_text = name.text
        arg: str | None = None
        if lx.char("[") is not None:
            arg_tok = lx.field_arg()
            if lx.char("]") is None:
                raise self.unexpected("expecting ']' after the field argument")
            arg = arg_tok.text
            field_text = self.text[name.pos:lx.pos]
        lx.skip_blanks()
        op = lx.operator()
        if op is None:
            raise self.unexpected(f"expecting a comparison operator after {field_text}")
        if op.text in UNARY_OPS:
            return Compare(name.text, arg, op.text, None, None, name.pos, op.pos)
        if op.text in LIST_OPS:
            values = self.value_list(op)
            return Compare(name.text, arg, op.text, None, values, name.pos, op.pos)
        lx.skip_blanks()
        tok = lx.value(in_list=False)
        if tok is None:
            raise self.unexpected(f"expecting a value after '{op.text}'")
        return Compare(name.text, arg, op.text, _value(tok), None, name.pos, op.pos)

    def value_list(self, op: Token) -> tuple[Value, ...]:
        lx = self.lx
        lx.skip_blanks()
        if lx.char("(") is None:
            raise self.unexpected(f"expecting '(' after '{op.text}'")
        values: list[Value] = []
        lx.skip_blanks()
        if lx.char(")") is not None:
            return ()
        while True:
            lx.skip_blanks()
            tok = lx.value(in_list=True)
            if tok is None:
                raise self.unexpected(f"expecting a value inside the '{op.text}' list")
            values.append(_value(tok))
            lx.skip_blanks()
            if lx.char(")") is not None:
                return tuple(values)
            if lx.char(",") is None:
                raise self.unexpected(
                    f"expecting ',' or ')' after a value inside the '{op.text}' list")


def _value(tok: Token) -> Value:
    return Value(tok.text, tok.pos, tok.quoted)
