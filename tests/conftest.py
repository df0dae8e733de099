import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The labelled corpora (../shared/corpus or $ESSAY_MARKER_CORPUS). Required in CI, skipped elsewhere."""
    path = Path(os.environ.get("ESSAY_MARKER_CORPUS", ROOT.parent / "shared" / "corpus"))
    if not (path / "dev" / "labels.json").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"labelled corpus not found at {path} (set ESSAY_MARKER_CORPUS)")
        pytest.skip(f"labelled corpus not found at {path}; set ESSAY_MARKER_CORPUS to run this test")
    return path
