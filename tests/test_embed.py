"""marker.embed: the shipped offline sentence-embedding model (model2vec, distilled from all-MiniLM-L6-v2)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from marker.embed import MODEL_DIR, EmbeddingModelMissingError, SentenceEncoder, get_encoder

REPO = Path(__file__).resolve().parents[1]

# (sentence, its paraphrase, an unrelated sentence from the same topic)
TRIPLES = [
    ("Lenin's Testament was suppressed",
     "Lenin's last letter criticising Stalin was kept quiet",
     "In 1927 the party threw Trotsky out"),
    ("Trotsky missed Lenin's funeral",
     "Trotsky was not there when Lenin was buried",
     "Stalin said the USSR should build socialism by itself first"),
    ("Stalin supported Socialism in One Country",
     "Stalin said the USSR should build socialism by itself first",
     "Trotsky was not there when Lenin was buried"),
    ("Trotsky was exiled from the USSR in 1929",
     "In 1929 Trotsky was forced to leave the Soviet Union",
     "The NEP let peasants sell their surplus grain"),
    ("Trotsky was a brilliant speaker",
     "Trotsky was very good at giving speeches",
     "Stalin was rude to Krupskaya"),
]

SENTENCES = [
    "Stalin controlled appointments as General Secretary.",
    "Trotsky founded the Red Army.",
    "Zinoviev and Kamenev formed the triumvirate with Stalin in 1923.",
    "he decided who got which job in the party",
    "Lenin's Testament was suppressed.",
]


@pytest.fixture(scope="module")
def enc() -> SentenceEncoder:
    return get_encoder()


def test_shipped_model_folder_is_complete_and_small():
    names = {p.name for p in MODEL_DIR.iterdir()}
    assert {"model.safetensors", "tokenizer.json", "config.json", "LICENSE", "README.md"} <= names
    total = sum(p.stat().st_size for p in MODEL_DIR.rglob("*") if p.is_file())
    assert total < 10 * 1024 * 1024
    assert "Apache License" in (MODEL_DIR / "LICENSE").read_text(encoding="utf-8")
    readme = (MODEL_DIR / "README.md").read_text(encoding="utf-8")
    assert "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db" in readme


def test_loads_shipped_model(enc):
    config = json.loads((MODEL_DIR / "config.json").read_text(encoding="utf-8"))
    assert enc.dim == config["hidden_dim"] > 0
    assert get_encoder() is enc  # cached singleton


def test_encode_shape_dtype_and_unit_norm(enc):
    vecs = enc.encode(SENTENCES)
    assert vecs.shape == (len(SENTENCES), enc.dim)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_empty_input(enc):
    out = enc.encode([])
    assert out.shape == (0, enc.dim)
    assert out.dtype == np.float32
    assert enc.similarity([], SENTENCES).shape == (0, len(SENTENCES))
    assert enc.similarity(SENTENCES, []).shape == (len(SENTENCES), 0)


def test_text_without_tokens_is_zero_row(enc):
    vecs = enc.encode(["", "Trotsky founded the Red Army."])
    assert not np.any(vecs[0])
    assert np.linalg.norm(vecs[1]) == pytest.approx(1.0, abs=1e-5)
    assert enc.similarity([""], ["Trotsky founded the Red Army."])[0, 0] == 0.0


def test_single_string_is_rejected(enc):
    with pytest.raises(TypeError):
        enc.encode("Trotsky founded the Red Army.")


def test_encode_is_deterministic(enc):
    first = enc.encode(SENTENCES)
    second = enc.encode(SENTENCES)
    assert np.array_equal(first, second)
    # A fresh encoder, and a sentence encoded alone or in another batch, give the same vector.
    fresh = SentenceEncoder(MODEL_DIR).encode(SENTENCES)
    assert np.array_equal(first, fresh)
    alone = enc.encode([SENTENCES[2]])
    assert np.array_equal(alone[0], first[2])
    shuffled = enc.encode(SENTENCES[::-1])
    assert np.array_equal(shuffled[::-1], first)


def test_paraphrases_score_higher_than_unrelated(enc):
    for sentence, paraphrase, unrelated in TRIPLES:
        sims = enc.similarity([sentence], [paraphrase, unrelated])[0]
        assert sims[0] > sims[1], (sentence, sims)
    # And on average by a clear margin.
    pos = [enc.similarity([s], [p])[0, 0] for s, p, _ in TRIPLES]
    neg = [enc.similarity([s], [u])[0, 0] for s, _, u in TRIPLES]
    assert np.mean(pos) - np.mean(neg) > 0.3


def test_similarity_matrix(enc):
    sims = enc.similarity(SENTENCES[:2], SENTENCES)
    assert sims.shape == (2, len(SENTENCES))
    assert sims.dtype == np.float32
    assert np.all(sims <= 1.0) and np.all(sims >= -1.0)
    assert sims[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert sims[1, 1] == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(sims, enc.encode(SENTENCES[:2]) @ enc.encode(SENTENCES).T, atol=1e-6)


def test_same_vectors_as_model2vec_reads_them(enc):
    """Our reader of the shipped table gives model2vec's own sentence vectors (to float rounding)."""
    model2vec = pytest.importorskip("model2vec")
    reference = model2vec.StaticModel.from_pretrained(str(MODEL_DIR))
    texts = [*SENTENCES, "Trotksy's arrogance (and Zinovyev's fear) helped Stalin.", "zzqx", ""]
    ours = enc.encode(texts)
    theirs = reference.encode(texts, normalize=True).astype(np.float32)
    norms = np.linalg.norm(theirs, axis=1, keepdims=True)
    theirs = np.divide(theirs, norms, out=np.zeros_like(theirs), where=norms > 0)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_missing_model_folder_gives_clear_error(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(EmbeddingModelMissingError) as info:
        SentenceEncoder(missing)
    message = str(info.value)
    assert str(missing) in message
    assert "scripts/build_embeddings.py" in message
    assert isinstance(info.value, FileNotFoundError)


def test_import_and_use_do_not_import_torch():
    code = (
        "import sys\n"
        "import marker.embed\n"
        "assert 'torch' not in sys.modules, 'import marker.embed pulled in torch'\n"
        "enc = marker.embed.get_encoder()\n"
        "enc.encode(['Trotsky founded the Red Army.'])\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'huggingface_hub', 'model2vec')\n"
        "               if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)
