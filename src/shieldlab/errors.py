"""Exceptions. Malformed input raises ScenarioError; per-threat failures are data, not exceptions."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass


class ShieldlabError(Exception):
    """Base class of shieldlab's exceptions."""


class _Missing:
    """The value of a key that is absent from the file (TOML has no null, so it cannot be confused)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029]")
_BARE_KEY = re.compile("[A-Za-z0-9_-]+")


def _key(key: object) -> str:
    """A key as TOML writes it: bare when it can be, else quoted (and escaped) like a string."""
    text = str(key)
    return text if _BARE_KEY.fullmatch(text) else _format(text, 0)


def format_value(value: object, *, limit: int = 200) -> str:
    """A value as it would be written in TOML: "180 s", 91, true, { lat = 91, lon = 0 }, [1, 2].

    Long values (a whole table) are cut to about `limit` characters.
    """
    text = _format(value, depth=0)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _format(value: object, depth: int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):  # JSON escapes the C0 controls; DEL, the C1 controls and U+2028/9 are escaped too
        return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))
    if isinstance(value, (Mapping, list, tuple)) and depth >= 4:
        return "…"
    if isinstance(value, Mapping):
        items = ", ".join(f"{_key(k)} = {_format(v, depth + 1)}" for k, v in value.items())
        return f"{{ {items} }}" if items else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format(v, depth + 1) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where it is, what was found and what was expected.

    `table` is readable ("missiles.icbm", "threats #2 (lofted)"; "" for the top level), `key` may be dotted for
    inline tables ("from.lat"), `value` is what the file holds there (MISSING when absent). A problem with
    neither table nor key is about the whole file (unreadable, TOML syntax): `value` then is the reason.

    str(problem) reads, e.g.:
        scen.toml: [missiles.icbm] key 'burn_time': got "-5 s"; expected a time greater than 0 s
        scen.toml: [threats #1 (a)] key 'missile': missing; expected the name of a missile type ...
        scen.toml: TOML syntax error: Invalid value (at line 3, column 7); expected valid TOML ...
    """

    file: str
    table: str
    key: str
    value: object
    expected: str

    def __str__(self) -> str:
        if not self.table and not self.key:
            return f"{self.file}: {self.value}; expected {self.expected}"
        where = f"[{self.table}]" if self.table else "(top level)"
        key = f" key '{self.key}'" if self.key else ""
        found = "missing" if self.value is MISSING else f"got {format_value(self.value)}"
        return f"{self.file}: {where}{key}: {found}; expected {self.expected}"


class ScenarioError(ShieldlabError, ValueError):
    """A scenario file is malformed. Carries every problem found, one message each."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

