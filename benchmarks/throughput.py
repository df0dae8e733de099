"""Throughput, memory and start-up of the marker.

    python benchmarks/throughput.py [CORPUS_DIR] [--big 10000] [--processes N]

Prints, for a 30-essay class set and for ``--big`` essays (resampled from the
labelled corpus, read from CORPUS_DIR, default ../shared/corpus; the essays are
never copied into the repository):
  * essays per second for marking, per process and in all;
  * the time just to tokenise the same text (the floor any marker pays);
  * peak memory (resident set of this process and of its worker processes);
the 10,000 essays are streamed through ``marker.iter_mark`` and written out as JSON lines, as a bulk job would;
and the start-up time of a fresh process (imports, rubric, embedding model, first essay).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


class MemorySampler:
    """Samples, every ``every`` seconds, the resident (VmRSS) and proportional (Pss: shared pages split
    between the processes sharing them) memory of this process and all its children, from /proc.

    ``peak_rss_sum`` adds up each process's own peak: an upper bound, since forked workers share the
    parent's pages. ``peak_pss_total`` is the largest sum of Pss seen at one moment: what the job as a
    whole occupied."""

    def __init__(self, every: float = 0.25) -> None:
        import threading

        self.every = every
        self.peak_rss: dict[int, float] = {}
        self.peak_pss_total = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _pids() -> list[int]:
        me = os.getpid()
        kids: list[int] = []
        for task in Path(f"/proc/{me}/task").glob("*/children"):
            kids += [int(x) for x in task.read_text().split()]
        return [me, *kids]

    @staticmethod
    def _kb(path: str, field: str) -> float:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(field + ":"):
                    return float(line.split()[1])
        except OSError:
            pass
        return 0.0

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            pss = 0.0
            for pid in self._pids():
                rss = self._kb(f"/proc/{pid}/status", "VmRSS") / 1024
                self.peak_rss[pid] = max(self.peak_rss.get(pid, 0.0), rss)
                pss += self._kb(f"/proc/{pid}/smaps_rollup", "Pss") / 1024
            self.peak_pss_total = max(self.peak_pss_total, pss)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_rss_sum(self) -> float:
        return sum(self.peak_rss.values())


def startup_seconds() -> float:
    code = ("import time; t=time.perf_counter(); import marker; r=marker.load_rubric(); "
            "marker.mark('Stalin was General Secretary, so he controlled appointments and won.', r); "
            "print(time.perf_counter()-t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--big", type=int, default=10_000)
    ap.add_argument("--processes", type=int, default=None)
    args = ap.parse_args()
    files = sorted(Path(args.corpus).glob("*/*.txt"))
    if not files:
        print(f"no essays under {args.corpus}; skipping")
        return 0
    texts = [f.read_text(encoding="utf-8") for f in files]

    print(f"start-up (fresh process: imports, rubric, model, first essay): {startup_seconds():.2f} s")

    import marker
    from marker.text import analyse

    rubric = marker.load_rubric()
    marker.mark(texts[0], rubric)  # warm caches (model, rubric embeddings)
    rng = random.Random(0)
    for n in (30, args.big):
        batch = [(f"e{i}.txt", rng.choice(texts)) for i in range(n)]
        words = sum(len(t.split()) for _, t in batch)
        t0 = time.perf_counter()
        for _, t in batch:
            analyse(t)
        tok = time.perf_counter() - t0
        t0 = time.perf_counter()
        serial = marker.mark_many(batch[: min(n, 300)], rubric, processes=1)
        per_proc = len(serial.results) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        if n <= 1000:  # a class set: the app's and the CLI's path, with the copying check
            res = marker.mark_many(batch, rubric, processes=args.processes)
            assert len(res.results) == n
        else:  # a bulk job streams each result out (JSON lines) as it comes
            with tempfile.TemporaryFile("w") as out, MemorySampler() as mem:
                count = 0
                for r in marker.iter_mark(batch, rubric, processes=args.processes):
                    out.write(json.dumps(r.to_dict()) + "\n")
                    count += 1
            assert count == n
            res = None
            print(f"memory of the {n}-essay job, all {len(mem.peak_rss)} processes: peak proportional set "
                  f"(shared pages split) {mem.peak_pss_total:.0f} MB; sum of each process's peak resident set "
                  f"{mem.peak_rss_sum:.0f} MB (an upper bound: forked workers share the parent's pages)")
        wall = time.perf_counter() - t0
        print(f"{n:>6} essays ({words / n:.0f} words on average): {n / wall:7.1f} essays/s in all "
              f"({wall:.2f} s), {per_proc:6.1f} essays/s per process; tokenising alone {n / tok:7.1f} essays/s")
        del res, serial
    print(f"peak memory: this process {_rss_mb(resource.RUSAGE_SELF):.0f} MB, "
          f"largest worker {_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
