"""Synthetic essays for the calibration and feature tests: the mark is the number of facts stated,
while length does not depend on it. Also the tiny rubric with no content points."""
from __future__ import annotations

from pathlib import Path

import numpy as np

FILLER = ("the people of the town talked about the weather and the market while children played near "
          "the old bridge and merchants counted their coins before the evening meal began").split()
FACTS = [
    "The treaty of Verdun divided the empire between three grandsons.",
    "A harsh winter destroyed the harvest and prices rose sharply.",
    "The new tax on salt angered the peasants in the southern provinces.",
    "Merchants from Venice controlled the trade in spices and silk.",
    "The bishop excommunicated the duke after the quarrel over land.",
    "Plague arrived on ships and killed a third of the population.",
]


def synthetic_essays(n: int, seed: int = 0) -> tuple[list[str], list[int]]:
    """Essays whose mark is the number of facts they state; length independent of the mark."""
    rng = np.random.RandomState(seed)
    texts, marks = [], []
    for _ in range(n):
        k = int(rng.randint(0, len(FACTS) + 1))
        chosen = list(rng.choice(len(FACTS), size=k, replace=False))
        sents = [FACTS[i] for i in chosen]
        for _ in range(int(rng.randint(4, 9))):
            words = list(rng.choice(FILLER, size=int(rng.randint(6, 14))))
            sents.append(" ".join(words).capitalize() + ".")
        order = rng.permutation(len(sents))
        paras = [" ".join(sents[i] for i in order[j:j + 3]) for j in range(0, len(order), 3)]
        texts.append("\n\n".join(paras))
        marks.append(k)
    return texts, marks


TINY_RUBRIC = (Path(__file__).parent / "data" / "tiny_rubric.yaml").read_text(encoding="utf-8")
