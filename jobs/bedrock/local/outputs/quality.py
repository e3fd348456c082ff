"""Model quality and seeded random draws: the numbers every generated score starts from."""

from __future__ import annotations

import hashlib
import random

# --- model quality --------------------------------------------------------------------------

# Substring of a model id -> its quality (0..1): the mean score it tends to get.
_KNOWN_QUALITY = (
    ("claude-3-5-sonnet", 0.86),
    ("claude-3-sonnet", 0.80),
    ("claude-3-5-haiku", 0.79),
    ("claude-3-haiku", 0.72),
    ("nova-pro", 0.82),
    ("nova-lite", 0.70),
    ("nova-micro", 0.62),
    ("titan-text-express", 0.52),
    ("titan-text-lite", 0.45),
    ("llama3-1-70b", 0.78),
    ("llama3-2-11b", 0.64),
    ("mistral-large", 0.76),
    ("command-r-plus", 0.74),
)


def _unit(text: str) -> float:
    """A stable number in [0, 1) from a string (not Python's salted hash)."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def model_quality(identifier: str) -> float:
    """How good a model (or a RAG source) is on average, derived from its id alone."""
    lowered = identifier.lower()
    for needle, quality in _KNOWN_QUALITY:
        if needle in lowered:
            return quality
    return round(0.50 + 0.35 * _unit("quality:" + identifier), 3)


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return min(high, max(low, value))


def _seeded(*parts: str) -> random.Random:
    # Seeded from strings (sha512 inside random), so the same inputs give the same draws on
    # any machine and any PYTHONHASHSEED.
    return random.Random("|".join(parts))  # noqa: S311 - fake data, not secrets
