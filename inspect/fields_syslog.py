"""``syslog.*`` fields: a message written to ``/dev/log``, decoded.

sysdig 0.29.3's syslog decoder (libs e5c53d64, ``sinsp_filter_check_syslog``), reproduced
in :mod:`scapkit.inspect.state.syslog`: the fields have values on a successful write to
a ``/dev/log`` fd, once it was parsed, so a filter (which sysdig runs before parsing
most events) does not see them, but a ``-d`` filter does, and so does a filter on sendto
and sendmsg (which sysdig judges after parsing). ``evt.info`` of such a write is
``syslog sev=SEVERITY msg=MESSAGE``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .fields import field, field_class
from .state.syslog import syslog_message

if TYPE_CHECKING:
    from .state.engine import EventContext

field_class("syslog", "syslog", "", "Messages written to /dev/log, decoded (on the write "
            "event itself).")


@field("syslog.facility.str", "CHARBUF", "facility as text: kern, user, mail, daemon... "
       "local7")
def syslog_facility_str(ctx: EventContext) -> str | None:
    msg = syslog_message(ctx)
    return None if msg is None else msg.facility_text


@field("syslog.facility", "UINT32", "facility as a number (0-23)", fmt="DEC")
def syslog_facility(ctx: EventContext) -> int | None:
    msg = syslog_message(ctx)
    return None if msg is None else msg.facility


@field("syslog.severity.str", "CHARBUF", "severity as text: emerg, alert, crit, err, warn, "
       "notice, info, debug")
def syslog_severity_str(ctx: EventContext) -> str | None:
    msg = syslog_message(ctx)
    return None if msg is None else msg.severity_text


@field("syslog.severity", "UINT32", "severity as a number (0-7)", fmt="DEC")
def syslog_severity(ctx: EventContext) -> int | None:
    msg = syslog_message(ctx)
    return None if msg is None else msg.severity


@field("syslog.message", "CHARBUF", "the message text")
def syslog_message_text(ctx: EventContext) -> str | None:
    msg = syslog_message(ctx)
    return None if msg is None else msg.text
