"""Marking runs in a background thread, one per assignment.

A Streamlit script is stopped whenever the user clicks something; marking
inside the script would stop with it. So the upload view starts a ``MarkJob``
(which calls ``MarkBook.mark_pending``, committing each result) and only *watches*
it. Leaving the page does not stop the marking, and coming back shows the
progress. If the server itself stops, the unmarked essays stay pending and the
assignment page offers to mark them.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from markbook import MarkBook, Principal

_jobs: dict[tuple[str, int], "MarkJob"] = {}
_lock = threading.Lock()


@dataclass
class MarkJob:
    assignment_id: int
    done: int = 0
    total: int = 0
    current: str = ""
    report: Any = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def progress(self, done: int, total: int, name: str) -> None:
        self.done, self.total, self.current = done, total, name


def start(book: MarkBook, actor: Principal, assignment_id: int, *, retry_failed: bool = False) -> MarkJob:
    """Start marking the assignment's pending essays, unless a run is already going."""
    key = (book.db.url, assignment_id)
    with _lock:
        job = _jobs.get(key)
        if job is not None and job.running:
            return job
        job = MarkJob(assignment_id)
        job.total = len(book.pending_ids(actor, assignment_id, retry_failed=retry_failed))

        def run() -> None:
            try:
                job.report = book.mark_pending(actor, assignment_id, progress=job.progress,
                                               retry_failed=retry_failed)
            except Exception as exc:  # shown to the teacher; the essays stay pending
                job.error = f"{type(exc).__name__}: {exc}"
            finally:
                job.finished = time.monotonic()

        job.thread = threading.Thread(target=run, name=f"mark-{assignment_id}", daemon=True)
        _jobs[key] = job
        job.thread.start()
        return job


def get(book: MarkBook, assignment_id: int) -> MarkJob | None:
    return _jobs.get((book.db.url, assignment_id))


def forget(book: MarkBook, assignment_id: int) -> None:
    with _lock:
        job = _jobs.get((book.db.url, assignment_id))
        if job is not None and not job.running:
            del _jobs[(book.db.url, assignment_id)]
