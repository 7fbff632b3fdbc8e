"""``k8s.*`` fields: the Kubernetes objects of the event's container.

sysdig 0.29.3 (libs e5c53d64, ``sinsp_filter_check_k8s``) takes what it can from the
labels of the thread's container (from container events): ``io.kubernetes.pod.name``,
``io.kubernetes.pod.namespace`` and ``io.kubernetes.pod.uid`` give ``k8s.pod.name``,
``k8s.ns.name`` and ``k8s.pod.id``; the pod's labels are those of its sandbox container
(the first 12 characters of ``io.kubernetes.sandbox.id``), without annotations and
``io.kubernetes.*`` ones, as ``key:value`` joined with ", ". Everything else comes from
the API server's state, which sysdig only has when it is given a server (``-k``) or when
the capture holds k8s state events (old sysdig agent captures, not replayed here): on
other captures those fields have no value, as in sysdig.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .fields import check_label, field, field_class, label_arg
from .render import RenderOptions

if TYPE_CHECKING:
    from .state.engine import EventContext

def _labels(ctx: EventContext, cid: str | None = None) -> dict[str, str] | None:
    """The labels of the thread's container (or of container ``cid``), when it has any."""
    if cid is None:
        t = ctx.thread
        if t is None or not t.container_id:
            return None
        cid = t.container_id
    meta = ctx.engine.containers.get(cid)
    labels = None if meta is None else meta.get("labels")
    return labels or None


def _label(key: str) -> Callable[[Any], str | None]:
    def extract(ctx: EventContext) -> str | None:
        labels = _labels(ctx)
        return None if labels is None else labels.get(key)
    return extract


def _pod_labels(ctx: EventContext) -> dict[str, str] | None:
    labels = _labels(ctx)
    sandbox = None if labels is None else labels.get("io.kubernetes.sandbox.id")
    return None if sandbox is None else _labels(ctx, sandbox[:12])


def _no_api_server(ctx: EventContext) -> None:
    return None


def _no_api_server_label(arg: str | None, options: RenderOptions) -> Callable[[Any], None]:
    check_label(arg)
    return _no_api_server


field_class("k8s", "k8s", "", "Kubernetes metadata: pod name, id, namespace and labels from "
            "the container's labels; the replication controllers, services, replica sets "
            "and deployments need sysdig's API server data, which captures do not hold.")

field("k8s.pod.name", "CHARBUF", "name of the pod (container label "
      "io.kubernetes.pod.name)")(_label("io.kubernetes.pod.name"))
field("k8s.pod.id", "CHARBUF", "uid of the pod (container label io.kubernetes.pod.uid)")(
    _label("io.kubernetes.pod.uid"))


@field("k8s.pod.label", "CHARBUF", "one label of the pod, e.g. k8s.pod.label.app (the "
       "labels of its sandbox container)", arg="required", parse_arg=label_arg,
       arg_syntax="dot", maker=True)
def k8s_pod_label(arg: str | None, options: RenderOptions) -> Callable[[Any], str | None]:
    key = check_label(arg)

    def extract(ctx: EventContext) -> str | None:
        labels = _pod_labels(ctx)
        return None if labels is None else labels.get(key)
    return extract


@field("k8s.pod.labels", "CHARBUF", "the pod's labels as key:value, joined with ', ' "
       "(annotations and io.kubernetes.* left out)")
def k8s_pod_labels(ctx: EventContext) -> str | None:
    labels = _pod_labels(ctx)
    if labels is None:
        return None
    return ", ".join(k + (":" + v if v else "") for k, v in labels.items()
                     if not k.startswith(("annotation.", "io.kubernetes.")))


for _kind, _what in (("rc", "replication controller"), ("svc", "service"),
                     ("ns", "namespace"), ("rs", "replica set"), ("deployment", "deployment")):
    if _kind == "ns":
        field("k8s.ns.name", "CHARBUF", "namespace of the pod (container label "
              "io.kubernetes.pod.namespace)")(_label("io.kubernetes.pod.namespace"))
    else:
        field(f"k8s.{_kind}.name", "CHARBUF", f"name of the pod's {_what} (API server "
              "data)")(_no_api_server)
    field(f"k8s.{_kind}.id", "CHARBUF", f"uid of the pod's {_what} (API server data)")(
        _no_api_server)
    field(f"k8s.{_kind}.label", "CHARBUF", f"one label of the pod's {_what}, e.g. "
          f"k8s.{_kind}.label.app (API server data)", arg="required", parse_arg=label_arg,
          arg_syntax="dot", maker=True)(_no_api_server_label)
    field(f"k8s.{_kind}.labels", "CHARBUF", f"labels of the pod's {_what} as key:value, "
          "joined with ', ' (API server data)")(_no_api_server)
