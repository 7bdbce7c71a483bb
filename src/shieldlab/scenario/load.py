"""Read a scenario file, check all of it and build the model (model.py); names it does not define come from the
bundled catalog.

Every problem found is collected; if there is any, :class:`~shieldlab.errors.ScenarioError` is raised with all
of them, each naming the file, the table, the key, the value found and what was expected (the checks are those
of parse.py, driven by the schema, schema.py). Nothing but ScenarioError comes out of these functions for any
input: a file that cannot be read (missing, a directory, a device or pipe, larger than MAX_FILE_BYTES), is not
UTF-8, is not TOML, nests values too deeply for the TOML reader, or holds values the schema refuses.

A name the file does not define falls back to the bundled catalog (shieldlab.catalog): places wherever a point
is asked for, `missile = "..."`, a battery's `interceptor = "..."`, and `[[sensors]]` given as `radar = "..."`
(a catalog radar, any of whose keys the entry may override). The file's own definitions win; the entries used
are recorded in Scenario.catalog_refs.

A scenario *file* (load_scenario) must give something to compute: at least one [[threats]] table, a [coverage]
table or an [[assessments]] table; an empty or comment-only file is refused. Text and dicts (load_scenario_text,
scenario_from_dict) may be parts of a scenario (a few sensors, places), as the web page and the tests build them.
"""

from __future__ import annotations

import os
import stat
import sys
import tomllib
from collections.abc import Mapping
from typing import Any

from shieldlab import catalog
from shieldlab.errors import Problem, ScenarioError
from shieldlab.scenario.model import Scenario
from shieldlab.scenario.parse import parse_scenario
from shieldlab.scenario.schema import MAX_GRID_POINTS

__all__ = [
    "MAX_FILE_BYTES", "MAX_GRID_POINTS", "load_scenario", "load_scenario_text", "read_scenario_text",
    "scenario_from_dict",
]

MAX_FILE_BYTES = 10_000_000
"""The largest scenario file read: 10 MB. The bundled examples are under 10 kB; reading costs about 2 s and 50 MB
of memory per MB of TOML, so a larger file is refused before it is read."""

BOM = "\ufeff"
"""The byte-order mark some editors write at the start of UTF-8 files: skipped."""

WHAT_A_FILE_NEEDS = (
    "at least one [[threats]] table (the threats `shieldlab engage` flies) or a [coverage] table (the launch and "
    "aim points `shieldlab coverage` flies) or an [[assessments]] table (the flight tests `shieldlab assess` "
    "reads), with the missile types, sensors and batteries they use (docs/scenario.md)"
)


def scenario_from_dict(data: Mapping[str, Any], filename: str = "<dict>", *, use_catalog: bool = True) -> Scenario:
    """Check a parsed scenario (the TOML as a dict) and build it; raise ScenarioError listing every problem.

    With `use_catalog` (the default) names the file does not define are looked up in the bundled catalog.
    """
    return parse_scenario(data, filename, catalog=catalog if use_catalog else None)


def load_scenario_text(text: str, filename: str = "<string>") -> Scenario:
    """Parse and check scenario TOML text; `filename` names it in messages (and gives the default name).

    A leading byte-order mark is skipped. The text may be part of a scenario (no threats, no coverage).
    """
    return scenario_from_dict(_parse_toml(text, filename), filename)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read, parse and check a scenario file; raise ScenarioError naming the file and every problem.

    The file must be a regular file of at most MAX_FILE_BYTES, in UTF-8 (a leading byte-order mark is skipped),
    and give something to compute: [[threats]], [coverage] or [[assessments]].
    """
    filename = os.fspath(path)
    text = read_scenario_text(filename)
    data = _parse_toml(text, filename)
    empty = _nothing_to_compute(text, data, filename)
    try:
        scenario = scenario_from_dict(data, filename)
    except ScenarioError as error:
        if empty is None:
            raise
        raise ScenarioError([*error.problems, empty]) from None
    if empty is not None:
        raise ScenarioError([empty])
    return scenario


def read_scenario_text(path: str | os.PathLike[str]) -> str:
    """The text of a scenario file, read as load_scenario reads it: a regular file of at most MAX_FILE_BYTES, in
    UTF-8, a leading byte-order mark skipped; ScenarioError naming the file otherwise. For whatever shows or reads
    the file's text again (the report's listing of it, the web page's editor)."""
    filename = os.fspath(path)
    return _decode(_read(filename), filename).removeprefix(BOM)


# ---- reading ---------------------------------------------------------------------------------------------------


def _file_problem(filename: str, reason: str, expected: str) -> ScenarioError:
    return ScenarioError([Problem(filename, "", "", reason, expected)])


def _kind_of(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISFIFO, "a pipe"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _read(filename: str) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; ScenarioError otherwise.

    Devices, pipes and directories are refused before they are opened (reading /dev/zero never ends; opening a
    pipe waits for a writer); the file is checked again once open, and read no further than the limit, in case
    it was replaced or grows meanwhile.
    """
    expected_file = f"a scenario file: a regular file of at most {MAX_FILE_BYTES:,} bytes (10 MB)"

    def check(info: os.stat_result) -> None:
        if not stat.S_ISREG(info.st_mode):
            raise _file_problem(filename, f"cannot read it: it is {_kind_of(info.st_mode)}", expected_file)
        if info.st_size > MAX_FILE_BYTES:
            raise _file_problem(filename, f"the file is too large ({info.st_size:,} bytes)", expected_file)

    try:
        check(os.stat(filename))
        fd = os.open(filename, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as file:
            check(os.fstat(file.fileno()))
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise _file_problem(
            filename, f"cannot read the file ({error.strerror or error})", "a readable TOML scenario file"
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise _file_problem(filename, f"the file is too large (more than {MAX_FILE_BYTES:,} bytes)", expected_file)
    return data


_OTHER_ENCODINGS = (  # byte-order marks of encodings that are not UTF-8 (UTF-32 first: it starts like UTF-16)
    (b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"),
)


def _decode(data: bytes, filename: str) -> str:
    """The file's text: UTF-8, a leading byte-order mark skipped; ScenarioError for any other encoding."""
    expected = "a TOML file in UTF-8 (save it as UTF-8 in the editor)"
    for mark, encoding in _OTHER_ENCODINGS:
        if data.startswith(mark):
            raise _file_problem(filename, f"the file is {encoding} text (it starts with a {encoding} byte-order mark)",
                                expected)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - data.rfind(b"\n", 0, error.start)  # counted in bytes, from 1
        where = f"byte 0x{data[error.start]:02x} at line {line:,}, column {column:,}"
        raise _file_problem(filename, f"the file is not UTF-8 text ({where})", expected) from None
    return text


def _parse_toml(text: str, filename: str) -> dict[str, Any]:
    """The TOML text as a dict (a leading byte-order mark skipped); ScenarioError if it cannot be read."""
    try:
        return tomllib.loads(text.removeprefix(BOM))
    except tomllib.TOMLDecodeError as error:
        reason, expected = f"TOML syntax error: {error}", "valid TOML (https://toml.io)"
    except RecursionError:
        reason = "values nested too deeply to read (arrays or inline tables hundreds of levels inside each other)"
        expected = "the scenario's tables and values, nested a few levels at most (docs/scenario.md)"
    except ValueError as error:  # tomllib's int() refuses integers longer than Python reads
        reason = f"a value cannot be read ({error})"
        if "digits" in str(error):
            reason = f"an integer too long to read (more than {sys.get_int_max_str_digits():,} digits)"
        expected = "valid TOML (https://toml.io) with numbers of a sensible length"
    raise _file_problem(filename, reason, expected)


def _nothing_to_compute(text: str, data: Mapping[str, Any], filename: str) -> Problem | None:
    """The problem of a file that gives none of [[threats]], [coverage] and [[assessments]] (None when it gives
    one)."""
    if data.get("threats", []) != [] or "coverage" in data or data.get("assessments", []) != []:
        return None
    if not text.removeprefix(BOM).strip():
        reason = "the file is empty"
    elif not data:
        reason = "the file holds only comments"
    else:
        reason = "the file has no [[threats]], no [coverage] and no [[assessments]] table: nothing to compute"
    return Problem(filename, "", "", reason, WHAT_A_FILE_NEEDS)
