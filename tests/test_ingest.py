"""Ingest: real files made here (python-docx, reportlab, odfpy, zipfile) read back."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from marker.ingest import (
    EssayText,
    IngestError,
    IngestFailure,
    Limits,
    from_text,
    read_bytes,
    read_file,
    read_paths,
    read_upload_many,
)

PARA_1 = (
    "In 1924 Lenin died and the struggle for power began inside the Politburo. "
    "Trotsky seemed the obvious heir because he had led the Red Army to victory in the Civil War, "
    "but many Bolsheviks feared him as a potential Napoleon."
)
PARA_2 = (
    "Stalin, as General Secretary from 1922, controlled appointments across the party. "
    "He used this power to promote loyal supporters, and by 1927 Trotsky had been expelled."
)
PAGE_2 = (
    "By 1929 Stalin had also defeated Bukharin and the Right Opposition. "
    "In conclusion, Stalin's victory owed more to his control of the party machine than to Trotsky's mistakes."
)
CP1252_TEXT = "Stalin\u2019s \u201cgenius\u201d was in the caf\u00e9 of the Politburo.\nTrotsky r\u00e9sista."


# --------------------------------------------------------------------------- makers


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph(PARA_1)
    document.add_paragraph("")  # empty paragraphs are skipped
    document.add_paragraph(PARA_2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Date"
    table.cell(0, 1).text = "Event"
    table.cell(1, 0).text = "1927"
    table.cell(1, 1).text = "Trotsky expelled"
    document.save(path)
    return path


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A PDF laid out by reportlab's platypus: wrapped, justified paragraphs, as a word
    processor would export them; one list of paragraphs per page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    body = getSampleStyleSheet()["BodyText"]
    story: list = []
    for i, paragraphs in enumerate(pages):
        if i:
            story.append(PageBreak())
        story.extend(Paragraph(p, body) for p in paragraphs)
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


def make_blank_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    c.rect(100, 100, 300, 400, fill=1)  # a drawing, no text: like a scanned page
    c.showPage()
    c.save()
    return path


def make_encrypted_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), encrypt="secret")
    c.drawString(72, 720, "Stalin defeated Trotsky.")
    c.showPage()
    c.save()
    return path


def make_odt(path: Path) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text="Why did Stalin win?"))
    document.text.addElement(P(text=PARA_1))
    document.text.addElement(P(text=""))
    document.text.addElement(P(text=PARA_2))
    document.save(str(path))
    return path


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def words(text: str) -> list[str]:
    return text.split()


# --------------------------------------------------------------------------- formats


def test_docx_paragraphs_and_table_cells_separated_by_blank_lines(tmp_path):
    essays = read_file(make_docx(tmp_path / "alice.docx"))

    assert len(essays) == 1
    essay = essays[0]
    assert essay.name == "alice.docx"
    assert essay.source == str(tmp_path / "alice.docx")
    assert essay.text == "\n\n".join([PARA_1, PARA_2, "Date", "Event", "1927", "Trotsky expelled"])


def test_pdf_two_pages_come_back_in_order_with_paragraphs_reflowed(tmp_path):
    pdf = make_pdf(tmp_path / "bob.pdf", [[PARA_1, PARA_2], [PAGE_2]])

    [essay] = read_file(pdf)

    assert essay.name == "bob.pdf"
    assert words(essay.text) == words(PARA_1 + " " + PARA_2 + " " + PAGE_2)
    # hard line breaks inside a paragraph are gone; paragraph and page breaks stay
    assert essay.text.split("\n\n") == [PARA_1, PARA_2, PAGE_2]


def test_odt_heading_and_paragraphs(tmp_path):
    [essay] = read_file(make_odt(tmp_path / "carol.odt"))

    assert essay.name == "carol.odt"
    assert essay.text == "\n\n".join(["Why did Stalin win?", PARA_1, PARA_2])


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda t: t.encode("utf-8"), id="utf-8"),
        pytest.param(lambda t: t.encode("utf-8-sig"), id="utf-8-bom"),
        pytest.param(lambda t: t.encode("utf-16"), id="utf-16-bom-native"),
        pytest.param(lambda t: b"\xfe\xff" + t.encode("utf-16-be"), id="utf-16-be-bom"),
        pytest.param(lambda t: t.encode("utf-16-le"), id="utf-16-le-no-bom"),
        pytest.param(lambda t: t.encode("cp1252"), id="cp1252"),
    ],
)
def test_txt_encodings_read_back_to_the_same_text(tmp_path, encode):
    path = tmp_path / "dave.txt"
    path.write_bytes(encode(CP1252_TEXT))

    [essay] = read_file(path)

    assert essay.text == CP1252_TEXT
    assert "\ufeff" not in essay.text


def test_txt_line_endings_become_newlines_and_nothing_else_changes(tmp_path):
    path = tmp_path / "eve.md"
    path.write_bytes(b"  Title\r\n\r\nFirst line\rsecond line\n\tindented  \n")

    [essay] = read_file(path)

    assert essay.text == "  Title\n\nFirst line\nsecond line\n\tindented  \n"


def test_txt_with_bytes_of_no_known_encoding_is_an_error(tmp_path):
    path = tmp_path / "odd.txt"
    path.write_bytes(b"Stalin \x81\x8d\x90 Trotsky")  # undefined in cp1252, invalid UTF-8

    with pytest.raises(IngestError) as err:
        read_file(path)
    assert err.value.name == "odd.txt"
    assert "encoding is not recognised" in err.value.reason


def test_renamed_binary_txt_is_an_error(tmp_path):
    path = tmp_path / "actually_a_pdf.txt"
    make_pdf(path, [[PARA_1]])

    with pytest.raises(IngestError, match="not a plain-text file .*PDF"):
        read_file(path)


# --------------------------------------------------------------------------- zip


def test_zip_reads_good_members_and_reports_the_bad_one(tmp_path):
    docx_bytes = make_docx(tmp_path / "x.docx").read_bytes()
    odt_bytes = make_odt(tmp_path / "x.odt").read_bytes()
    archive = make_zip(
        tmp_path / "class.zip",
        {
            "alice.docx": docx_bytes,
            "set 2/carol.odt": odt_bytes,
            "set 2/dave.txt": CP1252_TEXT.encode("cp1252"),
            "set 2/broken.docx": os.urandom(2000),
            "__MACOSX/set 2/._dave.txt": b"\x00\x05\x16\x07junk",
            ".DS_Store": b"\x00\x00\x00\x01Bud1",
        },
    )

    essays, failures = read_paths([archive])

    assert [e.name for e in essays] == ["alice.docx", "carol.odt", "dave.txt"]
    assert [e.source for e in essays] == [
        f"{archive}/alice.docx",
        f"{archive}/set 2/carol.odt",
        f"{archive}/set 2/dave.txt",
    ]
    assert essays[2].text == CP1252_TEXT
    assert failures == [IngestFailure("broken.docx", "not a valid Word document (.docx)")]


def test_read_file_on_zip_hands_back_member_failures_when_asked(tmp_path):
    archive = make_zip(tmp_path / "class.zip", {"a.txt": b"Stalin won.", "b.pdf": b"not a pdf"})

    failures: list[IngestFailure] = []
    essays = read_file(archive, failures=failures)

    assert [e.name for e in essays] == ["a.txt"]
    assert failures == [IngestFailure("b.pdf", "not a readable PDF")]


def test_zip_where_nothing_can_be_read_is_an_error_for_the_zip(tmp_path):
    archive = make_zip(tmp_path / "class.zip", {"b.pdf": b"not a pdf"})

    with pytest.raises(IngestError) as err:
        read_file(archive)
    assert err.value.name == "class.zip"
    assert "b.pdf: not a readable PDF" in err.value.reason


def test_nested_zip_is_not_opened(tmp_path):
    inner = make_zip(tmp_path / "inner.zip", {"x.txt": b"Stalin."}).read_bytes()
    archive = make_zip(tmp_path / "outer.zip", {"inner.zip": inner, "a.txt": b"Trotsky."})

    essays, failures = read_paths([archive])

    assert [e.name for e in essays] == ["a.txt"]
    assert [f.name for f in failures] == ["inner.zip"]
    assert "zip inside a zip" in failures[0].reason


def test_zip_over_member_count_limit(tmp_path):
    archive = make_zip(tmp_path / "class.zip", {f"e{i}.txt": b"Stalin won." for i in range(4)})

    with pytest.raises(IngestError) as err:
        read_file(archive, max_zip_members=3)
    assert str(err.value) == "class.zip: the zip holds 4 files; the limit is 3 files"


def test_zip_over_unpacked_size_limits(tmp_path):
    archive = make_zip(tmp_path / "bomb.zip", {"a.txt": b"a" * 5000, "b.txt": b"b" * 5000})

    with pytest.raises(IngestError, match=r"would unpack to 9\.8 KB; the limit is 8 KB"):
        read_file(archive, max_zip_total_bytes=8 * 1024)

    essays, failures = read_paths([archive], limits=Limits(max_member_bytes=4000))
    assert essays == []
    assert [f.name for f in failures] == ["a.txt", "b.txt"]
    assert "when unpacked; the limit is 3.9 KB" in failures[0].reason


# --------------------------------------------------------------------------- bad files


def test_corrupt_docx(tmp_path):
    path = tmp_path / "frank.docx"
    path.write_bytes(os.urandom(4096))

    with pytest.raises(IngestError) as err:
        read_file(path)
    assert str(err.value) == "frank.docx: not a valid Word document (.docx)"


def test_zip_that_is_not_a_word_document(tmp_path):
    path = make_zip(tmp_path / "grace.docx", {"hello.txt": b"hi"})

    with pytest.raises(IngestError, match="not a valid Word document"):
        read_file(path)


def test_pdf_without_pdf_header(tmp_path):
    path = tmp_path / "henry.pdf"
    path.write_bytes(b"<html>this was saved from a browser</html>")

    with pytest.raises(IngestError) as err:
        read_file(path)
    assert str(err.value) == "henry.pdf: not a readable PDF"


def test_truncated_pdf(tmp_path):
    data = make_pdf(tmp_path / "full.pdf", [[PARA_1]]).read_bytes()

    with pytest.raises(IngestError, match="not a readable PDF"):
        read_bytes("ivy.pdf", data[:300])


def test_encrypted_pdf(tmp_path):
    path = make_encrypted_pdf(tmp_path / "jack.pdf")

    with pytest.raises(IngestError) as err:
        read_file(path)
    assert str(err.value) == "jack.pdf: the PDF is password-protected"


def test_pdf_with_only_an_owner_password_is_read(tmp_path):
    import pypdf

    reader = pypdf.PdfReader(make_pdf(tmp_path / "plain.pdf", [[PARA_1]]))
    writer = pypdf.PdfWriter(clone_from=reader)
    writer.encrypt(user_password="", owner_password="teacher", algorithm="RC4-128")
    path = tmp_path / "kate.pdf"
    writer.write(path)

    [essay] = read_file(path)
    assert essay.text == PARA_1


def test_image_only_pdf(tmp_path):
    with pytest.raises(IngestError) as err:
        read_file(make_blank_pdf(tmp_path / "scan.pdf"))
    assert str(err.value) == "scan.pdf: no text found (scanned or image-only PDF?)"


def test_pdf_over_page_limit(tmp_path):
    path = make_pdf(tmp_path / "long.pdf", [[PARA_1], [PARA_2], [PAGE_2]])

    with pytest.raises(IngestError, match="the PDF has 3 pages; the limit is 2 pages"):
        read_file(path, max_pdf_pages=2)


@pytest.mark.parametrize("content", [b"", b"  \r\n\t \n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)

    with pytest.raises(IngestError) as err:
        read_file(path)
    assert str(err.value) == "empty.txt: the file is empty (no text found)"


def test_docx_with_no_text_is_empty(tmp_path):
    import docx

    path = tmp_path / "blank.docx"
    docx.Document().save(path)

    with pytest.raises(IngestError, match="the file is empty"):
        read_file(path)


def test_too_large_file_names_the_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"Stalin " * 300)  # 2,100 bytes

    with pytest.raises(IngestError) as err:
        read_file(path, max_file_bytes=1024)
    assert str(err.value) == "big.txt: the file is 2.1 KB; the limit is 1 KB"


def test_too_large_size_message_in_megabytes():
    with pytest.raises(IngestError, match=r"the file is 12\.3 MB; the limit is 10 MB"):
        read_bytes("huge.txt", b"x" * int(12.3 * 1024 * 1024))


def test_too_long_text(tmp_path):
    with pytest.raises(IngestError, match="the text is 1,000 characters long; the limit is 999 characters"):
        read_bytes("long.txt", b"a" * 1000, limits=Limits(max_text_chars=999))


def test_unsupported_extension(tmp_path):
    path = tmp_path / "marks.xyz"
    path.write_bytes(b"whatever")

    with pytest.raises(IngestError) as err:
        read_file(path)
    assert str(err.value) == "marks.xyz: unsupported file type '.xyz' (use txt, docx, pdf, odt or zip)"


def test_missing_path(tmp_path):
    missing = tmp_path / "nobody.docx"

    with pytest.raises(IngestError, match="no such file or folder"):
        read_file(missing)
    essays, failures = read_paths([missing])
    assert essays == []
    assert failures == [IngestFailure(str(missing), "no such file or folder")]


def test_unknown_limit_name_is_a_programming_error(tmp_path):
    with pytest.raises(TypeError, match="max_pages"):
        read_bytes("a.txt", b"Stalin", max_pages=3)


# --------------------------------------------------------------------------- batches


def test_read_paths_on_a_folder_with_good_and_bad_files(tmp_path):
    folder = tmp_path / "class"
    (folder / "late").mkdir(parents=True)
    (folder / ".git").mkdir()
    make_docx(folder / "alice.docx")
    make_pdf(folder / "bob.pdf", [[PARA_1]])
    (folder / "late" / "carol.txt").write_text("Stalin won.", encoding="utf-8")
    (folder / "dan.pdf").write_bytes(b"PK\x03\x04 not really")
    (folder / "marks.xlsx").write_bytes(b"PK\x03\x04")
    (folder / "empty.txt").write_bytes(b"")
    (folder / ".hidden.txt").write_text("secret", encoding="utf-8")
    (folder / "~$alice.docx").write_bytes(b"lock")
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main", encoding="utf-8")

    essays, failures = read_paths([folder])

    assert [e.name for e in essays] == ["alice.docx", "bob.pdf", "carol.txt"]
    assert essays[2].source == str(folder / "late" / "carol.txt")
    assert essays[1].text == PARA_1
    assert failures == [
        IngestFailure("dan.pdf", "not a readable PDF"),
        IngestFailure("empty.txt", "the file is empty (no text found)"),
        IngestFailure("marks.xlsx", "unsupported file type '.xlsx' (use txt, docx, pdf, odt or zip)"),
    ]


def test_read_paths_mixes_files_folders_zips_and_missing_paths(tmp_path):
    single = tmp_path / "one.txt"
    single.write_text("Stalin won.", encoding="utf-8")
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "two.txt").write_text("Trotsky lost.", encoding="utf-8")
    archive = make_zip(tmp_path / "c.zip", {"three.txt": b"Bukharin fell."})

    essays, failures = read_paths([single, str(folder), archive, tmp_path / "gone"])

    assert [e.name for e in essays] == ["one.txt", "two.txt", "three.txt"]
    assert [f.reason for f in failures] == ["no such file or folder"]


def test_read_upload_many(tmp_path):
    uploads = [
        ("alice.docx", make_docx(tmp_path / "a.docx").read_bytes()),
        ("notes.rtf", b"{\\rtf1 hello}"),
        ("class.zip", make_zip(tmp_path / "c.zip", {"sub/bob.txt": b"Stalin won.", "sub/bad.odt": b"zzz"}).read_bytes()),
    ]

    essays, failures = read_upload_many(uploads)

    assert [(e.name, e.source) for e in essays] == [("alice.docx", "alice.docx"), ("bob.txt", "class.zip/sub/bob.txt")]
    assert [f.name for f in failures] == ["notes.rtf", "bad.odt"]
    assert failures[1].reason == "not a valid OpenDocument text (.odt)"


def test_read_bytes_uses_the_base_name():
    [essay] = read_bytes("C:\\Users\\t\\alice.txt", "Stalin\u2019s rise".encode("cp1252"))
    assert essay == EssayText("alice.txt", "Stalin\u2019s rise", "alice.txt")


def test_from_text():
    essay = from_text("Stalin won.\r\nTrotsky lost.")
    assert essay == EssayText("pasted", "Stalin won.\nTrotsky lost.", "pasted text")
    assert from_text("x", name="q1").name == "q1"

    with pytest.raises(IngestError, match="pasted: the pasted text is empty"):
        from_text("   \n")
    with pytest.raises(IngestError, match="the limit is 5 characters"):
        from_text("Stalin", max_text_chars=5)


def test_ingest_error_string_and_attributes():
    err = IngestError("a.docx", "not a valid Word document (.docx)")
    assert (err.name, err.reason, str(err)) == ("a.docx", "not a valid Word document (.docx)", "a.docx: not a valid Word document (.docx)")


def test_pdf_reflow_keeps_headings_and_drops_page_numbers(tmp_path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "lines.pdf"
    c = canvas.Canvas(str(path))
    lines = [
        "Why did Stalin win?",
        "Stalin rose to power through his control of the party bureaucracy and his",
        "alliance with Zinoviev and Kamenev against Trotsky from 1923 to 1925. Then",
        "he turned on the Left Opposition, which was a well-",
        "known move.",
        "Trotsky was exiled in 1929.",
    ]
    for i, line in enumerate(lines):
        c.drawString(72, 780 - 16 * i, line)
    c.drawString(300, 40, "1")
    c.showPage()
    c.save()

    [essay] = read_file(path)

    assert essay.text.split("\n\n") == [
        "Why did Stalin win?",
        "Stalin rose to power through his control of the party bureaucracy and his alliance with "
        "Zinoviev and Kamenev against Trotsky from 1923 to 1925. Then he turned on the Left "
        "Opposition, which was a well-known move.",
        "Trotsky was exiled in 1929.",
    ]


def test_same_base_name_in_a_zip_gets_distinct_names(tmp_path):
    """One folder per student, each holding essay.txt: results must not collide."""
    import zipfile

    from marker.ingest import read_paths

    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("alice/essay.txt", "Stalin controlled appointments as General Secretary.")
        z.writestr("bob/essay.txt", "Trotsky was arrogant and isolated himself.")
    essays, failures = read_paths([archive])
    assert not failures
    names = [e.name for e in essays]
    assert len(set(names)) == 2 and all("essay.txt" in n for n in names)
    assert any("alice" in n for n in names) and any("bob" in n for n in names)
