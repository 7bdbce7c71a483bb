"""Scenario values replaced by path: the varied values of a sample put into a scenario (docs/scenario.md,
Uncertainty).

A path is a VarySpec's `path` (shieldlab.scenario.model.VarySpec): the first element a Scenario field, then, inside
a dict, a key (a missile type's name); inside a tuple, an entry's `name` (a sensor, a battery, a threat) or a 0-based
index (a staged type's stages); inside a dataclass, an attribute.

    set_path(scenario, ("interceptors", "sm3-iib", "burnout_speed_m_s"), 5200.0)
    apply(scenario, uncertainty.vary, (5200.0, 45.0, "launch"))

Pure and cheap: only the objects along the path are copied (frozen dataclasses with dataclasses.replace, dicts and
tuples shallowly); everything else is shared with the original scenario.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from shieldlab.scenario.model import Scenario, VarySpec

__all__ = ["apply", "set_path"]

T = TypeVar("T")


def _index(items: tuple, head: Any, path: Sequence[Any]) -> int:
    if isinstance(head, int) and not isinstance(head, bool):
        if not -len(items) <= head < len(items):
            raise KeyError(f"index {head} out of range (there are {len(items)}) in path {tuple(path)!r}")
        return head
    for i, item in enumerate(items):
        if getattr(item, "name", None) == head:
            return i
    raise KeyError(f"no entry named {head!r} in path {tuple(path)!r}")


def _set(obj: Any, path: Sequence[Any], at: int, value: Any) -> Any:
    if at == len(path):
        return value
    head = path[at]
    if isinstance(obj, dict):
        if head not in obj:
            raise KeyError(f"no key {head!r} in path {tuple(path)!r}")
        copy = dict(obj)
        copy[head] = _set(obj[head], path, at + 1, value)
        return copy
    if isinstance(obj, tuple):
        i = _index(obj, head, path)
        return obj[:i] + (_set(obj[i], path, at + 1, value),) + obj[i + 1:]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type) and isinstance(head, str):
        try:
            return dataclasses.replace(obj, **{head: _set(getattr(obj, head), path, at + 1, value)})
        except (AttributeError, TypeError, ValueError):  # no such field (or a property): a wrong path
            if head not in {f.name for f in dataclasses.fields(obj) if f.init}:
                raise KeyError(f"no attribute {head!r} of {type(obj).__name__} in path {tuple(path)!r}") from None
            raise
    raise KeyError(f"cannot follow {head!r} into a {type(obj).__name__} in path {tuple(path)!r}")


def set_path(obj: T, path: Sequence[Any], value: Any) -> T:
    """A copy of `obj` (a frozen dataclass tree such as a Scenario) with `value` at `path`; the original unchanged.

    KeyError names the step of the path that leads nowhere (an unknown name, attribute or index)."""
    return _set(obj, path, 0, value)


def apply(scenario: Scenario, vary_specs: Iterable[VarySpec], values: Iterable[Any]) -> Scenario:
    """The scenario with each spec's value put at its path (`values` in the order of `vary_specs`, one each)."""
    specs, drawn = tuple(vary_specs), tuple(values)
    if len(specs) != len(drawn):
        raise ValueError(f"{len(drawn)} values for {len(specs)} varied keys")
    for spec, value in zip(specs, drawn):
        scenario = _set(scenario, spec.path, 0, value)
    return scenario
