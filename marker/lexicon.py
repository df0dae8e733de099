"""Rubric vocabulary compiled for matching: names despite misspellings, cue phrases over stems.

Built once per rubric (cached) and shared by every detector. Matching works on
*keys*: a token's key is its Snowball stem, except that a token recognised as a
name (exactly or by fuzzy match, e.g. "Trotksy", "Kamanev", "Bukarin") takes the
canonical name's key, so "Trotksy's" and "Trotsky" match the same cue.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress

from rapidfuzz import fuzz, process

from .rubric import Rubric
from .spelling import is_known, is_misspelt
from .text import Sentence, normalise, stem, word_spans

_WORD_CACHE_SIZE = 200_000  # distinct words remembered per lexicon (a few tens of MB at most)
_POSSESSIVE = re.compile(r"(?:'s|s')$")
TERM_MIN_LEN = 6  # shorter words are too near too many others to correct
TERM_SIMILARITY = 85  # rapidfuzz ratio a misspelling must reach to count as a rubric word


def _key_of_word(word: str) -> str:
    return stem(_POSSESSIVE.sub("", word.lower()))


@dataclass(frozen=True)
class Phrase:
    """A sequence of keys; matches contiguous tokens, allowing one extra token between words."""

    keys: tuple[str, ...]
    text: str
    # the keys as a set: a sentence lacking any of them cannot hold the phrase (a cheap first test)
    key_set: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_set", frozenset(self.keys))

    def within(self, keys: list[str], key_set: set[str] | frozenset[str]) -> bool:
        """Whether the phrase occurs in a sentence with these keys (and this set of them)."""
        return self.key_set <= key_set and (len(self.keys) == 1 or phrase_positions(keys, self) is not None)


@dataclass(frozen=True)
class Cue:
    """All parts must match in one sentence; each part is a set of alternative phrases."""

    parts: tuple[tuple[Phrase, ...], ...]
    text: str


@dataclass
class Lexicon:
    rubric_id: str
    name_keys: dict[str, str]  # lower-cased spelling (any variant) -> canonical key
    canonical_names: dict[str, str]  # canonical key -> display name
    fuzzy_choices: list[str]  # spellings eligible for fuzzy matching
    focus_keys: set[str]
    historian_keys: set[str]
    office_phrases: list[Phrase]
    event_phrases: list[Phrase]
    topic_phrases: list[Phrase]
    off_topic_phrases: list[Phrase]
    # the rubric's words for the generic signals (vocabulary.causal, conclusion, outcome) and the words
    # never fuzzy-matched to a name (vocabulary.not_names)
    causal_words: tuple[str, ...] = ()
    conclusion_words: tuple[str, ...] = ()
    outcome_words: tuple[str, ...] = ()
    not_names: frozenset[str] = frozenset()
    point_cues: dict[str, list[Cue]] = field(default_factory=dict)
    cue_index: CueIndex | None = None
    office_index: PhraseIndex | None = None
    event_index: PhraseIndex | None = None
    topic_index: PhraseIndex | None = None
    off_topic_index: PhraseIndex | None = None
    explicit_phrases: dict[str, list[Phrase]] = field(default_factory=dict)
    allowed_words: set[str] = field(default_factory=set)  # lower-cased words the spell checker must accept
    # the rubric's own words (cues, terms, offices, events) of TERM_MIN_LEN letters or more, and their keys
    term_words: dict[str, str] = field(default_factory=dict)
    _fuzzy_cache: dict[str, str | None] = field(default_factory=dict)
    # Per-word memos, keyed by a token's text (its lower-case form and stem are functions of it): essays
    # share most of their vocabulary, so each distinct word is resolved once per process.
    _key_cache: dict[str, str] = field(default_factory=dict)
    _spelling_cache: dict[str, bool] = field(default_factory=dict)

    @cached_property
    def term_stems(self) -> frozenset[str]:
        """The keys of the rubric's words: a word with one of them needs no correcting."""
        return frozenset(self.term_words.values())

    @cached_property
    def term_choices(self) -> tuple[str, ...]:
        """The rubric's words, for fuzzy matching."""
        return tuple(sorted(self.term_words))

    # -- keys ---------------------------------------------------------------
    def name_of(self, word: str) -> str | None:
        """Canonical key of a name (exact variant or close misspelling) written as ``word``, else None."""
        low = _POSSESSIVE.sub("", word.lower())
        hit = self.name_keys.get(low)
        if hit is not None:
            return hit
        if len(low) < 5 or not word[0].isupper() and len(low) < 7:
            return None
        if low in self._fuzzy_cache:
            return self._fuzzy_cache[low]
        result = None
        if low not in self.not_names:
            match = process.extractOne(low, self.fuzzy_choices, scorer=fuzz.ratio, score_cutoff=80)
            if match is not None and match[0][0] == low[0]:
                result = self.name_keys[match[0]]
        self._fuzzy_cache[low] = result
        return result

    def term_key(self, low: str) -> str | None:
        """Key of the rubric word a misspelt word stands for ("Secetary", "testiment", "facions"), else None.

        Only words the spelling dictionary does not know are corrected, and only to a rubric word within
        a small edit with the same first letter, so a real word is never turned into a different one.
        (Not cached here: :meth:`keys` remembers each word's key.)"""
        if len(low) < TERM_MIN_LEN or not low.isalpha() or low in self.term_words or is_known(low):
            return None
        match = process.extractOne(low, self.term_choices, scorer=fuzz.ratio, score_cutoff=TERM_SIMILARITY)
        return self.term_words[match[0]] if match is not None and match[0][0] == low[0] else None

    def compile_cue(self, text: str) -> Cue | None:
        """A cue in the rubric's grammar (``a | b + c``), names resolved as everywhere else."""
        return _cue(text, self.name_keys)

    def compile_phrases(self, texts: list[str]) -> list[Phrase]:
        return _phrases(texts, self.name_keys)

    def keys(self, sentence: Sentence) -> list[str]:
        """Matching keys of a sentence's words (names canonicalised, others stemmed)."""
        try:
            return list(map(self._key_cache.__getitem__, sentence.words))
        except KeyError:  # a word not seen before
            cached = self._key_cache.get
            return [key if (key := cached(w)) is not None else self._resolve_key(w) for w in sentence.words]

    def _resolve_key(self, word: str) -> str:
        """A word's key, worked out and remembered (:meth:`keys` reads the memo)."""
        low, word_stem = word.lower(), stem(word.lower())
        name = self.name_of(word) if (word[0].isupper() or len(low) >= 7) else self.name_keys.get(low)
        if name is None and len(low) >= TERM_MIN_LEN and word_stem not in self.term_stems:
            name = self.term_key(low)
        key = name if name is not None else _key_of_word(low) if "'" in low else word_stem
        if len(self._key_cache) >= _WORD_CACHE_SIZE:
            self._key_cache.clear()
        self._key_cache[word] = key
        return key

    def misspelt_spans(self, sentences: Iterable[Sentence]) -> list[tuple[int, int]]:
        """The (start, end) of every word of these sentences that :meth:`spelling_error` says is misspelt."""
        out: list[tuple[int, int]] = []
        for s in sentences:
            try:
                verdicts = list(map(self._spelling_cache.__getitem__, s.words))
            except KeyError:  # a word not seen before
                verdicts = list(map(self.spelling_error, s.words))
            if any(verdicts):
                out.extend(compress(s.spans, verdicts))
        return out

    def spelling_error(self, word: str) -> bool:
        """Whether a word (as written) counts as misspelt: capitalised words that are not (near misses of)
        rubric names are taken as proper nouns; other words go to :func:`marker.spelling.is_misspelt`."""
        hit = self._spelling_cache.get(word)
        if hit is None:
            hit = not (word[0].isupper() and self.name_of(word) is None) and is_misspelt(word, self.allowed_words)
            if len(self._spelling_cache) >= _WORD_CACHE_SIZE:
                self._spelling_cache.clear()
            self._spelling_cache[word] = hit
        return hit


def match_at(keys: list[str], i: int, phrase: Phrase) -> int | None:
    """End position of ``phrase`` matched from token ``i`` (whose key must be its first), or None."""
    n = len(keys)
    j = i
    for pk in phrase.keys[1:]:
        if j + 1 < n and keys[j + 1] == pk:
            j += 1
        elif j + 2 < n and keys[j + 2] == pk:
            j += 2
        else:
            return None
    return j + 1


def phrase_positions(keys: list[str], phrase: Phrase) -> tuple[int, int] | None:
    """First (start, end) token positions where ``phrase`` occurs in ``keys`` (one gap allowed)."""
    first = phrase.keys[0]
    i = -1
    while True:
        try:
            i = keys.index(first, i + 1)
        except ValueError:
            return None
        end = match_at(keys, i, phrase)
        if end is not None:
            return i, end


def rarest_key(phrases: Iterable[Phrase]) -> Callable[[Phrase], str]:
    """For filing phrases: a function giving a phrase its key that the fewest of ``phrases`` share, so that
    a sentence is tested only against the phrases whose rarest key it has (many share "the", "so", "stalin")."""
    sharing = Counter(k for ph in phrases for k in ph.key_set)
    return lambda ph: min(sorted(ph.key_set), key=sharing.__getitem__)


class PhraseIndex:
    """Phrases indexed by their first key, so a sentence is checked only against phrases that can start in it."""

    def __init__(self, phrases: list[Phrase]):
        self.by_first: dict[str, list[Phrase]] = {}
        for p in phrases:
            self.by_first.setdefault(p.keys[0], []).append(p)

    def hits(self, keys: list[str], key_set: set[str]) -> list[str]:
        return [p.text for k in sorted(key_set & self.by_first.keys()) for p in self.by_first[k]
                if p.within(keys, key_set)]


class CueIndex:
    """Cues indexed by the first keys of their first part's alternatives.

    Every distinct phrase of every cue gets a number; a sentence is first searched once for the
    phrases it holds, and each cue part is then present when one of its phrases is
    (a set test), since many cues share parts ("Stalin", "because")."""

    def __init__(self, cues: dict[str, list[Cue]]):
        number: dict[Phrase, int] = {}
        # first key -> [(point id, cue text, its parts as sets of phrase numbers, whether it has 3+ parts)]
        self.by_first: dict[str, list[tuple[str, str, tuple[frozenset[int], ...], bool]]] = {}
        for pid, cs in cues.items():
            for c in cs:
                parts = []
                for part in c.parts:
                    parts.append(frozenset(number.setdefault(ph, len(number)) for ph in part))
                for k in {alt.keys[0] for alt in c.parts[0]}:
                    self.by_first.setdefault(k, []).append((pid, c.text, tuple(parts), len(parts) >= 3))
        # Each phrase is filed under its rarest key. A one-key phrase is filed with None: having its
        # key is holding it.
        rarest = rarest_key(number)
        self.phrases_by_key: dict[str, list[tuple[int, Phrase | None]]] = {}
        for ph, n in number.items():
            self.phrases_by_key.setdefault(rarest(ph), []).append((n, ph if len(ph.keys) > 1 else None))

    def matches(self, keys: list[str], key_set: set[str]) -> tuple[dict[str, str], set[str]]:
        """Points whose cues match this sentence (point id -> the cue's text), and points with a cue of
        three or more parts of which all but one match (weak evidence, combined with similarity)."""
        full: dict[str, str] = {}
        partial: set[str] = set()
        present = set()
        for k in key_set & self.phrases_by_key.keys():
            for n, ph in self.phrases_by_key[k]:
                if ph is None or ph.within(keys, key_set):
                    present.add(n)
        for k in sorted(key_set & self.by_first.keys()):
            for pid, text, parts, long in self.by_first[k]:
                if pid in full:
                    continue
                if long:
                    misses = 0
                    for part in parts:
                        if part.isdisjoint(present):
                            misses += 1
                            if misses > 1:
                                break
                    if misses == 0:
                        full[pid] = text
                    elif misses == 1:
                        partial.add(pid)
                else:  # one or two parts: all must match
                    for part in parts:
                        if part.isdisjoint(present):
                            break
                    else:
                        full[pid] = text
        return full, partial - set(full)


def cue_positions(keys: list[str], key_set: set[str], cue: Cue) -> list[tuple[int, int]] | None:
    """Token ranges matching every part of ``cue``, or None if some part is absent."""
    found = []
    for part in cue.parts:
        hit = None
        for phrase in part:
            if phrase.key_set <= key_set:
                hit = phrase_positions(keys, phrase)
                if hit:
                    break
        if hit is None:
            return None
        found.append(hit)
    return found


def _phrase(text: str, name_keys: dict[str, str]) -> Phrase | None:
    norm = normalise(text)
    words = [norm[a:b] for a, b in word_spans(norm)]
    keys = []
    for w in words:
        low = _POSSESSIVE.sub("", w.lower())
        keys.append(name_keys.get(low) or stem(low))
    return Phrase(tuple(keys), text) if keys else None


def _phrases(texts: list[str], name_keys: dict[str, str]) -> list[Phrase]:
    return [p for p in (_phrase(t, name_keys) for t in texts) if p is not None]


def _cue(text: str, name_keys: dict[str, str]) -> Cue | None:
    parts = []
    for part in text.split(" + "):
        alts = tuple(p for p in (_phrase(a.strip(), name_keys) for a in part.split("|")) if p is not None)
        if alts:
            parts.append(alts)
    return Cue(tuple(parts), text) if parts else None


def _build(rubric: Rubric) -> Lexicon:
    voc = rubric.vocabulary
    name_keys: dict[str, str] = {}
    canonical: dict[str, str] = {}
    for name, variants in voc.names.items():
        key = stem(name.lower())
        canonical[key] = name
        for v in [name, *variants]:
            low = _POSSESSIVE.sub("", v.lower().strip())
            if low and " " not in low and "-" not in low:
                name_keys.setdefault(low, key)
    for h in voc.historians:
        low = h.lower().strip()
        if " " not in low:
            name_keys.setdefault(low, stem(low))
    fuzzy_choices = [s for s in name_keys if len(s) >= 5]
    lex = Lexicon(
        rubric_id=rubric.id,
        name_keys=name_keys,
        canonical_names=canonical,
        fuzzy_choices=fuzzy_choices,
        focus_keys={name_keys.get(f.lower(), stem(f.lower())) for f in voc.focus},
        historian_keys={name_keys.get(h.lower(), stem(h.lower())) for h in voc.historians if " " not in h},
        office_phrases=_phrases(voc.offices, name_keys),
        event_phrases=_phrases(voc.events, name_keys),
        topic_phrases=_phrases(voc.topic, name_keys),
        off_topic_phrases=_phrases(voc.off_topic, name_keys),
        causal_words=tuple(voc.causal),
        conclusion_words=tuple(voc.conclusion),
        outcome_words=tuple(voc.outcome),
        not_names=frozenset(w.lower() for w in voc.not_names),
    )
    for p in rubric.points:
        lex.point_cues[p.id] = [c for c in (_cue(t, name_keys) for t in p.cues) if c is not None]
        lex.explicit_phrases[p.id] = _phrases(p.explicit_terms, name_keys)
    lex.cue_index = CueIndex(lex.point_cues)
    lex.office_index = PhraseIndex(lex.office_phrases)
    lex.event_index = PhraseIndex(lex.event_phrases)
    lex.topic_index = PhraseIndex(lex.topic_phrases)
    lex.off_topic_index = PhraseIndex(lex.off_topic_phrases)
    allowed = set(name_keys)
    for t in [*voc.terms, *voc.names, *voc.historians, *voc.offices, *voc.events]:
        allowed.update(w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'\-]*", t))
    rubric_words = [*voc.terms, *voc.offices, *voc.events, *(c for p in rubric.points for c in p.cues),
                    *(t for p in rubric.points for t in p.explicit_terms)]
    lex.term_words = {w: stem(w) for t in rubric_words for w in re.findall(r"[a-z]+", t.lower())
                      if len(w) >= TERM_MIN_LEN and w not in name_keys}
    # Misspelt name variants are matched but must still count as spelling errors: allow only the canonical.
    lex.allowed_words = allowed - {v.lower() for vs in voc.names.values() for v in vs if v.lower() not in
                                   {t.lower() for t in voc.terms}}
    return lex


_CACHE: dict[int, tuple[Rubric, Lexicon]] = {}


def lexicon_for(rubric: Rubric) -> Lexicon:
    """The compiled lexicon of a rubric, built once per rubric object."""
    hit = _CACHE.get(id(rubric))
    if hit is None or hit[0] is not rubric:
        if len(_CACHE) >= 16:
            _CACHE.clear()
        hit = _CACHE[id(rubric)] = (rubric, _build(rubric))
    return hit[1]
