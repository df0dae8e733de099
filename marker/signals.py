"""Sentence-level signals of the writing moves a mark scheme rewards.

Each detector here reads one sentence and says what it does: explains a cause,
weighs factors, cites precise evidence, narrates, drifts off the question. The
scorer turns these into criterion bands; every band then cites the sentences
whose signals earned it.

The word lists are the ordinary language of historical argument, not of one
question, so they live in code; question-specific vocabulary (names, offices,
events, the period) comes from the rubric through the lexicon.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from operator import itemgetter

from .lexicon import Lexicon, Phrase, PhraseIndex, match_at, rarest_key
from .text import Sentence, stem

# Causal connectives: a factor producing an effect.
_CAUSAL = [
    "because", "therefore", "as a result", "this meant", "which meant", "meant that", "so that", "allowed",
    "enabled", "led to", "consequently", "thus", "hence", "which is why", "this is why", "that is why",
    "in order to", "gave him", "helped him", "made it", "ensured", "caused",
    "resulted in", "due to", "owing to", "thanks to", "the reason", "explains", "meaning that", "this gave",
    "which gave", "which allowed", "this allowed", "let him", "made him",
    "made them", "so he", "so his", "so the", "so they", "so when", "as a consequence",
    "contributed", "played a part", "played a role", "undermined", "weakened", "strengthened", "isolated",
    "cost him", "depended on", "relied on", "by doing so", "in turn", "which helped",
    "this helped", "which hurt", "this hurt", "this was important because", "was significant because",
    "responsible for", "drove", "pushed", "turned", "since he", "since the",
    "mainly because", "partly because", "only because", "largely because", "exploit", "used this", "used his",
    "used the", "prevented", "stopped", "protected", "saved", "secured", "delivered", "won him", "left him",
    "forced", "blocked", "deprived", "cost", "gave", "meant", "rewarded", "paid off",
    "with the result", "the effect", "effect of", "impact", "because of", "as a result of",
    "this is important", "this was important", "this mattered", "mattered because",
    "explain", "reason why", "for this reason", "it follows", "which made", "this made", "so it",
]
# Words of weighing and judgement (credited only when reasons follow).
_JUDGEMENT = [
    "most important", "more important", "less important", "most significant", "more significant",
    "decisive", "crucial", "key factor", "key reason", "main reason", "main factor", "primary", "fundamental",
    "necessary", "sufficient", "on balance", "ultimately", "overall", "outweigh", "to a large extent",
    "to some extent", "to a lesser extent", "above all", "central", "the real reason", "most of all",
    "biggest reason", "biggest factor", "greatest", "mattered more", "mattered most", "matter more",
    "more than", "rather than", "not enough", "on its own", "by itself", "in itself", "in combination",
    "interlinked", "linked", "without", "would not have", "could not have", "would have", "however",
    "although", "nevertheless", "whereas", "yet", "while", "but", "in conclusion", "to conclude",
    "this essay will argue", "this essay argues", "i would argue", "it can be argued", "arguably",
    "historians", "historian", "disagree", "debate", "some argue", "others argue", "weigh", "relative importance",
]
# Strong weighing phrases: ranking or conditional dependence between factors.
_WEIGHING = [
    "most important", "more important", "less important", "most significant", "more significant", "decisive",
    "main reason", "key reason", "key factor", "main factor", "necessary", "sufficient", "on balance",
    "outweigh", "to a large extent", "to some extent", "above all", "mattered more", "mattered most",
    "not enough", "on its own", "by itself", "in itself", "would not have", "could not have", "without",
    "the real reason", "more than", "crucial", "fundamental", "primary", "biggest reason", "greatest",
    "relative importance", "only because", "not because", "less than", "rather than luck", "in combination",
]
_CONCLUSION_OPENERS = ["in conclusion", "to conclude", "overall", "in summary", "to sum up", "ultimately",
                       "therefore", "in the end", "all in all", "on balance", "in short"]
_NARRATIVE_OPENERS = re.compile(
    r"^(?:in|by|on|after|during|from|at the (?:start|end) of|early in|later in|the next year|then|next|"
    r"afterwards|soon after|shortly after|finally|meanwhile|following)\b[^.]{0,40}?\b(1[89]\d\d|\d{1,2}(?:st|nd|rd|th)?\s+\w+|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|spring|summer|autumn|winter)\b"
    r"|^(?:then|next|afterwards|after this|after that|soon after|finally|later)\b",
    re.IGNORECASE,
)
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
_QUOTE = re.compile(r"\"([^\"]{4,200})\"|'([A-Za-z][^']{8,200}[a-z.!?])'")
_OUTCOME = ["win", "won", "rise", "rose", "power", "leader", "leadership", "defeat", "victori", "victory", "emerg",
            "succeed", "success", "beat", "lost", "lose", "isol", "weak", "strength", "strong", "advantag",
            "disadvantag", "control", "domin", "support", "vote", "majority", "remov", "expel", "outmanoeuvr",
            "outvot", "threat", "danger", "fear", "trust", "popular", "credibl", "reput", "posit", "benefit",
            "opportun", "chanc", "fail", "mistak", "error"]
_FUNCTION_WORDS = frozenset(
    "a an the of to in on at by for with from as and or but so because that which who whom whose this these those "
    "was were is are be been being had has have did do does not no he she it they them his her its their him "
    "would could should might must can will shall may there than then when while if into over after before "
    # the rest of English's closed classes: pronouns, determiners, prepositions, conjunctions
    "i me my we us our you your himself herself itself themselves myself ourselves own what how why where "
    "all any some each every both either neither other another such like about up out down against between "
    "through during without until since upon within among across off onto toward towards".split()
)
FUNCTION_KEYS = frozenset(stem(w) for w in _FUNCTION_WORDS) | _FUNCTION_WORDS | frozenset(
    "also very much more most later even still just only made make get got one two lot alot thing things people "
    "important reason reasons becaus therefor howev".split())
# Stems of the words of luck and chance; a sentence "names luck" when one of its keys starts with one.
LUCK_WORDS = ("luck", "lucki", "fortun", "chanc", "timing", "circumst", "conting", "accid", "coincid",
              "unfortun", "misfortun")
_LUCK_KEY = re.compile("(?:^|\x00)(?:" + "|".join(LUCK_WORDS) + ")")  # over keys joined by NULs (no key has one)


def names_luck(keys: list[str]) -> bool:
    """Whether any key starts with one of LUCK_WORDS (one regex search instead of a test per key)."""
    return _LUCK_KEY.search("\x00".join(keys)) is not None


_FIRST_PERSON_CHAT = re.compile(r"\b(i think|in my opinion|honestly|basically|i reckon|i believe)\b", re.I)
_CHAT_WORDS = ("think", "opinion", "honestly", "basically", "reckon", "believe")  # one is in every match: a quick test
_DIGIT = re.compile(r"\d")


def _compile(words: list[str]) -> list[Phrase]:
    """Phrases over stems, each once (a phrase listed twice would count twice in a sentence)."""
    out = []
    for w in dict.fromkeys(words):
        keys = tuple(stem(x) for x in re.findall(r"[a-z']+", w.lower()))
        if keys:
            out.append(Phrase(keys, w))
    return out


JUDGEMENT = PhraseIndex(_compile(_JUDGEMENT))
WEIGHING = PhraseIndex(_compile(_WEIGHING))


@dataclass
class SentenceSignals:
    index: int
    keys: list[str]
    causal: list[str] = field(default_factory=list)
    judgement: list[str] = field(default_factory=list)
    weighing: list[str] = field(default_factory=list)
    outcome: bool = False  # talks about winning/losing/power
    focus: set[str] = field(default_factory=set)  # which focus people are named (Stalin, Trotsky)
    names: set[str] = field(default_factory=set)  # canonical keys of all names
    historians: set[str] = field(default_factory=set)
    years: list[int] = field(default_factory=list)
    dates: int = 0  # month + year or day + month
    numbers: int = 0  # figures other than years
    quotes: list[str] = field(default_factory=list)
    offices: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    topic: list[str] = field(default_factory=list)
    off_topic: list[str] = field(default_factory=list)
    narrative: bool = False  # opens like a chronicle ("In 1925 ...", "Then ...")
    function_ratio: float = 0.0  # share of function words: low in lists and keyword salad
    chatty: bool = False
    conclusion_opener: bool = False

    @property
    def evidence_items(self) -> int:
        return (len(self.offices) + len(self.events) + min(len(self.years), 2) + self.dates + self.numbers
                + len(self.quotes) + len(self.historians))

    @property
    def is_claim(self) -> bool:
        """A sentence that says something, not a list of terms."""
        return len(self.keys) >= 5 and self.function_ratio >= 0.18

    @property
    def explains(self) -> bool:
        """A causal link attached to the contest (who won or lost, and why)."""
        return bool(self.causal) and (self.outcome or bool(self.focus)) and self.is_claim


# An entry: (field number, place in that field's list of hits, phrase text, phrase or None for one key).
_Entry = tuple[int, tuple[str, int], str, "Phrase | None"]


@dataclass(frozen=True)
class _QuestionWords:
    """The signal words for one rubric: the marker's own lists with the rubric's additions
    (``vocabulary.causal``, ``conclusion``, ``outcome``), built once per lexicon."""

    causal: PhraseIndex
    merged: dict[str, list[_Entry]]  # every phrase index merged (see _merge)
    conclusion_by_first: dict[str, list[Phrase]]  # an opener must match from the first word
    outcome_stems: frozenset[str]


_BY_LEXICON: dict[int, tuple[Lexicon, _QuestionWords]] = {}


def question_words(lex: Lexicon) -> _QuestionWords:
    """The signal words of ``lex``'s rubric (built on first use, then remembered per lexicon)."""
    hit = _BY_LEXICON.get(id(lex))
    if hit is None or hit[0] is not lex:
        causal = PhraseIndex(_compile([*_CAUSAL, *lex.causal_words]))
        outcome = [*_OUTCOME, *(w.lower() for w in lex.outcome_words)]
        words = _QuestionWords(
            causal=causal,
            merged=_merge((causal, JUDGEMENT, WEIGHING, lex.office_index, lex.event_index, lex.topic_index,
                           lex.off_topic_index)),
            conclusion_by_first=PhraseIndex(_compile([*_CONCLUSION_OPENERS, *lex.conclusion_words])).by_first,
            outcome_stems=frozenset({stem(w) for w in outcome} | set(outcome)))
        if len(_BY_LEXICON) >= 16:
            _BY_LEXICON.clear()
        hit = _BY_LEXICON[id(lex)] = (lex, words)
    return hit[1]


def _merge(indexes: tuple[PhraseIndex, ...]) -> dict[str, list[_Entry]]:
    """The seven phrase indexes (the argument words - causal, judgement, weighing - and the
    rubric's offices, events, topic and off-topic words, numbered 0-6 in that order) merged into
    one, so a sentence's keys are looked up once for all of them.

    Each phrase is filed under its rarest key (``lexicon.rarest_key``). Its place among
    its field's hits is (first key, position under that key in the field's own index): sorting the
    hits by it lists them exactly as ``PhraseIndex.hits`` does (sorted first keys, then index order)."""
    entries = [(field_no, (first, pos), p)
               for field_no, index in enumerate(indexes)
               for first, phrases in index.by_first.items() for pos, p in enumerate(phrases)]
    rarest = rarest_key(p for _, _, p in entries)
    merged: dict[str, list[_Entry]] = {}
    for field_no, place, p in entries:
        merged.setdefault(rarest(p), []).append((field_no, place, p.text, p if len(p.keys) > 1 else None))
    return merged


_FIELD_AND_PLACE = itemgetter(0, 1)
_NON_DIGIT = re.compile(r"\D")
_ORDINAL = re.compile(r"\d{1,2}(?:st|nd|rd|th)")


def _figures(sentence: Sentence) -> tuple[list[int], int, int]:
    """(years, dates, other figures) written in a sentence."""
    years: list[int] = []
    dates = numbers = 0
    words, lowers, text = sentence.words, sentence.lowers, sentence.text
    for i, word in enumerate(words):
        if word[0].isdigit():
            digits = _NON_DIGIT.sub("", word)
            if len(digits) == 4 and word[:4].isdigit() and 1700 <= int(digits) <= 2100:
                years.append(int(digits))
                if i > 0 and lowers[i - 1] in _MONTHS:
                    dates += 1
            elif len(digits) <= 2 and i + 1 < len(lowers) and lowers[i + 1] in _MONTHS:
                dates += 1
            elif len(digits) >= 3 or "," in word or "%" in text[(end := sentence.spans[i][1] - sentence.start):end + 2] \
                    or (i + 1 < len(lowers) and lowers[i + 1] in ("per", "percent", "million", "thousand")):
                numbers += 1
            elif _ORDINAL.fullmatch(lowers[i]) and i + 1 < len(lowers) and \
                    lowers[i + 1] in ("congress", "conference", "party"):
                dates += 1
    return years, dates, numbers


def sentence_signals(sentence: Sentence, keys: list[str], lex: Lexicon) -> SentenceSignals:
    key_set = set(keys)
    lowers = sentence.lowers
    text = sentence.text
    question = question_words(lex)
    index = question.merged
    held = [entry for k in key_set & index.keys() for entry in index[k]
            if entry[3] is None or entry[3].within(keys, key_set)]
    held.sort(key=_FIELD_AND_PLACE)
    hits: tuple[list[str], ...] = ([], [], [], [], [], [], [])
    for field_no, _, phrase_text, _ in held:
        hits[field_no].append(phrase_text)
    causal, judgement, weighing, offices, events, topic, off_topic = hits
    years, dates, numbers = _figures(sentence) if _DIGIT.search(text) else ([], 0, 0)
    low = text.casefold()
    first = keys[:4]
    return SentenceSignals(
        index=sentence.index,
        keys=keys,
        causal=causal,
        judgement=judgement,
        weighing=weighing,
        outcome=not key_set.isdisjoint(question.outcome_stems),
        focus=key_set & lex.focus_keys,
        names=(key_set & lex.canonical_names.keys()) | (key_set & lex.historian_keys),
        historians=key_set & lex.historian_keys,
        years=years,
        dates=dates,
        numbers=numbers,
        quotes=[m.group(1) or m.group(2) for m in _QUOTE.finditer(text)],
        offices=offices,
        events=events,
        topic=topic,
        off_topic=off_topic,
        narrative=bool(_NARRATIVE_OPENERS.match(text.lstrip("-*• "))),
        function_ratio=sum(map(_FUNCTION_WORDS.__contains__, lowers)) / max(1, len(lowers)),
        chatty=any(w in low for w in _CHAT_WORDS) and bool(_FIRST_PERSON_CHAT.search(text)),
        conclusion_opener=bool(first) and any(
            match_at(first, 0, p) is not None for p in question.conclusion_by_first.get(first[0], ())),
    )
