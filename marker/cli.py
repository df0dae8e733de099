"""The ``essay-marker`` command line.

    essay-marker mark PATH... [--rubric ID|FILE] [--format json|csv|table] [--model FILE]
    essay-marker evaluate CORPUS_DIR... [--rubric ...] [--min-qwk X] [--min-f1 X] [--verbose]
    essay-marker rubric check FILE
    essay-marker rubric list
    essay-marker calibrate MARKED --rubric ID --out FILE
    essay-marker serve [--db URL] [--port N]
    essay-marker user add --name N --email E [--password P] [--db URL]
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

from .rubric import CRITERIA_IDS, RubricError, list_rubrics, load_rubric


def _progress_bar(total: int):
    """A tqdm bar on stderr for batches (silent for a single essay or when stderr is not a terminal-like)."""
    if total < 2:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, file=sys.stderr, unit="essay", leave=False, dynamic_ncols=True)

    def update(done: int, _total: int, name: str) -> None:
        bar.set_postfix_str(name[-30:], refresh=False)
        bar.update(done - bar.n)

    return bar, update


def _table(results) -> str:
    head = ["essay", "mark", "lvl", *[c[:4] for c in CRITERIA_IDS], "conf", "review", "flags / reasons"]
    rows = []
    for r in sorted(results, key=lambda r: (not r.needs_review, r.essay)):
        why = ", ".join(r.flags) or "; ".join(r.review_reasons[:1])
        rows.append([r.essay, f"{r.mark}/{r.max_mark}", f"L{r.level}", *[str(r.bands.get(c, "-")) for c in CRITERIA_IDS],
                     f"{r.confidence:.2f}", "YES" if r.needs_review else "", why[:70]])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = "  ".join(f"{{:{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), fmt.format(*["-" * w for w in widths]), *(fmt.format(*r) for r in rows)])


def _csv(results) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["essay", "mark", "max_mark", "level", *CRITERIA_IDS, "confidence", "needs_review", "flags",
                "review_reasons", "points_found", "similar_to"])
    for r in results:
        w.writerow([r.essay, r.mark, r.max_mark, r.level, *[r.bands.get(c, "") for c in CRITERIA_IDS],
                    f"{r.confidence:.3f}", r.needs_review, ";".join(r.flags), " | ".join(r.review_reasons),
                    ";".join(p.id for p in r.points if p.found),
                    ";".join(f"{s['essay']}({round(100 * s['overlap'])}%)" for s in r.similar_to)])
    return out.getvalue()


def cmd_mark(args: argparse.Namespace) -> int:
    from .engine import mark_many
    from .ingest import read_paths

    try:
        rubric = load_rubric(args.rubric)
    except RubricError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    essays, failures = read_paths(args.paths)
    bar, update = _progress_bar(len(essays))
    try:
        batch = mark_many(essays, rubric, progress=update)
    finally:
        if bar is not None:
            bar.close()
    results = batch.results
    if args.model:
        from .calibrate import load_model

        model = load_model(args.model)
        text_of = {e.name: e.text for e in essays}
        results = [model.apply(r, text_of[r.essay]) for r in results]
    failures = [*failures, *batch.failures]
    if args.format == "json":
        print(json.dumps([r.to_dict() for r in results], indent=2, ensure_ascii=False))
    elif args.format == "csv":
        sys.stdout.write(_csv(results))
    else:
        print(_table(results))
        if batch.similar_pairs:
            print("\nSimilar submissions:")
            for p in batch.similar_pairs:
                print(f"  {p['a']} ~ {p['b']}: {round(100 * p['overlap'])}% shared")
    if failures:
        print(f"\n{len(failures)} file(s) could not be marked:", file=sys.stderr)
        for f in failures:
            print(f"  {f.name}: {f.reason}", file=sys.stderr)
    return 1 if failures or not results else 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate, format_evaluation

    dirs = [Path(p) for p in args.corpora]
    missing = [str(d) for d in dirs if not (d / "labels.json").is_file()]
    if missing:
        print(f"error: no labels.json in {', '.join(missing)}", file=sys.stderr)
        return 2
    ev = evaluate(dirs, load_rubric(args.rubric))
    print(format_evaluation(ev, verbose=args.verbose))
    if args.json:
        Path(args.json).write_text(json.dumps(ev.to_dict(), indent=2), encoding="utf-8")
    failed = []
    if args.min_qwk is not None and ev.mark_qwk < args.min_qwk:
        failed.append(f"mark QWK {ev.mark_qwk:.3f} < {args.min_qwk}")
    if args.min_f1 is not None and ev.point_f1 < args.min_f1:
        failed.append(f"point F1 {ev.point_f1:.3f} < {args.min_f1}")
    for f in failed:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if failed else 0


def cmd_rubric(args: argparse.Namespace) -> int:
    if args.action == "list":
        for rid in list_rubrics():
            r = load_rubric(rid)
            print(f"{rid}  v{r.version}  {r.title}")
        return 0
    try:
        r = load_rubric(args.file)
    except RubricError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"{args.file}: OK — {r.id} v{r.version}: {len(r.levels)} levels, {len(r.criteria)} criteria, "
          f"{len(r.themes)} themes, {len(r.points)} content points")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .calibrate import run_cli_calibrate

    return run_cli_calibrate(args.marked, args.rubric, args.out)


def cmd_serve(args: argparse.Namespace) -> int:
    from markbook.serve import serve

    return serve(db_url=args.db, port=args.port, host=args.host) or 0


def cmd_user(args: argparse.Namespace) -> int:
    import getpass

    from markbook import cli_user_add

    password = args.password or getpass.getpass("Password: ")
    return cli_user_add(args.db, args.name, args.email, password) or 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="essay-marker", description="Mark history essays against a rubric.")
    sub = p.add_subparsers(dest="command", required=True)

    m = sub.add_parser("mark", help="mark essays (files, folders, zips)")
    m.add_argument("paths", nargs="+")
    m.add_argument("--rubric", default="stalin_trotsky_1929", help="rubric id or YAML file")
    m.add_argument("--format", choices=["json", "csv", "table"], default="table")
    m.add_argument("--model", help="a calibrated model file from `essay-marker calibrate`")
    m.set_defaults(func=cmd_mark)

    e = sub.add_parser("evaluate", help="agreement with a labelled corpus (labels.json)")
    e.add_argument("corpora", nargs="+")
    e.add_argument("--rubric", default="stalin_trotsky_1929")
    e.add_argument("--min-qwk", type=float, help="exit 1 if mark QWK is below this")
    e.add_argument("--min-f1", type=float, help="exit 1 if content-point F1 is below this")
    e.add_argument("--json", help="also write the figures to this JSON file")
    e.add_argument("--verbose", "-v", action="store_true", help="one line per essay")
    e.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("rubric", help="check or list rubrics")
    r.add_argument("action", choices=["check", "list"])
    r.add_argument("file", nargs="?")
    r.set_defaults(func=cmd_rubric)

    c = sub.add_parser("calibrate", help="learn from a teacher's marks")
    c.add_argument("marked", help="CSV (file|text, mark) or a folder with labels.json")
    c.add_argument("--rubric", default="stalin_trotsky_1929")
    c.add_argument("--out", default="calibrated-model.skops")
    c.set_defaults(func=cmd_calibrate)

    s = sub.add_parser("serve", help="run the teacher and student app")
    s.add_argument("--db", default=None, help="SQLAlchemy URL or SQLite path (default $ESSAY_MARKER_DB)")
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--host", default="127.0.0.1")
    s.set_defaults(func=cmd_serve)

    u = sub.add_parser("user", help="manage teacher accounts")
    u.add_argument("action", choices=["add"])
    u.add_argument("--name", required=True)
    u.add_argument("--email", required=True)
    u.add_argument("--password")
    u.add_argument("--db", default=None)
    u.set_defaults(func=cmd_user)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "rubric" and args.action == "check" and not args.file:
        print("usage: essay-marker rubric check FILE", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
