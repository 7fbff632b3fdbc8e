"""Argument coercion without pydantic for the plain parameter types of scap's commands.

typer (0.29) coerces every non-flag parameter through a pydantic ``TypeAdapter``: the
first command line argument costs importing pydantic and building one adapter per
parameter, about 0.1 s of CPU per run, more than ``scap read`` needs for a small capture.
For the annotations scap declares (``str``, ``int``, ``list[str]``, without parsers or
bounds, and the ``bool`` of flags) typer's adapters are the identity, ``int()`` of a
decimal string, and a list of those. :func:`install` gives such parameters a coercion that does just that for the
values it is sure about and hands every other value to typer's own coercion, built on
first need, so results and error messages are exactly typer's.

Nothing is changed when typer does not have the internals this relies on.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["install"]

_DECIMAL = re.compile(r"-?[0-9]{1,18}")
_installed: list[bool] = []


def _plain_kind(descriptor: Any) -> str | None:
    """``"str"``, ``"bool"``, ``"int"``, ``"list"`` (of str) when typer's adapter would be
    trivial for the values it meets."""
    info = descriptor.parameter_info
    if getattr(descriptor, "file_annotation", None) is not None:
        return None
    if getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None:
        return None
    annotation = descriptor.annotation
    if annotation is str:
        return "str"
    if annotation is bool:
        return "bool"
    if annotation is int:
        if any(getattr(info, k, None) not in (None, False) for k in ("min", "max", "clamp")):
            return None
        return "int"
    if annotation == list[str]:
        return "list"
    return None


def install() -> None:
    """Route typer's coercion of plain parameters through :class:`_Plain` (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    try:
        from dataclasses import dataclass

        from typer import _coercion, core
        base = _coercion.RuntimeParam
        build = _coercion.build_runtime_param
        param_cls = core._TyperParameter
        original = param_cls.get_runtime_param
    except (ImportError, AttributeError):
        return

    @dataclass(frozen=True)
    class _Plain(base):  # type: ignore[misc, valid-type]
        kind: str = "str"
        descriptor: Any = None

        def _fallback(self) -> Any:
            full = build(self.descriptor)
            object.__setattr__(self, "_full", full)
            return full

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind = self.kind
            if (kind == "str" and type(value) is str) or (kind == "bool" and type(value) is bool):
                return value
            if kind == "int" and type(value) is str and _DECIMAL.fullmatch(value):
                return int(value)
            if kind == "list" and isinstance(value, (list, tuple)) and all(
                    type(v) is str for v in value):
                return list(value)
            full = getattr(self, "_full", None) or self._fallback()
            return full._coerce_value(value, param=param, ctx=ctx)

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            descriptor = self.type_descriptor
            kind = _plain_kind(descriptor)
            if kind is None:
                return original(self)
            self._runtime_param = _Plain(parameter_info=descriptor.parameter_info,
                                         annotation=descriptor.annotation, kind=kind,
                                         descriptor=descriptor)
        return self._runtime_param

    param_cls.get_runtime_param = get_runtime_param
