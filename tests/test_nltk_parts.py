"""The quick NLTK loader gives the same sentences and stems as the full package, and leaves
``import nltk`` working for anyone else in the process."""
import subprocess
import sys

from marker import nltk_parts

TEXT = (
    "In 1924 Lenin died, e.g. after several strokes. Mr. Trotsky was ill! Was he absent? "
    "Stalin, as General Secretary from 1922, controlled appointments; the Lenin Enrolment followed."
)
WORDS = ["running", "appointments", "controlled", "generalisation", "leadership", "arguably"]


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_light_and_full_loaders_agree():
    light_punkt, light_stem = nltk_parts._load_light()
    full_punkt, full_stem = nltk_parts._load_full()
    assert list(light_punkt.span_tokenize(TEXT)) == list(full_punkt.span_tokenize(TEXT))
    assert len(list(light_punkt.span_tokenize(TEXT))) == 5
    assert [light_stem.stem(w) for w in WORDS] == [full_stem.stem(w) for w in WORDS]


def test_marker_import_leaves_the_real_nltk_importable():
    out = _run(
        "import sys, marker\n"
        "print('nltk' in sys.modules, 'scipy.stats' in sys.modules)\n"
        "import nltk\n"
        "print(hasattr(nltk, 'word_tokenize'), hasattr(nltk, 'FreqDist'))\n"
        "print(len(marker.text.analyse('One thing happened. Another thing followed.').sentences))\n"
    )
    assert out.splitlines() == ["False False", "True True", "2"]
