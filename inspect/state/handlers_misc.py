"""Handlers for metadata events: containers, users and groups.

Container events (written by the capturing agent when it learns about a container)
add what cgroups cannot tell: name, image, IP. User and group events (newer than
sysdig 0.29.3) keep the user list current after the capture started.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any

from scapkit.scapfile.snapshot import GroupInfo, UserInfo

from .container_extras import container_extras
from .paths import c_string, to_text
from .registry import handles
from .threads import ThreadInfo

if TYPE_CHECKING:
    from .engine import EventContext, StateEngine

#: Largest container description accepted (bytes of JSON).
MAX_CONTAINER_JSON = 1 << 16
#: How many containers, and users or groups added by events, are remembered.
MAX_CONTAINERS = 4096
MAX_USERS = 16384
#: Longest user/group/container text kept.
MAX_TEXT = 256
#: Container metadata lookup states.
LOOKUP_STARTED, LOOKUP_SUCCESSFUL, LOOKUP_FAILED = 0, 1, 2


def _text(raw: bytes | None) -> str:
    return "" if raw is None else to_text(c_string(raw)[:MAX_TEXT])


def _remember(eng: StateEngine, meta: dict[str, Any]) -> None:
    cid = meta.get("id")
    if not isinstance(cid, str) or not cid:
        return
    if cid not in eng.containers and len(eng.containers) >= MAX_CONTAINERS:
        return
    eng.containers[cid] = meta


@handles("container", direction=">")
def container_event(eng: StateEngine, ctx: EventContext) -> None:
    args = ctx.args
    if "json" in args:
        raw = args.raw("json") or b""
        if len(raw) > MAX_CONTAINER_JSON:
            return
        import json  # (here: few captures have container events)

        try:
            doc = json.loads(c_string(raw).decode("utf-8", "replace"))
        except ValueError:
            return
        c = doc.get("container") if isinstance(doc, dict) else None
        if not isinstance(c, dict):
            return
        meta: dict[str, Any] = {}
        for key in ("id", "full_id", "type", "name", "image", "imageid", "imagerepo",
                    "imagetag", "privileged"):
            value = c.get(key)
            meta[key] = value[:MAX_TEXT] if isinstance(value, str) else value
        meta.update(container_extras(c))  # mounts, labels, health probes
        ip = c.get("ip")
        if isinstance(ip, str):
            try:
                meta["ip"] = IPv4Address(ip)
            except ValueError:
                pass
        state = c.get("lookup_state")
        if not isinstance(state, int) or isinstance(state, bool) or state not in (0, 1, 2):
            state = LOOKUP_SUCCESSFUL
        if state == LOOKUP_STARTED:
            state = LOOKUP_FAILED  # a lookup still running when the capture was written
        meta["lookup_state"] = state
        _remember(eng, meta)
        cid = meta["id"] if isinstance(meta["id"], str) else ""
        # The event is attributed to a thread standing for the container itself.
        ctx.thread = ThreadInfo(tid=-1, pid=-1, ptid=0, vtid=-2, vpid=-2, comm=f"container:{cid}",
                                container_id=cid, uid=0, gid=0, loginuid=0)
        ctx.hidden = state != LOOKUP_SUCCESSFUL
        return
    # The old container event: id, type, name, image. sinsp looks up (and so creates)
    # the thread that emitted it.
    eng.threads.get_or_create(ctx.event.tid)
    _remember(eng, {"id": _text(args.raw("id")), "type": args.int("type"),
                    "name": _text(args.raw("name")), "image": _text(args.raw("image"))})


@handles("useradded", direction=">")
def user_added(eng: StateEngine, ctx: EventContext) -> None:
    a = ctx.args
    uid = a.int("uid")
    if uid is None or a.get("container_id"):
        return
    if uid not in eng.users and len(eng.users) >= MAX_USERS:
        return
    eng.users[uid] = UserInfo(uid, a.int("gid", 0) or 0, _text(a.raw("name")),
                              _text(a.raw("home")), _text(a.raw("shell")))


@handles("userdeleted", direction=">")
def user_deleted(eng: StateEngine, ctx: EventContext) -> None:
    uid = ctx.args.int("uid")
    if uid is not None and not ctx.args.get("container_id"):
        eng.users.pop(uid, None)


@handles("groupadded", direction=">")
def group_added(eng: StateEngine, ctx: EventContext) -> None:
    gid = ctx.args.int("gid")
    if gid is None or ctx.args.get("container_id"):
        return
    if gid in eng.groups or len(eng.groups) < MAX_USERS:
        eng.groups[gid] = GroupInfo(gid, _text(ctx.args.raw("name")))


@handles("groupdeleted", direction=">")
def group_deleted(eng: StateEngine, ctx: EventContext) -> None:
    gid = ctx.args.int("gid")
    if gid is not None and not ctx.args.get("container_id"):
        eng.groups.pop(gid, None)
