"""Shared pieces of the property tests (tests/test_fuzz_*.py): example counts per profile, leak checks.

``make test`` loads the ``ci`` Hypothesis profile (few examples, the same every run), ``make fuzz``
the ``fuzz`` one (``HYPOTHESIS_PROFILE=fuzz``: many random examples); see ``conftest.py``.
"""

from __future__ import annotations

import os

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")


def examples(ci: int, fuzz: int) -> int:
    """A test's example count: ``ci`` under ``make test``, ``fuzz`` under ``make fuzz``."""
    return fuzz if PROFILE == "fuzz" else ci


def fragments(secret: str, size: int = 4) -> set[str]:
    """Every run of ``size`` characters of ``secret``."""
    return {secret[i:i + size] for i in range(len(secret) - size + 1)}


def new_fragments(secret: str, text: str, baseline: str) -> list[str]:
    """Runs of four characters of ``secret`` in ``text`` that the same run with another password did not print."""
    return sorted(f for f in fragments(secret) if f in text and f not in baseline)
