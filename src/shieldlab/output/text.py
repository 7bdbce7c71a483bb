"""Text from scenario files (names, values) made safe to print on a terminal, literally.

Names are data: `x[/red]y` must print as written, not as rich console markup, and control characters
(an escape sequence, a bell, a line break, a right-to-left override) must not reach the terminal.
`printable` replaces them by Python-style escapes (``\\x1b``, ``\\n``, ``\\u202e``); `literal` makes
a rich `Text` of the result, which rich prints without interpreting markup or highlighting it. Both
take time linear in the length of the text.
"""

from __future__ import annotations

from rich.text import Text

# C0 and C1 control characters, DEL, and the invisible format characters that reorder or hide text
# (bidirectional embeddings, overrides and isolates, zero-width characters, line/paragraph separators)
_FORMAT = (0x00AD, 0x061C, 0x180E, *range(0x200B, 0x2010), 0x2028, 0x2029, *range(0x202A, 0x202F),
           *range(0x2060, 0x2065), *range(0x2066, 0x2070), 0xFEFF)
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_ESCAPES = {c: _NAMED.get(c, f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")
            for c in (*range(0x00, 0x20), *range(0x7F, 0xA0), *_FORMAT)}


def printable(text: object) -> str:
    """str(text) with control and invisible format characters written as escapes (``\\x1b``)."""
    return str(text).translate(_ESCAPES)


def literal(text: object, style: str = "") -> Text:
    """A rich Text of `printable(text)`: printed as written (no markup, no highlighting)."""
    return Text(printable(text), style=style)


__all__ = ["printable", "literal"]
