"""Adversarial benchmark (issue 3): can the marks be gamed, and are honest essays treated fairly?

    python benchmarks/adversarial.py [CORPUS_DIR] [--strict] [--examples N] [--processes N]

CORPUS_DIR is the folder holding ``dev/`` (or the ``dev`` folder itself); by default
$ESSAY_MARKER_CORPUS, else ``<repo>/../shared/corpus``. Every attack in ``marker.attacks.ATTACKS``
(every variant) is built from every dev essay with a label mark >= 10; the attacks that ignore the
source (off-topic, non-English, restatement, letter gibberish) are built once. Fairness transforms
are built from the same essays, plus the hand-written unusual-judgement essay. Everything is marked
in one ``marker.mark_many`` batch, and the report gives:

* per attack: the share flagged with its expected flag, how many raised the mark / the level above
  the source essay's, the mean mark change (source-free attacks: the mean mark and how many
  scored over 5);
* overall: % flagged right (target >= 90%), attacks raising an essay by a level or more (target 0),
  gaming flags on the honest dev essays (target <= 1), fairness cases moving more than one level
  (target 0), the unusual-judgement essay's level (target >= 4);
* examples of the attacks that were not caught: expected flag missing, mark raised above the
  source's, or over 5 without a source (``--examples N`` per attack, default 2).

It always exits 0 (it is a report) unless ``--strict`` is given: then 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import marker  # noqa: E402
from marker import attacks as A  # noqa: E402

MIN_SOURCE_MARK = 10
TARGET_FLAGGED = 0.90
TARGET_RAISED_LEVEL = 0
TARGET_FALSE_FLAGS = 1
TARGET_UNUSUAL_LEVEL = 4
FAIR_MARK_WITHOUT_SOURCE = 5
# Builders that ignore the source text entirely (built once, not once per source).
_IGNORES_SOURCE = {("off_topic_namedrop", v) for v in A.variants("off_topic_namedrop")} | \
    {("non_english", v) for v in A.variants("non_english")} | {("restatement", None)} | \
    {("gibberish", "letters"), ("gibberish", "pseudo")}


@dataclass
class Case:
    name: str            # unique essay name in the batch
    kind: str            # "attack", "fairness", "source", "unusual"
    attack: str          # attack / transform name ("" for sources)
    variant: str | None
    source: str | None   # source essay file, None for source-free builds
    text: str
    expected: str | None
    label: dict | None = None


def _corpus(arg: str | None) -> Path:
    path = Path(arg or os.environ.get("ESSAY_MARKER_CORPUS", ROOT.parent / "shared" / "corpus"))
    if (path / "labels.json").is_file():
        return path
    if (path / "dev" / "labels.json").is_file():
        return path / "dev"
    sys.exit(f"error: no dev labels.json under {path} (pass CORPUS_DIR or set ESSAY_MARKER_CORPUS)")


def build_cases(dev: Path) -> tuple[list[Case], list[dict]]:
    labels = json.loads((dev / "labels.json").read_text(encoding="utf-8"))
    texts = {lab["file"]: (dev / lab["file"]).read_text(encoding="utf-8") for lab in labels}
    cases = [Case(lab["file"], "source", "", None, lab["file"], texts[lab["file"]], None) for lab in labels]
    built_once = set()
    for lab in labels:
        if lab["mark"] < MIN_SOURCE_MARK:
            continue
        src = lab["file"]
        for attack, (_, expected) in A.ATTACKS.items():
            for variant in A.variants(attack):
                cid = A.case_id(attack, variant)
                if (attack, variant) in _IGNORES_SOURCE:
                    if cid in built_once:
                        continue
                    built_once.add(cid)
                    cases.append(Case(cid, "attack", attack, variant, None, A.build(attack, None, variant=variant),
                                      expected))
                else:
                    cases.append(Case(f"{src}:{cid}", "attack", attack, variant, src,
                                      A.build(attack, texts[src], variant=variant), expected))
        for transform, (_, expected) in A.FAIRNESS.items():
            for variant in A.variants(transform):
                cid = A.case_id(transform, variant)
                cases.append(Case(f"{src}:{cid}", "fairness", transform, variant, src,
                                  A.build(transform, texts[src], variant=variant), expected))
    cases.append(Case("unusual_judgement", "unusual", "unusual_judgement", None, None, A.UNUSUAL_JUDGEMENT, None))
    # The fixed-length dev set, when it sits beside dev/: its honest essays are a second false-flag check.
    fixed = dev.parent / "dev_fixedlen"
    if (fixed / "labels.json").is_file():
        for lab in json.loads((fixed / "labels.json").read_text(encoding="utf-8")):
            cases.append(Case(f"dev_fixedlen/{lab['file']}", "extra", "", None, None,
                              (fixed / lab["file"]).read_text(encoding="utf-8"), None))
            cases[-1].label = lab
    return cases, labels


def _band(r, cid: str) -> int | None:
    return next((c.band for c in r.criteria if c.id == cid), None)


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def _snippet(text: str, n: int = 220) -> str:
    flat = " ".join(text.split())
    return flat[:n] + ("..." if len(flat) > n else "")


def _attack_snippet(text: str, source: str | None, n: int = 220) -> str:
    """The part of an attacked essay that differs from its source (its start for source-free text)."""
    if not source:
        return _snippet(text, n)
    a, b = source.split(), text.split()
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("insert", "replace"):
            start = max(0, j1 - 6)
            return ("..." if start else "") + _snippet(" ".join(b[start:j2 + 6]), n)
    return _snippet(text, n)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", help="folder holding dev/ (or the dev folder itself)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--examples", type=int, default=2, help="examples of missed attacks to print per attack")
    ap.add_argument("--processes", type=int, default=None, help="worker processes for mark_many")
    args = ap.parse_args(argv)

    dev = _corpus(args.corpus)
    cases, labels = build_cases(dev)
    rubric = marker.load_rubric("stalin_trotsky_1929")
    t0 = time.perf_counter()
    batch = marker.mark_many([(c.name, c.text) for c in cases], rubric, processes=args.processes)
    elapsed = time.perf_counter() - t0
    res = {r.essay: r for r in batch.results}
    for f in batch.failures[:5]:
        print(f"FAILED to mark {f.name}: {f.reason}")
    if len(batch.failures) > 5:
        print(f"... and {len(batch.failures) - 5} more failures")
    source_text = {c.name: c.text for c in cases if c.kind == "source"}
    n_sources = sum(1 for lab in labels if lab["mark"] >= MIN_SOURCE_MARK)
    print(f"Adversarial benchmark: {len(cases)} essays marked in {elapsed:.0f}s "
          f"({n_sources} dev essays with mark >= {MIN_SOURCE_MARK} as sources; corpus {dev})\n")

    # ---- attacks ------------------------------------------------------------------------------
    rows = defaultdict(list)  # case id -> list of (case, result, source result)
    for c in cases:
        if c.kind == "attack" and c.name in res:
            rows[A.case_id(c.attack, c.variant)].append((c, res[c.name], res.get(c.source) if c.source else None))
    header = f"{'attack':34} {'n':>3} {'flag':>22} {'flagged':>7} {'mark+':>5} {'level+':>6} {'mean dmark':>10}  notes"
    print(header)
    print("-" * len(header))
    total_expected = total_right = 0
    raised_level_cases, over_five, misses = [], [], defaultdict(list)
    for cid, items in rows.items():
        c0 = items[0][0]
        expected = c0.expected
        right = sum(1 for _, r, _ in items if expected and expected in r.flags)
        if expected:
            total_expected += len(items)
            total_right += right
        paired = [(c, r, s) for c, r, s in items if s is not None]
        mark_up = sum(1 for _, r, s in paired if r.mark > s.mark)
        level_up = [(c, r, s) for c, r, s in paired if r.level > s.level]
        raised_level_cases += level_up
        notes = []
        if paired:
            dmark = f"{mean(r.mark - s.mark for _, r, s in paired):+10.1f}"
        else:
            dmark = f"{'':10}"
            notes.append(f"mean mark {mean(r.mark for _, r, _ in items):.1f}")
        if c0.attack in A.SOURCE_FREE:
            over = [(c, r) for c, r, _ in items if r.mark > FAIR_MARK_WITHOUT_SOURCE]
            over_five += over
            notes.append(f"{len(over)} over {FAIR_MARK_WITHOUT_SOURCE}")
        if c0.attack == "shuffle":
            for crit in ("communication", "judgement", "analysis"):
                d = [(_band(r, crit) or 0) - (_band(s, crit) or 0) for _, r, s in paired]
                notes.append(f"{crit} band {mean(d):+.2f}")
        other = defaultdict(int)
        for _, r, _ in items:
            for f in r.flags:
                if f != expected:
                    other[f] += 1
        if other:
            notes.append("also " + ", ".join(f"{f}x{n}" for f, n in sorted(other.items())))
        flagged = _pct(right / len(items)) if expected else "    n/a"
        print(f"{cid:34} {len(items):3d} {expected or '(none required)':>22} {flagged:>7} {mark_up:5d} "
              f"{len(level_up):6d} {dmark}  {'; '.join(notes)}")
        for c, r, s in items:
            missed = (expected and expected not in r.flags) or (s is not None and r.mark > s.mark) or \
                (c0.attack in A.SOURCE_FREE and r.mark > FAIR_MARK_WITHOUT_SOURCE)
            if missed:
                misses[cid].append((c, r, s))

    # ---- honest essays ------------------------------------------------------------------------
    honest = [lab for lab in labels if not lab["flags"]]
    false_flags = []
    for lab in honest:
        r = res.get(lab["file"])
        if r is None:
            continue
        false_flags += [(lab["file"], f, r.flag_reasons.get(f, "")) for f in r.flags if f in A.GAMING_FLAGS]
    extra_false = [(c.name, f) for c in cases if c.kind == "extra" and c.name in res and not c.label["flags"]
                   for f in res[c.name].flags if f in A.GAMING_FLAGS]
    n_extra = sum(1 for c in cases if c.kind == "extra" and not c.label["flags"])
    if n_extra:
        print(f"\nGaming flags on the honest dev_fixedlen essays (information only): {len(extra_false)} in {n_extra}"
              + "".join(f"\n      {n}: {f}" for n, f in extra_false))
    labelled = [lab for lab in labels if lab["flags"]]
    print("\nLabelled-flag essays of dev: " + ", ".join(
        f"{lab['file']} {lab['flags']} -> {res[lab['file']].flags}" for lab in labelled if lab["file"] in res))

    # ---- fairness -----------------------------------------------------------------------------
    print("\nFairness (level of the source -> transformed; mark change):")
    fair_rows = defaultdict(list)
    for c in cases:
        if c.kind == "fairness" and c.name in res and c.source in res:
            fair_rows[A.case_id(c.attack, c.variant)].append((c, res[c.name], res[c.source]))
    fair_bad = []
    for cid, items in fair_rows.items():
        expected = items[0][0].expected
        dl = [r.level - s.level for _, r, s in items]
        flagged = sum(1 for _, r, _ in items if expected and expected in r.flags)
        gaming = sum(1 for _, r, _ in items if set(r.flags) & set(A.GAMING_FLAGS))
        bad = [(c, r, s) for c, r, s in items if abs(r.level - s.level) > 1]
        fair_bad += bad
        dist = ", ".join(f"{d:+d}x{dl.count(d)}" for d in sorted(set(dl)))
        extra = f"; {expected} flagged {flagged}/{len(items)}" if expected else ""
        print(f"  {cid:22} n={len(items):2d} level change {dist:24} mean dmark "
              f"{mean(r.mark - s.mark for _, r, s in items):+5.1f}; >1 level: {len(bad)}; "
              f"gaming flags: {gaming}{extra}")
        for c, r, s in bad:
            print(f"      {c.source}: L{s.level} ({s.mark}) -> L{r.level} ({r.mark}) flags {r.flags}")
    uj = res.get("unusual_judgement")
    if uj is not None:
        print(f"  {'unusual_judgement':22} mark {uj.mark} L{uj.level} (fair: 18-22, L4/L5) flags {uj.flags}")

    # ---- summary --------------------------------------------------------------------------------
    share = total_right / total_expected if total_expected else 0.0
    uj_ok = uj is not None and uj.level >= TARGET_UNUSUAL_LEVEL
    checks = [
        (f"attacks flagged with the right flag: {total_right}/{total_expected} = {_pct(share).strip()}",
         f">= {int(100 * TARGET_FLAGGED)}%", share >= TARGET_FLAGGED),
        (f"attacks raising an essay by a level or more: {len(raised_level_cases)}",
         f"{TARGET_RAISED_LEVEL}", len(raised_level_cases) <= TARGET_RAISED_LEVEL),
        (f"source-free attacks scoring over {FAIR_MARK_WITHOUT_SOURCE}: {len(over_five)}", "0", not over_five),
        (f"gaming flags on honest dev essays: {len(false_flags)} in {len(honest)}",
         f"<= {TARGET_FALSE_FLAGS}", len(false_flags) <= TARGET_FALSE_FLAGS),
        (f"fairness cases moving more than one level: {len(fair_bad)}", "0", not fair_bad),
        (f"unusual-judgement essay level: {uj.level if uj else 'n/a'}", f">= {TARGET_UNUSUAL_LEVEL}", uj_ok),
    ]
    print("\nSummary")
    for text, target, ok in checks:
        print(f"  [{'ok  ' if ok else 'MISS'}] {text}  (target {target})")
    for f, flag, reason in false_flags:
        print(f"      false flag: {f} {flag}: {reason}")
    for c, r, s in raised_level_cases:
        print(f"      raised: {c.name}: L{s.level} ({s.mark}) -> L{r.level} ({r.mark})")

    if misses and args.examples > 0:
        print("\nNot caught (expected flag missing, mark raised above the source's, or over 5 without a source):")
        for cid, items in misses.items():
            print(f"  {cid}: {len(items)} case(s)")
            for c, r, s in items[:args.examples]:
                src = f" source {c.source} L{s.level} ({s.mark})" if s is not None else ""
                print(f"    - {c.name}:{src} -> mark {r.mark} L{r.level} flags {r.flags}")
                src_text = None if c.attack in A.SOURCE_FREE else source_text.get(c.source)
                print(f"      text: {_attack_snippet(c.text, src_text)}")

    if args.strict and not all(ok for _, _, ok in checks):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
