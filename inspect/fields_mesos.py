"""``mesos.*`` and ``marathon.*`` fields: the Mesos task of the event's container.

sysdig 0.29.3 (libs e5c53d64, ``sinsp_filter_check_mesos``) finds the task in the state
of its Mesos client, filled from a Mesos master or from the mesos state events of old
sysdig agent captures (not replayed here); reading a capture without them, the state is
empty and every field has no value, which is what these fields give. The label fields
check their argument as sysdig does (``mesos.task.label.KEY``). (Mesos events are not
replayed: sysdig stops reading a capture at some malformed ones, which are passed over
here.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .fields import check_label, field, field_class, label_arg
from .render import RenderOptions

if TYPE_CHECKING:
    from .state.engine import EventContext


def _no_master_data(ctx: EventContext) -> None:
    return None


def _no_master_label(arg: str | None, options: RenderOptions) -> Callable[[Any], None]:
    check_label(arg)
    return _no_master_data


field_class("mesos", "mesos", "", "Mesos and Marathon metadata of the container's task: "
            "Mesos master data, which captures do not hold.")

for _prefix, _what, _parts in (
        ("mesos.task", "Mesos task", ("name", "id", "label", "labels")),
        ("mesos.framework", "Mesos framework of the task", ("name", "id")),
        ("marathon.app", "Marathon app of the task", ("name", "id", "label", "labels")),
        ("marathon.group", "Marathon group of the task", ("name", "id"))):
    for _part in _parts:
        if _part == "label":
            field(f"{_prefix}.label", "CHARBUF", f"one label of the {_what}, e.g. "
                  f"{_prefix}.label.foo", arg="required", parse_arg=label_arg,
                  arg_syntax="dot", maker=True)(_no_master_label)
        elif _part == "labels":
            field(f"{_prefix}.labels", "CHARBUF", f"labels of the {_what} as key:value, "
                  "joined with ', '")(_no_master_data)
        else:
            field(f"{_prefix}.{_part}", "CHARBUF", f"{_part} of the {_what}")(_no_master_data)
