"""The essay-marker command line on real files: JSON contract, failures named, exit codes."""
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import docx

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (ROOT / "samples" / "sample_essay.txt").read_text(encoding="utf-8")


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "marker.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def make_class_set(folder: Path) -> None:
    (folder / "alice.txt").write_text(SAMPLE, encoding="utf-8")
    d = docx.Document()
    for para in SAMPLE.split("\n\n"):
        d.add_paragraph(para)
    d.save(folder / "bob.docx")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    with zipfile.ZipFile(folder / "more.zip", "w") as z:
        z.writestr("carol.txt", SAMPLE.replace("decisive", "most important"))


def test_mark_json_lists_every_good_file_and_names_the_bad_one(tmp_path):
    make_class_set(tmp_path)
    proc = run("mark", str(tmp_path), "--format", "json")
    assert proc.returncode == 1  # one file failed
    results = json.loads(proc.stdout)
    assert sorted(r["essay"] for r in results) == ["alice.txt", "bob.docx", "carol.txt"]
    assert "broken.pdf" in proc.stderr and "PDF" in proc.stderr
    alice = next(r for r in results if r["essay"] == "alice.txt")
    for key in ("rubric", "rubric_version", "marker_version", "mark", "max_mark", "level", "confidence",
                "needs_review", "criteria", "points", "flags", "feedback", "stats"):
        assert key in alice
    assert [c["id"] for c in alice["criteria"]] == ["relevance", "evidence", "range", "luck", "analysis",
                                                    "judgement", "communication"]
    # the docx and the txt hold the same essay: same mark
    bob = next(r for r in results if r["essay"] == "bob.docx")
    assert bob["mark"] == alice["mark"]
    # carol is nearly a copy of alice: reported
    assert any(s["essay"] == "carol.txt" for s in alice["similar_to"])


def test_mark_exit_zero_when_all_marked_and_table_output(tmp_path):
    (tmp_path / "alice.txt").write_text(SAMPLE, encoding="utf-8")
    proc = run("mark", str(tmp_path / "alice.txt"))
    assert proc.returncode == 0, proc.stderr
    assert "alice.txt" in proc.stdout and "/25" in proc.stdout


def test_mark_csv(tmp_path):
    (tmp_path / "alice.txt").write_text(SAMPLE, encoding="utf-8")
    proc = run("mark", str(tmp_path / "alice.txt"), "--format", "csv")
    header, row = proc.stdout.strip().splitlines()
    assert header.startswith("essay,mark,max_mark,level,relevance")
    assert row.startswith("alice.txt,")


def test_unknown_rubric_is_a_clear_error(tmp_path):
    (tmp_path / "alice.txt").write_text(SAMPLE, encoding="utf-8")
    proc = run("mark", str(tmp_path / "alice.txt"), "--rubric", "no_such_rubric")
    assert proc.returncode == 2 and "no such rubric" in proc.stderr


def test_evaluate_prints_agreement_figures(corpus_dir):
    proc = run("evaluate", str(corpus_dir / "dev"), str(corpus_dir / "dev_fixedlen"))
    assert proc.returncode == 0, proc.stderr
    for label in ("mark QWK", "mark MAE", "level exact", "level adjacent", "criterion QWK", "points P / R / F1",
                  "paraphrased recall"):
        assert label in proc.stdout
