"""The two NLTK parts the marker uses - Punkt and the Snowball stemmer - loaded quickly.

``import nltk`` runs ``nltk/__init__.py``, which eagerly imports most of NLTK and, through
it, scipy.stats, scikit-learn and pandas: about 3 s, most of the marker's start-up. The
marker needs only ``nltk.tokenize.punkt`` and ``nltk.stem.snowball``, whose own imports are
light. So we import just those modules, with NLTK's package ``__init__`` files stood in for
by empty packages while they load, and build the sentence tokenizer (with the English
``punkt_tab`` parameters shipped in ``marker/data/nltk_data``) in the same step, because
Punkt imports ``nltk.data`` lazily. Afterwards the stand-ins are removed from
``sys.modules``: a later ``import nltk`` anywhere in the process gets the real, complete
package, and our modules keep working from their own references.

This leans on NLTK's internal module layout, so any failure falls back to the plain
``import nltk`` route: slower to start, same results.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

NLTK_DATA = Path(__file__).resolve().parent / "data" / "nltk_data"

# Packages whose __init__ we skip; nltk.corpus only for the name snowball imports (unused:
# we never ask the stemmer to ignore stopwords, the one use of NLTK's corpora there).
_STAND_INS = {"nltk": "", "nltk.tokenize": "tokenize", "nltk.stem": "stem", "nltk.corpus": "corpus"}


def _english_punkt(punkt: Any, data: Any) -> Any:
    if str(NLTK_DATA) not in data.path:
        data.path.insert(0, str(NLTK_DATA))
    return punkt.PunktTokenizer("english")


def _load_light() -> tuple[Any, Any]:
    spec = importlib.util.find_spec("nltk")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("nltk is not installed")
    root = Path(list(spec.submodule_search_locations)[0])
    before = set(sys.modules)
    for name, sub in _STAND_INS.items():
        package = types.ModuleType(name)
        package.__path__ = [str(root / sub) if sub else str(root)]
        if name == "nltk.corpus":
            package.stopwords = None  # type: ignore[attr-defined]
        sys.modules[name] = package
    try:
        punkt = importlib.import_module("nltk.tokenize.punkt")
        snowball = importlib.import_module("nltk.stem.snowball")
        data = importlib.import_module("nltk.data")
        return _english_punkt(punkt, data), snowball.SnowballStemmer("english")
    finally:
        for name in set(sys.modules) - before:
            if name == "nltk" or name.startswith("nltk."):
                del sys.modules[name]


def _load_full() -> tuple[Any, Any]:
    import nltk
    from nltk.stem.snowball import SnowballStemmer

    return _english_punkt(nltk.tokenize.punkt, nltk.data), SnowballStemmer("english")


def load() -> tuple[Any, Any]:
    """(English Punkt sentence tokenizer, English Snowball stemmer)."""
    if "nltk" in sys.modules:  # the real package is already paid for
        return _load_full()
    try:
        return _load_light()
    except Exception:  # NLTK's layout changed: take the slow, supported route
        return _load_full()
