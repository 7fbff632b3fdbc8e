"""``scap read --since/--until``: a time window [since, until) over the events of a capture.

A bound is written as one of:

* an absolute time: ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS[.fraction]]`` or the same with
  ``T`` between date and time (ISO 8601), in UTC unless it ends with ``Z`` or an offset
  (``+02:00``, ``+0200``, ``-05``); the fraction has up to 9 digits (nanoseconds);
* an epoch number: digits only are nanoseconds since the epoch (``evt.rawtime``),
  digits with a fraction are seconds (``1534527348.518928110``, as ``-t a`` prints them);
* a duration after the first event: ``+5s``, ``+1m30s``, ``+250ms``, ``+1.5h``;
  the origin is the first event's timestamp (as ``evt.reltime`` and ``-t r`` count it);
* a duration before the last event: ``-10s`` (see :func:`needs_last_event`).

Units: ``ns``, ``us`` (or ``µs``), ``ms``, ``s``, ``m``, ``h``, ``d``; numbers may have a
fraction and parts may be chained, largest first or not (``1m30s``, ``2s500ms``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from enum import Enum

__all__ = ["Anchor", "TimeBound", "TimeWindow", "TimeSyntaxError", "parse_time"]

_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
          "m": 60_000_000_000, "h": 3_600_000_000_000, "d": 86_400_000_000_000}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")
_ABSOLUTE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?)?"
    r"\s*(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?")
_EPOCH_NS = re.compile(r"\d+")
_EPOCH_S = re.compile(r"(\d+)\.(\d{1,9})")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class TimeSyntaxError(ValueError):
    """A time bound that cannot be parsed; the message says what is accepted."""


class Anchor(Enum):
    """What a bound's number counts from."""

    EPOCH = "epoch"  # an absolute time in ns since the epoch
    FIRST = "first"  # ns after the first event
    LAST = "last"  # ns before the last event (stored as a negative offset)


@dataclass(frozen=True, slots=True)
class TimeBound:
    """A parsed bound: ``ns`` counted from ``anchor``."""

    anchor: Anchor
    ns: int
    text: str = field(default="", compare=False)

    def resolve(self, first_ts: int, last_ts: int | None) -> int:
        """The bound in ns since the epoch, given the first and last event timestamps."""
        if self.anchor is Anchor.EPOCH:
            return self.ns
        if self.anchor is Anchor.FIRST:
            return first_ts + self.ns
        if last_ts is None:
            raise ValueError(f"{self.text!r} needs the last event's timestamp")
        return last_ts + self.ns


def _duration(text: str, whole: str) -> int:
    """ns of a chain of ``<number><unit>`` parts (``1m30s``)."""
    pos, total = 0, Decimal(0)
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None:
            if _EPOCH_NS.fullmatch(text[pos:]) or _EPOCH_S.fullmatch(text[pos:]):
                raise TimeSyntaxError(f"invalid time {whole!r}: the duration needs a unit "
                                      "(ns, us, ms, s, m, h or d), as in +5s")
            raise TimeSyntaxError(f"invalid time {whole!r}: cannot read a duration at "
                                  f"{text[pos:]!r} (use e.g. +5s, +1m30s, +250ms, -10s)")
        total += Decimal(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos == 0:
        raise TimeSyntaxError(f"invalid time {whole!r}: nothing after the sign")
    return int(total)


def _offset_ns(tz: str | None) -> int:
    if tz is None or tz in ("Z", "z"):
        return 0
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {tz} out of range")
    return sign * (hours * 3600 + minutes * 60) * 1_000_000_000


def _absolute(m: re.Match[str]) -> int:
    year, month, day = (int(x) for x in m.group("date").split("-"))
    hour = int(m.group("h") or 0)
    minute = int(m.group("m") or 0)
    second = int(m.group("s") or 0)
    naive = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    whole = (naive - _EPOCH) // timedelta(seconds=1)
    frac = (m.group("frac") or "").ljust(9, "0")
    return whole * 1_000_000_000 + int(frac or 0) - _offset_ns(m.group("tz"))


def parse_time(text: str) -> TimeBound:
    """Parse one ``--since``/``--until`` value (see the module doc for the forms)."""
    s = text.strip()
    if not s:
        raise TimeSyntaxError("invalid time '': empty")
    if s[0] in "+-":
        ns = _duration(s[1:], text)
        return TimeBound(Anchor.FIRST, ns, text) if s[0] == "+" else \
            TimeBound(Anchor.LAST, -ns, text)
    if _EPOCH_NS.fullmatch(s):
        return TimeBound(Anchor.EPOCH, int(s), text)
    m = _EPOCH_S.fullmatch(s)
    if m:
        return TimeBound(Anchor.EPOCH, int(m.group(1)) * 1_000_000_000
                         + int(m.group(2).ljust(9, "0")), text)
    if _PART.fullmatch(s) or re.fullmatch(f"(?:{_PART.pattern})+", s):
        raise TimeSyntaxError(f"invalid time {text!r}: a duration needs a sign: +{s} after "
                              f"the first event, -{s} before the last")
    m = _ABSOLUTE.fullmatch(s)
    if m:
        try:
            return TimeBound(Anchor.EPOCH, _absolute(m), text)
        except (ValueError, OverflowError) as exc:
            raise TimeSyntaxError(f"invalid time {text!r}: {exc}") from None
    raise TimeSyntaxError(
        f"invalid time {text!r}: use 'YYYY-MM-DD HH:MM:SS[.fraction][Z|+HH:MM]' (UTC unless "
        "an offset is given), epoch nanoseconds, epoch seconds with a fraction, "
        "+DURATION after the first event or -DURATION before the last (e.g. +1m30s, -10s)")


@dataclass(slots=True)
class TimeWindow:
    """``[since, until)``; either bound may be missing. :meth:`resolve` fixes ``lo``/``hi``."""

    since: TimeBound | None = None
    until: TimeBound | None = None
    #: The capture's last event timestamp, when a bound counts back from it.
    last_ts: int | None = None
    #: The resolved bounds (ns since the epoch); None means unbounded.
    lo: int | None = None
    hi: int | None = None

    @property
    def needs_first_event(self) -> bool:
        return any(b is not None and b.anchor is Anchor.FIRST for b in (self.since, self.until))

    @property
    def needs_last_event(self) -> bool:
        return any(b is not None and b.anchor is Anchor.LAST for b in (self.since, self.until))

    def resolve(self, first_ts: int | None) -> None:
        """Fix ``lo`` and ``hi`` given the first event's timestamp (None: no event, and
        then a bound counted from it is left open)."""
        self.lo = self._fix(self.since, first_ts)
        self.hi = self._fix(self.until, first_ts)

    def _fix(self, bound: TimeBound | None, first_ts: int | None) -> int | None:
        if bound is None or (bound.anchor is Anchor.FIRST and first_ts is None):
            return None
        return bound.resolve(first_ts or 0, self.last_ts)

    def __contains__(self, ts: int) -> bool:
        return (self.lo is None or ts >= self.lo) and (self.hi is None or ts < self.hi)
