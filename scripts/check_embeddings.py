"""Quality check for the shipped sentence-embedding model (prints figures; asserts nothing).

Scores paraphrase pairs against unrelated pairs from the Stalin/Trotsky power struggle
(1924-29) with the distilled model2vec model (``marker.embed``) and, for comparison, with a
TF-IDF baseline (word 1-2-grams + char 2-5-grams, fitted on the same sentences).

Figures printed for each method:
  * mean cosine of the positive (paraphrase) pairs and of the negative (unrelated) pairs, and
    their difference (the margin). Raw cosines are on different scales for different methods
    (TF-IDF puts unrelated pairs near 0), so also:
  * separation: margin / pooled standard deviation of the two groups (scale-free, like d');
  * min(pos)-max(neg): positive only if every paraphrase outscores every unrelated pair;
  * pairwise accuracy: share of (positive, negative) combinations where the positive scores higher;
  * top-1 retrieval: share of positives' first sentences whose best match among all the
    paraphrases' second sentences is their own paraphrase.

Run from the project venv::

    python scripts/check_embeddings.py                   # the shipped model
    python scripts/check_embeddings.py --model-dir DIR   # another build (e.g. a --pca-dims variant)
    python scripts/check_embeddings.py -v                # also per-pair cosines
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Paraphrases: the same content point, worded differently (as a student might).
POSITIVES: list[tuple[str, str]] = [
    ("Stalin controlled appointments as General Secretary",
     "he decided who got which job in the party"),
    ("Lenin's Testament was suppressed",
     "Lenin's last letter criticising Stalin was kept quiet"),
    ("Trotsky missed Lenin's funeral",
     "Trotsky was not there when Lenin was buried"),
    ("Stalin allied with Zinoviev and Kamenev against Trotsky",
     "Stalin teamed up with Kamenev and Zinoviev to beat Trotsky"),
    ("Many Bolsheviks thought Trotsky was arrogant",
     "a lot of party members felt Trotsky was too proud and looked down on them"),
    ("Stalin supported Socialism in One Country",
     "Stalin said the USSR should build socialism by itself first"),
    ("Trotsky argued for Permanent Revolution",
     "Trotsky believed communism had to be spread to other countries"),
    ("Trotsky was expelled from the Communist Party in 1927",
     "in 1927 the party threw Trotsky out"),
    ("In 1928 Stalin turned against Bukharin and the Right",
     "Stalin then attacked Bukharin and the right wing of the party"),
    ("The Lenin Enrolment brought in new members loyal to Stalin",
     "lots of new people joined the party after Lenin died and they backed Stalin"),
    ("Trotsky was exiled from the USSR in 1929",
     "in 1929 Trotsky was forced to leave the Soviet Union"),
    ("Trotsky was a brilliant speaker",
     "Trotsky was very good at giving speeches"),
]

# Unrelated: same period and people, different content points.
NEGATIVES: list[tuple[str, str]] = [
    ("Trotsky founded the Red Army",
     "Stalin was rude to Krupskaya"),
    ("Stalin controlled appointments as General Secretary",
     "Trotsky was not there when Lenin was buried"),
    ("Lenin's Testament was suppressed",
     "in 1927 the party threw Trotsky out"),
    ("Trotsky missed Lenin's funeral",
     "Stalin said the USSR should build socialism by itself first"),
    ("Stalin allied with Zinoviev and Kamenev against Trotsky",
     "Trotsky was very good at giving speeches"),
    ("Stalin supported Socialism in One Country",
     "he decided who got which job in the party"),
    ("The NEP let peasants sell their surplus grain",
     "Trotsky was exiled from the USSR in 1929"),
    ("Stalin was underestimated by his rivals",
     "Lenin suffered a series of strokes in 1922 and 1923"),
    ("Trotsky had been a Menshevik before 1917",
     "Stalin used the Orgburo to place his supporters"),
    ("Bukharin wanted to keep the NEP",
     "Trotsky led the Red Army to victory in the Civil War"),
    ("The Politburo met after Lenin's death",
     "Trotsky believed communism had to be spread to other countries"),
    ("Kamenev and Zinoviev joined Trotsky in the United Opposition in 1926",
     "Lenin's last letter criticising Stalin was kept quiet"),
]


def summarise(name: str, pos: np.ndarray, neg: np.ndarray, top1: float) -> dict[str, float]:
    pairwise = float((pos[:, None] > neg[None, :]).mean())
    pooled_sd = float(np.sqrt((pos.var(ddof=1) + neg.var(ddof=1)) / 2))
    row = {
        "pos": float(pos.mean()),
        "neg": float(neg.mean()),
        "margin": float(pos.mean() - neg.mean()),
        "separation": float(pos.mean() - neg.mean()) / pooled_sd if pooled_sd > 0 else float("inf"),
        "min_pos_minus_max_neg": float(pos.min() - neg.max()),
        "pairwise": pairwise,
        "top1": top1,
    }
    print(
        f"{name:<28} pos {row['pos']:.3f}  neg {row['neg']:.3f}  margin {row['margin']:+.3f}  "
        f"separation {row['separation']:.2f}  min(pos)-max(neg) {row['min_pos_minus_max_neg']:+.3f}  "
        f"pairwise acc {row['pairwise']:.2f}  top-1 {row['top1']:.2f}"
    )
    return row


def pair_scores(vec_a: np.ndarray, vec_b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", vec_a, vec_b)


def evaluate(name: str, embed, verbose: bool) -> dict[str, float]:
    """``embed(list[str]) -> (n, d)`` unit-norm rows."""
    pa, pb = (list(x) for x in zip(*POSITIVES))
    na, nb = (list(x) for x in zip(*NEGATIVES))
    pos = pair_scores(embed(pa), embed(pb))
    neg = pair_scores(embed(na), embed(nb))
    sims = embed(pa) @ embed(pb).T
    top1 = float((sims.argmax(axis=1) == np.arange(len(pa))).mean())
    if verbose:
        print(f"--- {name}")
        for (a, b), s in zip(POSITIVES, pos):
            print(f"  + {s:.3f}  {a!r} ~ {b!r}")
        for (a, b), s in zip(NEGATIVES, neg):
            print(f"  - {s:.3f}  {a!r} ~ {b!r}")
    return summarise(name, pos, neg, top1)


def tfidf_embedder():
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    corpus = [s for pair in POSITIVES + NEGATIVES for s in pair]
    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True)
    word.fit(corpus)
    char.fit(corpus)

    def embed(texts: list[str]) -> np.ndarray:
        x = hstack([word.transform(texts), char.transform(texts)]).tocsr()
        return normalize(x).toarray()

    return embed


def main() -> None:
    ap = argparse.ArgumentParser(description="Paraphrase vs unrelated-pair check for marker.embed")
    ap.add_argument("--model-dir", type=Path, action="append",
                    help="model folder(s) to check (default: the shipped one); may repeat")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every pair's cosine")
    args = ap.parse_args()

    from marker.embed import MODEL_DIR, SentenceEncoder

    print(f"{len(POSITIVES)} paraphrase pairs, {len(NEGATIVES)} unrelated pairs\n")
    for model_dir in args.model_dir or [MODEL_DIR]:
        t0 = time.perf_counter()
        enc = SentenceEncoder(model_dir)
        load_s = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in Path(model_dir).rglob("*") if f.is_file())
        print(f"model {model_dir}  dim {enc.dim}  {size / 1e6:.2f} MB  loaded in {load_s * 1000:.0f} ms")
        evaluate(f"distilled ({Path(model_dir).name})", enc.encode, args.verbose)
        print()
    evaluate("TF-IDF word+char baseline", tfidf_embedder(), args.verbose)


if __name__ == "__main__":
    main()
