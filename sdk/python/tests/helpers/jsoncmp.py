"""JSON comparisons with Go's semantics: booleans are not numbers."""

from __future__ import annotations

import json
from typing import Any

ANY = "{any}"


def strict_equal(a: Any, b: Any) -> bool:
    """Compares decoded JSON values; 1 equals 1.0, but True never equals 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def matches(got: Any, pattern: Any) -> bool:
    """Like strict_equal, but the pattern's "{any}" matches any non-null value."""
    if pattern == ANY:
        return got is not None
    if isinstance(pattern, dict):
        return (
            isinstance(got, dict)
            and got.keys() == pattern.keys()
            and all(matches(got[k], pattern[k]) for k in pattern)
        )
    if isinstance(pattern, list):
        return isinstance(got, list) and len(got) == len(pattern) and all(
            matches(g, p) for g, p in zip(got, pattern, strict=True)
        )
    return strict_equal(got, pattern)


def text_equal(a: str, b: str) -> bool:
    """Two strings are equal, or both are JSON with equal values."""
    if a == b:
        return True
    try:
        return strict_equal(json.loads(a), json.loads(b))
    except ValueError:
        return False


class RawNumber(str):
    """A JSON number kept as its original text (parse_float hook)."""


def compact(value: Any) -> str:
    """Serialises JSON compactly, writing RawNumber values exactly as they were read."""
    if isinstance(value, RawNumber):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + compact(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(compact(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
