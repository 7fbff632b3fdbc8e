"""What a container event's JSON says beyond name and image: mounts, labels, health probes.

sinsp 0.29.3 (libs e5c53d64, ``parse_container_json_evt``) reads them into the container's
``m_mounts`` (``docker_async_source::parse_json_mounts``), ``m_labels`` and
``m_health_probes`` (``container_health_probe::parse_health_probes``); the
``container.mount*``, ``container.healthcheck``... and ``k8s.*`` fields read them. Values
follow jsoncpp's conversions (``asString``: numbers and booleans become text, null
becomes ""); what jsoncpp would refuse (an object where a string is expected) is left out.
Lists are capped so that a hostile capture cannot make them grow without end.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

__all__ = ["Mount", "Probe", "container_extras", "json_string", "MAX_ITEMS", "MAX_TEXT"]

#: Most mounts, labels and probe arguments kept per container.
MAX_ITEMS = 1024
#: Longest text kept (a mount path, a label, a probe argument).
MAX_TEXT = 4096
#: sinsp's probe types, by their index (``probe_type_names``).
PROBE_TYPES = ("None", "Healthcheck", "LivenessProbe", "ReadinessProbe")


class Mount(NamedTuple):
    """One mount of a container (``container_mount_info``)."""

    source: str
    dest: str
    mode: str
    rdwr: bool
    propagation: str

    def text(self) -> str:
        """``source:dest:mode:rdwr:propagation`` (sinsp's ``to_string``)."""
        rw = "true" if self.rdwr else "false"
        return f"{self.source}:{self.dest}:{self.mode}:{rw}:{self.propagation}"


class Probe(NamedTuple):
    """A health probe: its type (index in :data:`PROBE_TYPES`), executable, arguments."""

    kind: int
    exe: str
    args: tuple[str, ...]

    def command(self) -> str:
        return " ".join((self.exe, *self.args))


def _real_text(v: float) -> str:
    """jsoncpp's ``valueToString(double)``: 17 significant digits, always a fraction."""
    if math.isnan(v):
        return "null"
    if math.isinf(v):
        return "1e+9999" if v > 0 else "-1e+9999"
    s = f"{v:.17g}"
    return s if any(c in s for c in ".e") else s + ".0"


def json_string(v: Any) -> str | None:
    """jsoncpp's ``asString`` for a value ``isConvertibleTo(stringValue)``, else None."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v[:MAX_TEXT]
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _real_text(v)
    return None


def _string_field(v: Any) -> str:
    """A mount's text attribute: kept only when it is a JSON string."""
    return v[:MAX_TEXT] if isinstance(v, str) else ""


def _mounts(value: Any) -> tuple[Mount, ...]:
    if not isinstance(value, list):
        return ()
    out = []
    for item in value[:MAX_ITEMS]:
        if item is None:
            item = {}
        if not isinstance(item, dict):
            continue
        rw = item.get("RW")
        out.append(Mount(_string_field(item.get("Source")), _string_field(item.get("Destination")),
                         _string_field(item.get("Mode")), rw is True,
                         _string_field(item.get("Propagation"))))
    return tuple(out)


def _labels(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    out: dict[str, str] = {}
    for key in sorted(value)[:MAX_ITEMS]:  # a std::map: by key
        text = json_string(value[key])
        if text is not None:
            out[key[:MAX_TEXT]] = text
    return out


def _probes(container: dict[str, Any]) -> tuple[Probe, ...]:
    out = []
    for kind, key in enumerate(PROBE_TYPES):
        probe = container.get(key)
        if not isinstance(probe, dict):
            continue
        exe = probe.get("exe")
        exe_text = None if exe is None else json_string(exe)
        if exe_text is None:
            continue
        args = probe.get("args")
        items = args[:MAX_ITEMS] if isinstance(args, list) else []
        texts = tuple(t for t in (json_string(a) for a in items) if t is not None)
        out.append(Probe(kind, exe_text, texts))
    return tuple(out)


def container_extras(container: dict[str, Any]) -> dict[str, Any]:
    """``mounts``, ``labels`` (sorted by key), ``probes`` and ``imagedigest`` of the
    ``container`` object of a container event."""
    digest = container.get("imagedigest")
    return {"mounts": _mounts(container.get("Mounts")),
            "labels": _labels(container.get("labels")),
            "probes": _probes(container),
            "imagedigest": digest[:MAX_TEXT] if isinstance(digest, str) else None}
