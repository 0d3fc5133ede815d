"""Benchmark: :func:`workbench.db.scrub` on long messages, against the regular expression it replaced.

The old scrubber masked ``scheme://user:password@`` with one regular expression that retries every
start position of a long word: quadratic (61 s on an 80,000-character token, issue 13). Both are
timed side by side on the same messages (a long word, as in ``SELECT aaaa...``) at sizes the old
one finishes in seconds; the new one alone at 5 MB. One JSON line per size, with the ratio
old/new; the aim is linear time (the new one's seconds per million characters about constant).

Usage: ``python bench/scrub.py [--sizes 5000,10000,20000] [--big 5000000]``
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.db import scrub  # noqa: E402

OLD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?P<tail>@)")
"""The scrubber's former pattern (the baseline)."""


def _time(fn, text: str) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(text)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,10000,20000", help="characters, timed old and new")
    parser.add_argument("--big", type=int, default=5_000_000, help="characters, timed new only")
    args = parser.parse_args()
    shapes = {"long_word": lambda n: "SELECT " + "a" * n,  # the message
              "schemes": lambda n: "x://a:" * (n // 6) + " postgresql://app:s3cret@db/x"}  # every '://' a candidate
    for shape, make in shapes.items():
        for n in [int(s) for s in args.sizes.split(",")]:
            text = make(n)
            old = _time(lambda t: OLD.sub(r"\g<head>***\g<tail>", t), text)
            new = _time(scrub, text)
            print(json.dumps({"bench": "scrub", "shape": shape, "chars": len(text), "old_s": round(old, 4),
                              "new_s": round(new, 6), "ratio_old_to_new": round(old / max(new, 1e-9), 1)}),
                  flush=True)
        text = make(args.big)
        new = _time(scrub, text)
        print(json.dumps({"bench": "scrub", "shape": shape, "chars": len(text), "new_s": round(new, 4),
                          "new_s_per_million_chars": round(new / len(text) * 1e6, 4)}), flush=True)


if __name__ == "__main__":
    main()
