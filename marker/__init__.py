"""essay-marker's engine: rubric files in, explained marks out.

Public API (what the CLI and the app call)::

    rubric = load_rubric("stalin_trotsky_1929")
    result = mark(text, rubric, essay="alice.docx")     # -> MarkResult
    batch = mark_many(essays, rubric)                     # -> BatchResult

See docs/engine-api.md.
"""
__version__ = "0.1.0"

from .engine import BatchResult, iter_mark, mark, mark_many  # noqa: E402
from .ingest import (  # noqa: E402
    EssayText, IngestError, IngestFailure, from_text, read_bytes, read_file, read_paths, read_upload_many,
)
from .result import CriterionResult, MarkResult, PointResult, Span  # noqa: E402
from .rubric import Rubric, RubricError, list_rubrics, load_rubric, parse_rubric  # noqa: E402

__all__ = [
    "__version__", "mark", "mark_many", "iter_mark", "BatchResult", "MarkResult", "CriterionResult", "PointResult", "Span",
    "EssayText", "IngestError", "IngestFailure", "from_text", "read_bytes", "read_file", "read_paths",
    "read_upload_many", "Rubric", "RubricError", "list_rubrics", "load_rubric", "parse_rubric",
]
