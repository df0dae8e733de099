"""Factual errors: the rubric's list of common, clear-cut errors, found in an essay's sentences.

The mark scheme: "Factual errors reduce credit for evidence ... they are not subtracted one by
one." So an error found here is a measure the evidence band reads (``factual_errors`` in
:mod:`marker.profile`), a reason and a span under that band, and a target telling the student
what is true. Each check is data in the rubric (``fact_checks``, see :class:`marker.rubric.FactCheck`):

* a **claim** check: the sentence states the error ("Lenin's Testament named Trotsky as his
  successor"), unless it also holds one of the check's ``unless`` phrases (a negation: "did not
  name");
* a **date** check: a year written right next to the claim's last part - after it, across only
  dates, the claim's own words and little words ("died in January 1922", "death of Lenin in
  1923"), or just before it across the claim's words ("In 1922 Lenin died") - when none of the years so placed
  is accepted. A year further away belongs to something else ("In 1922 Lenin fell ill and died
  two years later" is not an error).
"""
from __future__ import annotations

from dataclasses import dataclass

from .lexicon import Cue, Lexicon, Phrase, cue_positions, match_at
from .rubric import FactCheck, Rubric
from .text import stem

# Words that may stand between an event and its date: "died in early January 1924", "death on the 21st of",
# "By 1925 Trotsky had been expelled".
_DATE_FILLER = frozenset(stem(w) for w in (
    "in on of the early late mid around about circa c by until till year month day had been was were he she they it "
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec").split())
_MAX_GAP = 5  # tokens between the event and the year, at most


@dataclass(frozen=True)
class FactualError:
    check: str  # the rubric's fact-check id
    sentence: int
    correction: str
    point: str | None
    minor: bool = False  # a contested claim stated as fact (see marker.rubric.FactCheck)


@dataclass(frozen=True)
class _Compiled:
    check: FactCheck
    claim: Cue
    unless: tuple[Phrase, ...]
    years: frozenset[int]
    claim_keys: frozenset[str]


_CACHE: dict[int, tuple[Lexicon, list[_Compiled]]] = {}


def _compiled(rubric: Rubric, lex: Lexicon) -> list[_Compiled]:
    hit = _CACHE.get(id(lex))
    if hit is None or hit[0] is not lex:
        out = []
        for fc in rubric.fact_checks:
            cue = lex.compile_cue(fc.claim)
            if cue is None:
                continue
            keys = frozenset(k for part in cue.parts for ph in part for k in ph.keys)
            out.append(_Compiled(fc, cue, tuple(lex.compile_phrases(fc.unless)), frozenset(fc.accepted_years()), keys))
        if len(_CACHE) >= 16:
            _CACHE.clear()
        hit = _CACHE[id(lex)] = (lex, out)
    return hit[1]


def _year(key: str) -> int | None:
    return int(key) if len(key) == 4 and key.isdigit() and 1000 <= int(key) <= 2100 else None


def _is_day(key: str) -> bool:
    return key.isdigit() and len(key) <= 2 or key[:-2].isdigit() and key[-2:] in ("st", "nd", "rd", "th")


def _dated(keys: list[str], start: int, end: int, own: frozenset[str]) -> list[int]:
    """Years written right after the event at tokens [start, end), or right before it."""
    years = []
    for j in range(end, min(len(keys), end + _MAX_GAP + 1)):
        if (y := _year(keys[j])) is not None:
            years.append(y)
            break
        if not (keys[j] in _DATE_FILLER or keys[j] in own or _is_day(keys[j])):
            break
    for j in range(start - 1, max(-1, start - 5), -1):
        if (y := _year(keys[j])) is not None:
            years.append(y)
            break
        if not (keys[j] in _DATE_FILLER or keys[j] in own):
            break
    return years


def _occurrences(keys: list[str], part: tuple[Phrase, ...]) -> list[tuple[int, int]]:
    """Every place any of the part's phrases occurs ("expelled and sent away by 1925": both)."""
    out = []
    for ph in part:
        for i, k in enumerate(keys):
            if k == ph.keys[0] and (end := match_at(keys, i, ph)) is not None:
                out.append((i, end))
    return sorted(out)


def find_errors(keys: list[list[str]], rubric: Rubric, lex: Lexicon) -> list[FactualError]:
    """The rubric's fact checks that fail in these sentences (given as matching keys), in sentence order;
    each check counts once per sentence. (Errors in text that earns no credit are set aside later, by
    ``Analysis.factual_errors``, once the flags have discounted it.)"""
    checks = _compiled(rubric, lex)
    out: list[FactualError] = []
    for i, k in enumerate(keys if checks else ()):
        key_set = set(k)
        for c in checks:
            if c.claim_keys.isdisjoint(key_set):
                continue
            found = cue_positions(k, key_set, c.claim)
            if found is None or any(ph.within(k, key_set) for ph in c.unless):
                continue
            if c.years:
                dated = [y for a, b in _occurrences(k, c.claim.parts[-1]) for y in _dated(k, a, b, c.claim_keys)]
                if not dated or any(y in c.years for y in dated):
                    continue
            out.append(FactualError(c.check.id, i, c.check.correction, c.check.point, c.check.minor))
    return out
