"""sinsp's syslog decoder: messages written to ``/dev/log``, decoded.

sysdig 0.29.3 always runs it (libs e5c53d64, ``protodecoder.cpp``): an fd whose name
contains ``/dev/log`` when it is opened, connected or re-addressed (the /proc fd list
included) gets the decoder, and each successful write to it (write, send, sendto,
sendmsg, writev, pwrite, pwritev) is decoded while the event is parsed: ``<PRI>MESSAGE``,
where PRI is read from the second byte up to ``>``, a NUL or 15 characters and must be
all digits (wrapping as a C ``int32``; -1 means invalid), severity = PRI & 7, facility =
PRI >> 3. The result lives until the next event, so it belongs to the write itself, and
only once that was parsed (``ctx.parsed``): a filter run inside the engine sees it only
for the events sinsp judges after parsing them (sendto and sendmsg, which change state).

The decoder's registration is not tracked: an fd counts as a syslog fd when its name
contains ``/dev/log``. That is sinsp's rule except for fds that take such a name without
being opened, connected or re-addressed (an accepted connection on ``/dev/log``) and for
a connected fd later connected elsewhere, which sinsp keeps decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scapkit.scapfile.event_table import EVENTS

from .paths import c_string, to_text

if TYPE_CHECKING:
    from .engine import EventContext

__all__ = ["SyslogMessage", "syslog_message", "decode_syslog", "SEVERITIES", "FACILITIES"]

_WRITES = frozenset(e.code for e in EVENTS if e.symbol in (
    "SYSCALL_WRITE_X", "SOCKET_SEND_X", "SOCKET_SENDTO_X", "SOCKET_SENDMSG_X",
    "SYSCALL_WRITEV_X", "SYSCALL_PWRITE_X", "SYSCALL_PWRITEV_X"))
SEVERITIES = ("emerg", "alert", "crit", "err", "warn", "notice", "info", "debug")
FACILITIES = ("kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp",
              "clock", "authpriv", "ftp", "ntp", "logaudit", "logalert", "cron", "local0",
              "local1", "local2", "local3", "local4", "local5", "local6", "local7")
_MAX_PRI = 15
_DIGITS = frozenset(b"0123456789")


@dataclass(frozen=True, slots=True)
class SyslogMessage:
    """A decoded message: facility and severity numbers, and the text after ``>``."""

    facility: int
    severity: int
    message: bytes

    @property
    def facility_text(self) -> str:
        return FACILITIES[self.facility] if self.facility < len(FACILITIES) else "<NA>"

    @property
    def severity_text(self) -> str:
        return SEVERITIES[self.severity] if self.severity < len(SEVERITIES) else "<NA>"

    @property
    def text(self) -> str:
        """The message as a C string (up to a NUL)."""
        return to_text(c_string(self.message))

    def info_line(self) -> str:
        return f"syslog sev={self.severity_text} msg={self.text}"


def decode_syslog(data: bytes) -> SyslogMessage | None:
    """``data`` decoded as sinsp's syslog decoder does; None when it is not a message."""
    end = 1
    while end < len(data) and end - 1 < _MAX_PRI and data[end] not in b">\0":
        end += 1
    pri = data[1:end]
    if not pri or len(data) < len(pri) + 2 or any(b not in _DIGITS for b in pri):
        return None
    value = 0
    for b in pri:
        value = (value * 10 + b - 48) & 0xFFFFFFFF
    if value >= 1 << 31:
        value -= 1 << 32
    if value == -1:
        return None
    return SyslogMessage((value >> 3) & 0xFFFFFFFF, value & 7, bytes(data[len(pri) + 2:]))


def syslog_message(ctx: EventContext) -> SyslogMessage | None:
    """The message this event wrote to /dev/log, once the event was parsed."""
    if not ctx.parsed or ctx.event.type not in _WRITES:
        return None
    fd = ctx.evt_fd
    if fd is None or "/dev/log" not in fd.name:
        return None
    raw = ctx.args.raw_at(0)
    if raw is None or int.from_bytes(raw[:8].ljust(8, b"\0"), "little", signed=True) < 0:
        return None
    data = ctx.args.raw_at(1)
    return None if data is None else decode_syslog(data)
