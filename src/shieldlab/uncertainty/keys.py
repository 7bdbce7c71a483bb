"""Scenario values by path: a copy of a frozen scenario with some values replaced (`[uncertainty]` `vary`)."""

from __future__ import annotations

import dataclasses


def set_path(obj, path, value):
    """A copy of `obj` (frozen dataclasses, dicts by key, tuples of named entries by name or by index) with the
    value at `path` replaced; the parts off the path are shared, not copied."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(obj, dict):
        out = dict(obj)
        out[head] = set_path(obj[head], rest, value)
        return out
    if isinstance(obj, tuple):
        if isinstance(head, int):
            i = head
        else:
            i = next(k for k, e in enumerate(obj) if getattr(e, "name", None) == head)
        return obj[:i] + (set_path(obj[i], rest, value),) + obj[i + 1:]
    return dataclasses.replace(obj, **{head: set_path(getattr(obj, head), rest, value)})


def apply(scenario, vary_specs, values):
    """The scenario with every VarySpec's value set (values in the same order)."""
    for v, x in zip(vary_specs, values):
        scenario = set_path(scenario, v.path, x)
    return scenario
