"""Spelling for the communication criterion: pyspellchecker plus the rubric's allow-list.

British spellings ("organisation", "colour", "defence", "centre") are correct:
a word counts as known when its US form is. Names and history terms come from
the rubric's vocabulary; their misspellings ("Trotksy", "Kamanev") count as
errors here even though the content matcher still recognises them.
"""
from __future__ import annotations

import re
from functools import lru_cache

from spellchecker import SpellChecker

_BRITISH = [
    (re.compile(r"isation(s?)$"), r"ization\1"), (re.compile(r"is(e|ed|es|ing|er|ers)$"), r"iz\1"),
    (re.compile(r"yse(d|s)?$"), r"yze\1"), (re.compile(r"our(s|ed|ing|ite|ites|able)?$"), r"or\1"),
    (re.compile(r"tre(s)?$"), r"ter\1"), (re.compile(r"ence$"), r"ense"), (re.compile(r"ogue(s)?$"), r"og\1"),
    (re.compile(r"lled$"), "led"), (re.compile(r"lling$"), "ling"), (re.compile(r"ement$"), "ment"),
]


@lru_cache(maxsize=1)
def _checker() -> SpellChecker:
    return SpellChecker(distance=1)


@lru_cache(maxsize=100_000)
def is_known(word: str) -> bool:
    """Is a lower-cased word a correctly spelled English word (British or US)?"""
    sc = _checker()
    if word in sc:
        return True
    for pattern, repl in _BRITISH:
        us = pattern.sub(repl, word)
        if us != word and us in sc:
            return True
    if "-" in word:
        return all(is_known(p) for p in word.split("-") if p)
    if word.endswith("'s"):
        return is_known(word[:-2])
    return False


def is_misspelt(word: str, allowed: set[str]) -> bool:
    """Whether a word is misspelt: not in ``allowed`` (lower-cased) nor known to the dictionary.
    Words that are not plain letters, and words under three letters, never are. (Which capitalised
    words count as proper nouns is the lexicon's call: ``Lexicon.spelling_error``.)"""
    low = word.lower()
    if not low.isascii() or not low.replace("'", "").replace("-", "").isalpha() or len(low) < 3:
        return False
    return not (low in allowed or low.removesuffix("'s") in allowed or is_known(low))
