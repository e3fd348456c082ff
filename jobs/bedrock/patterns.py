"""The service model's regex patterns (Java/ECMAScript flavoured) as Python regexes."""

from __future__ import annotations

import functools
import re
import sys
import unicodedata


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The model's `pattern` as a Python regex (use with ``fullmatch``); cached."""
    return _compile_pattern(pattern)


@functools.cache
def _compile_pattern(pattern: str) -> re.Pattern[str]:
    # re.ASCII: the service's regexes (Java/ECMAScript) treat \d, \w and \s as ASCII;
    # Python's default would also accept e.g. Arabic-Indic digits for [0-9]-style \d.
    return re.compile(_python_pattern(pattern), re.ASCII)


_PROPERTY = re.compile(r"\\([pP])\{([A-Za-z]{1,2})\}")


def _python_pattern(pattern: str) -> str:
    r"""Rewrite model regex syntax that Python's `re` lacks; everything else is kept as is.

    The model's patterns are Java/ECMAScript flavoured. The only construct in use that `re`
    rejects is the Unicode general-category class ``\p{L}`` (and its negation ``\P{L}``),
    which becomes an explicit character class built from `unicodedata`. Inside ``[...]``
    only ``\p`` is supported (``re`` cannot nest a negated set); anything else raises
    ValueError, which the test over every model pattern catches on a botocore upgrade.
    """
    if "\\p" not in pattern and "\\P" not in pattern:
        return pattern
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            match = _PROPERTY.match(pattern, i)
            if match is None:
                if pattern.startswith(("\\p", "\\P"), i):
                    raise ValueError(f"unsupported Unicode property in {pattern!r}")
                out.append(pattern[i : i + 2])
                i += 2
                continue
            negated, ranges = match.group(1) == "P", _category_class(match.group(2))
            if in_class and negated:
                raise ValueError(f"negated Unicode property inside a class in {pattern!r}")
            out.append(ranges if in_class else f"[{'^' if negated else ''}{ranges}]")
            i = match.end()
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            i += 1
            # A "]" right after "[" or "[^" is a literal, not the end of the class.
            for prefix in ("^]", "]", "^"):
                if pattern.startswith(prefix, i):
                    out.append(prefix)
                    i += len(prefix)
                    break
            continue
        if char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


@functools.cache
def _category_class(category: str) -> str:
    """Ranges (class body, no brackets) of code points in a Unicode general category."""
    if not _CATEGORY.fullmatch(category):
        raise ValueError(f"unknown Unicode general category {category!r}")
    parts: list[str] = []
    start = None
    for cp in range(sys.maxunicode + 2):
        inside = cp <= sys.maxunicode and unicodedata.category(chr(cp)).startswith(category)
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            end = cp - 1
            parts.append(
                _escape_cp(start) if start == end else f"{_escape_cp(start)}-{_escape_cp(end)}"
            )
            start = None
    return "".join(parts)


# Unicode general categories as \p{..} names them; one letter selects the whole group.
_CATEGORY = re.compile(r"[LMNPSZC]|L[ultmo]|M[nce]|N[dlo]|P[cdseifo]|S[mcko]|Z[slp]|C[cfson]")


def _escape_cp(cp: int) -> str:
    return f"\\U{cp:08x}"
