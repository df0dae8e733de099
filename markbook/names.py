"""Student names from upload file names: "alice_smith.docx" -> "Alice Smith"."""
from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Iterable

# Words teachers and students add to file names that are not part of a name.
_NOISE = {"essay", "final", "draft", "copy", "submission", "homework", "hw"}


def student_name_from_filename(name: str, topic_words: Iterable[str] = ()) -> str:
    """Best guess at a student's name from a file name (zip members included).

    Drops folders and the extension, splits on _ - . and spaces, removes numbers,
    words like "essay"/"final" and ``topic_words`` (the question's people, e.g. "stalin",
    as in "alice_smith_stalin.docx"), and title-cases words typed all in one case
    (so "McDonald" stays as typed).
    """
    noise = _NOISE | {w.lower() for w in topic_words}
    stem = PurePosixPath(name.replace("\\", "/")).name
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", stem)
    words = [w for w in re.split(r"[\s_\-.,()\[\]]+", stem) if w]
    kept = [w for w in words if not w.isdigit() and not re.fullmatch(r"(v|draft)\d+", w, re.I)
            and w.lower() not in noise]
    if not kept:
        kept = words or [stem or "Unknown"]
    return " ".join(_cap(w) for w in kept)


def _cap(word: str) -> str:
    if word.islower() or word.isupper():
        return "-".join(p[:1].upper() + p[1:].lower() for p in word.split("-"))
    return word


def name_key(name: str) -> str:
    """Key for matching names typed differently ("alice  SMITH" == "Alice Smith")."""
    return " ".join(name.lower().split())


def sort_key(name: str) -> str:
    """Alphabetical order as a teacher expects it: accents and case ignored ("Ália" next to "Alice")."""
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)).casefold()
