"""Copying inside a class set: pairs of submissions that share much of their text.

Each essay becomes a set of word 5-gram shingles; the overlap of a pair is the
share of the *smaller* essay's shingles found in the other (containment), so a
short essay pasted inside a longer one still shows as copied.
"""
from __future__ import annotations

import re
from itertools import combinations

SHINGLE = 5
REPORT_FROM = 0.3  # pairs sharing at least this share of the smaller essay are reported

_WORD = re.compile(r"[a-z0-9']+")


def shingles(text: str, n: int = SHINGLE) -> set[int]:
    words = _WORD.findall(text.lower())
    return {hash(tuple(words[i:i + n])) for i in range(max(0, len(words) - n + 1))}


def similar_pairs(essays: list[tuple[str, str]], threshold: float = REPORT_FROM) -> list[dict]:
    """[{"a": name, "b": name, "overlap": share}] for pairs at or above ``threshold``, largest first."""
    sets = [(name, shingles(text)) for name, text in essays]
    # index shingles -> essays so only pairs sharing something are compared
    index: dict[int, list[int]] = {}
    for k, (_, sh) in enumerate(sets):
        for h in sh:
            index.setdefault(h, []).append(k)
    shared: dict[tuple[int, int], int] = {}
    for owners in index.values():
        if 1 < len(owners) <= 50:
            for i, j in combinations(owners, 2):
                shared[(i, j)] = shared.get((i, j), 0) + 1
    out = []
    for (i, j), n in shared.items():
        smaller = min(len(sets[i][1]), len(sets[j][1]))
        if smaller and n / smaller >= threshold:
            out.append({"a": sets[i][0], "b": sets[j][0], "overlap": round(n / smaller, 3)})
    return sorted(out, key=lambda p: (-p["overlap"], p["a"], p["b"]))
