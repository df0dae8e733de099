"""Ingest: read essays from files into ``EssayText(name, text, source)`` records.

Supported inputs
----------------
* ``.txt`` / ``.md``: the encoding is detected: UTF-8 (with or without BOM), UTF-16
  with a BOM (LE or BE; BOM-less UTF-16 is recognised by its zero bytes), otherwise
  Windows cp1252. Bytes that fit none of these are an error.
* ``.docx`` (python-docx): body paragraphs and table-cell paragraphs in document order,
  one paragraph per blank-line-separated block. Text inside content controls and
  tracked insertions is kept, tracked deletions are dropped. Headers, footers, footnotes
  and text boxes are not read.
* ``.pdf`` (pypdf): the text of each page, reflowed (see ``_reflow_pdf_page``).
* ``.odt`` (odfpy): ``text:p`` / ``text:h`` elements in document order; footnotes and
  tracked deletions are dropped.
* ``.zip``: every supported member (folders inside are fine; directories, ``__MACOSX/``
  and hidden files are skipped). A member that cannot be read becomes an
  ``IngestFailure`` while the others are still read. Zips inside zips are not opened.

Whatever the format, line endings become ``\\n`` and nothing else in the text is
changed afterwards: the engine keeps character offsets into ``EssayText.text``.

Limits, and why
---------------
Essays arrive as uploads from a browser, so every input is treated as untrusted. The
limits keep one bad file (a zip bomb, a 900-page PDF, a mistaken upload of a video)
from exhausting memory or CPU; they are far above any real essay:

=======================  ==========  ==================================================
limit                    default     applies to
=======================  ==========  ==================================================
``max_file_bytes``       10 MB       any single file (a zip archive itself may be as
                                     large as ``max_zip_total_bytes``)
``max_pdf_pages``        50          pages in one PDF
``max_zip_members``      500         files in one zip (folders, hidden files not counted)
``max_zip_total_bytes``  100 MB      everything a zip unpacks to; also the unpacked
                                     size of a .docx / .odt (both are zips inside)
``max_member_bytes``     10 MB       one file inside a zip, unpacked
``max_text_chars``       200,000     characters of text in one essay
=======================  ==========  ==================================================

Pass a ``Limits`` instance (``limits=Limits(max_pdf_pages=10)``) or keyword overrides
(``read_file(path, max_file_bytes=1_000)``) to any reading function.

Errors
------
``IngestError(name, reason)`` is raised for a file that cannot be used;
``str(error) == f"{name}: {reason}"`` and the reason is written for a teacher.
``read_paths`` and ``read_upload_many`` never raise for a single file: they return
``IngestFailure(name, reason)`` records alongside the essays that were read.
"""
from __future__ import annotations

import codecs
import io
import logging
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Iterable, Sequence

__all__ = [
    "EssayText",
    "IngestFailure",
    "IngestError",
    "Limits",
    "DEFAULT_LIMITS",
    "SUPPORTED_EXTENSIONS",
    "read_file",
    "read_bytes",
    "read_paths",
    "read_upload_many",
    "from_text",
]

log = logging.getLogger(__name__)

KB = 1024
MB = 1024 * 1024

MAX_FILE_BYTES = 10 * MB
MAX_PDF_PAGES = 50
MAX_ZIP_MEMBERS = 500
MAX_ZIP_TOTAL_BYTES = 100 * MB
MAX_MEMBER_BYTES = 10 * MB
MAX_TEXT_CHARS = 200_000

TEXT_EXTENSIONS = (".txt", ".md")
SUPPORTED_EXTENSIONS = (*TEXT_EXTENSIONS, ".docx", ".pdf", ".odt", ".zip")
_USE_INSTEAD = "use txt, docx, pdf, odt or zip"


# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class EssayText:
    """One essay's text. ``name`` is the file's base name; ``source`` where it came from
    (a path, or ``"class.zip/folder/alice.docx"`` for a zip member)."""

    name: str
    text: str
    source: str


@dataclass(frozen=True)
class IngestFailure:
    """A file that could not be read, and why (the reason is meant for a teacher)."""

    name: str
    reason: str


class IngestError(Exception):
    """A file could not be read. ``str(e) == f"{name}: {reason}"``."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, reason)
        self.name = name
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"

    def as_failure(self) -> IngestFailure:
        return IngestFailure(self.name, self.reason)


@dataclass(frozen=True)
class Limits:
    """Size limits for untrusted input (see the module docstring)."""

    max_file_bytes: int = MAX_FILE_BYTES
    max_pdf_pages: int = MAX_PDF_PAGES
    max_zip_members: int = MAX_ZIP_MEMBERS
    max_zip_total_bytes: int = MAX_ZIP_TOTAL_BYTES
    max_member_bytes: int = MAX_MEMBER_BYTES
    max_text_chars: int = MAX_TEXT_CHARS


DEFAULT_LIMITS = Limits()
_LIMIT_NAMES = frozenset(f.name for f in fields(Limits))


def _resolve_limits(limits: Limits | None, overrides: dict[str, int]) -> Limits:
    unknown = set(overrides) - _LIMIT_NAMES
    if unknown:
        raise TypeError(f"unknown limit(s): {', '.join(sorted(unknown))}")
    return replace(limits or DEFAULT_LIMITS, **overrides)


# --------------------------------------------------------------------------- public API


def read_file(
    path: str | os.PathLike[str],
    *,
    limits: Limits | None = None,
    failures: list[IngestFailure] | None = None,
    **limit_overrides: int,
) -> list[EssayText]:
    """Read one file (a zip yields one essay per readable member).

    Raises ``IngestError`` when the file itself cannot be used. Zip members that fail
    are appended to ``failures`` when a list is given (otherwise they are logged); if no
    member of a zip can be read, ``IngestError`` is raised for the zip.
    """
    lim = _resolve_limits(limits, limit_overrides)
    p = Path(path)
    data = _load_bytes(p, str(path), lim)
    essays, member_failures = _ingest(p.name, data, str(path), lim)
    return _essays_or_raise(p.name, essays, member_failures, failures)


def read_bytes(
    name: str,
    data: bytes,
    *,
    limits: Limits | None = None,
    failures: list[IngestFailure] | None = None,
    **limit_overrides: int,
) -> list[EssayText]:
    """Like ``read_file`` for an upload: the type is taken from ``name``'s extension."""
    lim = _resolve_limits(limits, limit_overrides)
    base = _base_name(name)
    _check_file_size(base, len(data), lim)
    essays, member_failures = _ingest(base, data, base, lim)
    return _essays_or_raise(base, essays, member_failures, failures)


def read_paths(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    limits: Limits | None = None,
    **limit_overrides: int,
) -> tuple[list[EssayText], list[IngestFailure]]:
    """Read files, folders (recursively, sorted by path) and zips. Never raises for a
    single bad file: each one becomes an ``IngestFailure``.

    Inside folders hidden files (dotfiles, Office ``~$`` lock files, Thumbs.db,
    desktop.ini) are skipped; files of unsupported types are reported as failures so
    a teacher notices them. A path that does not exist is a failure.
    """
    lim = _resolve_limits(limits, limit_overrides)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    essays: list[EssayText] = []
    failures: list[IngestFailure] = []
    for given in paths:
        p = Path(given)
        files = _files_in_folder(p) if p.is_dir() else [p]
        for f in files:
            label = str(given) if f is p else str(f)
            try:
                data = _load_bytes(f, label, lim)
                found, bad = _ingest(f.name, data, label, lim)
            except IngestError as e:
                failures.append(e.as_failure())
                continue
            essays.extend(found)
            failures.extend(bad)
    return unique_names(essays), failures


def unique_names(essays: list[EssayText]) -> list[EssayText]:
    """Essays keep their file's base name unless two share it (e.g. ``alice/essay.docx`` and
    ``bob/essay.docx`` in one zip); those are named by their path instead, so results never collide."""
    counts: dict[str, int] = {}
    for e in essays:
        counts[e.name] = counts.get(e.name, 0) + 1
    out, seen = [], set()
    for e in essays:
        name = e.name
        if counts[name] > 1:
            name = e.source
            n = 2
            while name in seen:
                name, n = f"{e.source} ({n})", n + 1
        seen.add(name)
        out.append(e if name == e.name else replace(e, name=name))
    return out


def read_upload_many(
    files: Sequence[tuple[str, bytes]],
    *,
    limits: Limits | None = None,
    **limit_overrides: int,
) -> tuple[list[EssayText], list[IngestFailure]]:
    """Read the app's multi-file upload: ``[(file name, bytes), ...]``. Never raises
    for a single bad file."""
    lim = _resolve_limits(limits, limit_overrides)
    essays: list[EssayText] = []
    failures: list[IngestFailure] = []
    for name, data in files:
        base = _base_name(name)
        try:
            _check_file_size(base, len(data), lim)
            found, bad = _ingest(base, data, base, lim)
        except IngestError as e:
            failures.append(e.as_failure())
            continue
        essays.extend(found)
        failures.extend(bad)
    return unique_names(essays), failures


def from_text(
    text: str, name: str = "pasted", *, limits: Limits | None = None, **limit_overrides: int
) -> EssayText:
    """An essay pasted as text. Line endings become ``\\n``; limits apply; empty text
    raises ``IngestError``."""
    lim = _resolve_limits(limits, limit_overrides)
    return _finish(name, text, "pasted text", lim, empty_reason="the pasted text is empty")


# --------------------------------------------------------------------------- dispatch


def _ingest(
    name: str, data: bytes, source: str, lim: Limits, *, in_archive: bool = False
) -> tuple[list[EssayText], list[IngestFailure]]:
    """Read ``data`` by the extension of ``name``. Raises IngestError for the file
    itself; returns (essays, member failures)."""
    ext = _extension(name)
    if ext == ".zip":
        if in_archive:
            raise IngestError(name, "a zip inside a zip is not opened; unzip it and add its files directly")
        return _read_zip(name, data, source, lim)
    if ext in TEXT_EXTENSIONS:
        text = _decode_text(name, data)
    elif ext == ".docx":
        text = _read_docx(name, data, lim)
    elif ext == ".pdf":
        text = _read_pdf(name, data, lim)
    elif ext == ".odt":
        text = _read_odt(name, data, lim)
    else:
        raise IngestError(name, _unsupported_reason(ext))
    return [_finish(name, text, source, lim)], []


def _unsupported_reason(ext: str) -> str:
    if not ext:
        return f"unsupported file type (the name has no extension; {_USE_INSTEAD})"
    reason = f"unsupported file type '{ext}' ({_USE_INSTEAD})"
    if ext == ".doc":
        reason += "; open it in Word and save it as .docx"
    return reason


def _finish(
    name: str, text: str, source: str, lim: Limits, *, empty_reason: str = "the file is empty (no text found)"
) -> EssayText:
    """Normalise line endings and apply the checks every essay must pass."""
    text = _normalise_newlines(text)
    if not text.strip():
        raise IngestError(name, empty_reason)
    if len(text) > lim.max_text_chars:
        raise IngestError(
            name,
            f"the text is {len(text):,} characters long; the limit is {lim.max_text_chars:,} characters",
        )
    return EssayText(name=name, text=text, source=source)


def _essays_or_raise(
    name: str,
    essays: list[EssayText],
    member_failures: list[IngestFailure],
    sink: list[IngestFailure] | None,
) -> list[EssayText]:
    if member_failures and not essays:
        first = member_failures[0]
        raise IngestError(
            name,
            f"none of the {len(member_failures)} file(s) in the archive could be read "
            f"(first: {first.name}: {first.reason})",
        )
    if sink is not None:
        sink.extend(member_failures)
    else:
        for f in member_failures:
            log.warning("skipped %s in %s: %s", f.name, name, f.reason)
    return essays


# --------------------------------------------------------------------------- files and sizes


def _load_bytes(path: Path, label: str, lim: Limits) -> bytes:
    """Read a file from disk, checking its size before and while reading."""
    name = path.name or label
    try:
        if path.is_dir():
            raise IngestError(name, "this is a folder, not a file")
        size = path.stat().st_size
        _check_file_size(name, size, lim)
        with path.open("rb") as fh:
            data = fh.read(_file_size_limit(name, lim) + 1)
    except FileNotFoundError:
        raise IngestError(label, "no such file or folder") from None
    except PermissionError:
        raise IngestError(name, "could not open the file (permission denied)") from None
    except OSError as e:
        raise IngestError(name, f"could not read the file ({e.strerror or e})") from None
    _check_file_size(name, len(data), lim)
    return data


def _file_size_limit(name: str, lim: Limits) -> int:
    # A zip of a whole class's essays is naturally bigger than one essay; what it may
    # unpack to is limited separately.
    return lim.max_zip_total_bytes if _extension(name) == ".zip" else lim.max_file_bytes


def _check_file_size(name: str, size: int, lim: Limits) -> None:
    limit = _file_size_limit(name, lim)
    if size > limit:
        have, allowed = _sizes_for_message(size, limit)
        raise IngestError(name, f"the file is {have}; the limit is {allowed}")


def _format_size(n: int) -> str:
    for unit, scale in (("MB", MB), ("KB", KB)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n:,} bytes"


def _sizes_for_message(size: int, limit: int) -> tuple[str, str]:
    """Human sizes for "X; the limit is Y", exact bytes when rounding would hide the gap."""
    have, allowed = _format_size(size), _format_size(limit)
    if have == allowed:
        have, allowed = f"{size:,} bytes", f"{limit:,} bytes"
    return have, allowed


def _is_hidden(name: str) -> bool:
    """Dotfiles, Office lock files (``~$essay.docx``) and Windows folder clutter."""
    return name.startswith((".", "~$")) or name.lower() in {"thumbs.db", "desktop.ini"}


def _files_in_folder(folder: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not _is_hidden(d)]
        found.extend(Path(dirpath, f) for f in filenames if not _is_hidden(f))
    return sorted(found)


def _base_name(name: str) -> str:
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or name


def _extension(name: str) -> str:
    return posixpath.splitext(name)[1].lower()


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------- plain text

_NOT_TEXT_MAGIC = (
    (b"%PDF", "a PDF"),
    (b"PK\x03\x04", "a Word, OpenDocument or zip file"),
    (b"\xd0\xcf\x11\xe0", "an old Word .doc file"),
)


def _decode_text(name: str, data: bytes) -> str:
    """UTF-8 (BOM optional), UTF-16 with BOM, BOM-less UTF-16, else cp1252."""
    if data.startswith(codecs.BOM_UTF8):
        return _decode(name, data[len(codecs.BOM_UTF8):], "utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(name, data, "utf-16")  # the codec reads and drops the BOM
    for magic, kind in _NOT_TEXT_MAGIC:
        if data.startswith(magic):
            raise IngestError(name, f"this is not a plain-text file (it looks like {kind}); check the file's extension")
    if b"\x00" in data:
        encoding = _bomless_utf16(data)
        if encoding is None:
            raise IngestError(name, "this is not a plain-text file (it contains binary data)")
        return _decode(name, data, encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise IngestError(
            name, "the text encoding is not recognised (not UTF-8, UTF-16 or Windows-1252); save it as UTF-8"
        ) from None


def _decode(name: str, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise IngestError(name, f"the text is not valid {encoding.upper()} (it has invalid bytes)") from None


def _bomless_utf16(data: bytes) -> str | None:
    """Mostly-ASCII UTF-16 has a zero in every other byte."""
    if len(data) % 2:
        return None
    half = len(data) // 2
    even_zeros, odd_zeros = data[0::2].count(0), data[1::2].count(0)
    if odd_zeros > 0.3 * half and even_zeros < 0.05 * half:
        return "utf-16-le"
    if even_zeros > 0.3 * half and odd_zeros < 0.05 * half:
        return "utf-16-be"
    return None


# --------------------------------------------------------------------------- zip-based documents


def _open_package(name: str, data: bytes, what: str, lim: Limits) -> zipfile.ZipFile:
    """Open a .docx/.odt as a zip, refusing anything whose parts unpack too large."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        # OLE container: an old binary .doc, or an Office file saved with a password.
        raise IngestError(name, f"not a valid {what}; it is password-protected or an old-format file (re-save it without a password)")
    if not data.startswith(b"PK\x03\x04"):
        raise IngestError(name, f"not a valid {what}")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise IngestError(name, f"not a valid {what}") from None
    unpacked = sum(info.file_size for info in zf.infolist())
    if unpacked > lim.max_zip_total_bytes:
        zf.close()
        have, allowed = _sizes_for_message(unpacked, lim.max_zip_total_bytes)
        raise IngestError(name, f"the document would unpack to {have}; the limit is {allowed}")
    return zf


# --- .docx

_DOCX = "Word document (.docx)"


def _read_docx(name: str, data: bytes, lim: Limits) -> str:
    import docx  # python-docx

    _open_package(name, data, _DOCX, lim).close()
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = list(_docx_blocks(document.element.body))
    except Exception:  # python-docx raises many types for damaged packages
        raise IngestError(name, f"not a valid {_DOCX}") from None
    return "\n\n".join(p for p in paragraphs if p.strip())


def _docx_blocks(container) -> Iterable[str]:
    """Paragraph texts in document order: body paragraphs, table cells (each cell's
    paragraphs; a merged cell is stored once) and paragraphs inside content controls."""
    from docx.oxml.ns import qn

    for child in _docx_unwrapped(container):
        if child.tag == qn("w:p"):
            yield _docx_paragraph_text(child)
        elif child.tag == qn("w:tbl"):
            for row in _docx_unwrapped(child):
                if row.tag != qn("w:tr"):
                    continue
                for cell in _docx_unwrapped(row):
                    if cell.tag == qn("w:tc"):
                        yield from _docx_blocks(cell)


def _docx_unwrapped(element) -> Iterable:
    """Children of ``element``, looking through content controls and custom XML."""
    from docx.oxml.ns import qn

    wrappers = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")}
    for child in element.iterchildren():
        if child.tag in wrappers:
            yield from _docx_unwrapped(child)
        else:
            yield child


def _docx_paragraph_text(p) -> str:
    """The paragraph's runs, like python-docx's ``Paragraph.text`` but also keeping
    runs inside tracked insertions, content controls and fields. Tracked deletions and
    text boxes (which hold their own ``w:p``) are left out."""
    from docx.oxml.ns import qn

    w_p, w_r = qn("w:p"), qn("w:r")
    deleted = {qn("w:del"), qn("w:moveFrom")}
    parts = []
    for run in p.iter(w_r):
        owner = run.getparent()
        while owner is not None and owner.tag != w_p and owner.tag not in deleted:
            owner = owner.getparent()
        if owner is p:
            parts.append(run.text)  # CT_R.text maps w:t, w:tab, w:br, w:cr ...
    return "".join(parts)


# --- .odt

_ODT = "OpenDocument text (.odt)"
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


def _read_odt(name: str, data: bytes, lim: Limits) -> str:
    from odf import opendocument, teletype
    from odf import text as odf_text

    with _open_package(name, data, _ODT, lim) as zf:
        members = set(zf.namelist())
        if "mimetype" not in members or zf.read("mimetype").strip() != _ODT_MIMETYPE:
            raise IngestError(name, f"not a valid {_ODT}")
        manifest = zf.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in members else b""
    if b"encryption-data" in manifest:
        raise IngestError(name, "the document is password-protected")
    try:
        document = opendocument.load(io.BytesIO(data))
        for note in document.getElementsByType(odf_text.Note):  # footnotes would land mid-sentence
            note.parentNode.removeChild(note)
        paragraphs = [teletype.extractText(el) for el in _odt_blocks(document.text)]
    except Exception:  # odfpy raises many types for damaged files
        raise IngestError(name, f"not a valid {_ODT}") from None
    return "\n\n".join(p for p in paragraphs if p.strip())


def _odt_blocks(element) -> Iterable:
    """``text:p`` and ``text:h`` elements in document order (lists, tables and sections
    are walked into; tracked-change records are skipped)."""
    from odf.namespaces import TEXTNS

    block_tags = {(TEXTNS, "p"), (TEXTNS, "h")}
    skip_tags = {(TEXTNS, "tracked-changes")}
    for child in element.childNodes:
        if child.nodeType != child.ELEMENT_NODE:
            continue
        if child.qname in block_tags:
            yield child
        elif child.qname not in skip_tags:
            yield from _odt_blocks(child)


# --------------------------------------------------------------------------- pdf

_PDF_UNREADABLE = "not a readable PDF"
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"})


def _read_pdf(name: str, data: bytes, lim: Limits) -> str:
    reader = _open_pdf(name, data)
    try:
        page_count = len(reader.pages)
    except Exception:
        raise IngestError(name, _PDF_UNREADABLE) from None
    if page_count > lim.max_pdf_pages:
        raise IngestError(name, f"the PDF has {page_count} pages; the limit is {lim.max_pdf_pages} pages")
    pages = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            raw = page.extract_text() or ""
        except Exception:
            raise IngestError(name, f"{_PDF_UNREADABLE} (the text of page {number} could not be read)") from None
        pages.append(_reflow_pdf_page(_normalise_newlines(raw).translate(_LIGATURES)))
    if not any(pages):
        raise IngestError(name, "no text found (scanned or image-only PDF?)")
    return _join_pdf_pages(pages)


def _open_pdf(name: str, data: bytes):
    import pypdf

    # The PDF header may legally be preceded by junk; readers accept it in the first 1 KB.
    if b"%PDF-" not in data[:1024]:
        raise IngestError(name, _PDF_UNREADABLE)
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    except Exception:
        raise IngestError(name, _PDF_UNREADABLE) from None
    if reader.is_encrypted:
        # Many PDFs carry only an "owner" password (no password needed to open them).
        try:
            opened = reader.decrypt("")
        except Exception:  # e.g. AES encryption without the optional crypto library
            opened = 0
        if not opened:
            raise IngestError(name, "the PDF is password-protected")
    return reader


# PDF text comes back with a hard line break at the end of every printed line. The
# reflow heuristic, per page:
#   * a blank line always ends a paragraph;
#   * a line that ends a sentence (. ! ? : ; possibly followed by a quote or bracket)
#     and is noticeably shorter than a full line ends a paragraph;
#   * a very short line followed by a capitalised line ends a paragraph (headings);
#   * an indented line, or one starting with a bullet or "1." marker, starts one;
#   * otherwise lines are joined with a space (no space after a word-hyphen: "well-known").
# "Full line" = the 80th-percentile line length on the page. A lone page number as the
# first or last line of a page is dropped. Pages are joined by a paragraph break unless
# the text visibly runs on (no sentence end, next page starts in lower case).

_SENTENCE_END = re.compile(r"""[.!?:;]["'\u201d\u2019)\]]*$""")
_LIST_MARKER = re.compile(r"^(?:[\u2022\u25aa\u25e6\u2023\u2219\u00b7*\u2013-]|\d{1,3}[.)]|\([a-z0-9]{1,3}\))\s")
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,3}(?:\s*(?:of|/)\s*\d{1,3})?$", re.IGNORECASE)  # not years


def _reflow_pdf_page(raw: str) -> str:
    lines = [line.rstrip() for line in raw.split("\n")]
    lines = _drop_page_numbers(lines)
    width = _typical_line_length(lines)
    paragraphs: list[list[str]] = []
    prev: str | None = None
    for line in lines:
        if not line.strip():
            prev = None
            continue
        if prev is None or _starts_new_paragraph(prev, line, width):
            paragraphs.append([])
        paragraphs[-1].append(line.strip())
        prev = line
    return "\n\n".join(_join_lines(p) for p in paragraphs)


def _drop_page_numbers(lines: list[str]) -> list[str]:
    content = [i for i, line in enumerate(lines) if line.strip()]
    drop = {i for i in content[:1] + content[-1:] if _PAGE_NUMBER.match(lines[i].strip())}
    if len(drop) == len(content):  # a page holding only a number keeps it
        return lines
    return [line for i, line in enumerate(lines) if i not in drop]


def _typical_line_length(lines: list[str]) -> int:
    lengths = sorted(len(line.strip()) for line in lines if line.strip())
    return lengths[int(0.8 * (len(lengths) - 1))] if lengths else 0


def _starts_new_paragraph(prev: str, line: str, width: int) -> bool:
    prev_text, text = prev.strip(), line.strip()
    indent_prev = len(prev) - len(prev.lstrip())
    indent = len(line) - len(line.lstrip())
    if indent > indent_prev + 1 or _LIST_MARKER.match(text):
        return True
    if _SENTENCE_END.search(prev_text) and len(prev_text) < 0.8 * width:
        return True
    return len(prev_text) < 0.5 * width and text[:1].isupper() and not prev_text.endswith((",", "-"))


def _join_lines(lines: list[str]) -> str:
    out = lines[0]
    for line in lines[1:]:
        hyphenated = len(out) > 1 and out.endswith("-") and out[-2].isalpha() and line[:1].isalpha()
        out += line if hyphenated else " " + line
    return out


def _join_pdf_pages(pages: list[str]) -> str:
    out = ""
    for page in filter(None, pages):
        if not out:
            out = page
        elif not _SENTENCE_END.search(out) and page[:1].islower():
            out += " " + page
        else:
            out += "\n\n" + page
    return out


# --------------------------------------------------------------------------- zip archives


def _read_zip(name: str, data: bytes, source: str, lim: Limits) -> tuple[list[EssayText], list[IngestFailure]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise IngestError(name, "not a valid zip archive") from None
    with archive:
        members = sorted(_zip_members(archive), key=lambda item: item[0])
        _check_zip_limits(name, members, lim)
        essays: list[EssayText] = []
        failures: list[IngestFailure] = []
        budget = [lim.max_zip_total_bytes]  # bytes still allowed to be unpacked
        for path, info in members:
            member = posixpath.basename(path)
            try:
                member_data = _read_zip_member(archive, info, member, lim, budget)
                found, _ = _ingest(member, member_data, f"{source}/{path}", lim, in_archive=True)
                essays.extend(found)
            except IngestError as e:
                failures.append(e.as_failure())
    if not essays and not failures:
        raise IngestError(name, "the zip holds no essays (no txt, docx, pdf or odt files)")
    return essays, failures


def _zip_members(archive: zipfile.ZipFile) -> Iterable[tuple[str, zipfile.ZipInfo]]:
    """(path, info) of each file worth reading: no folders, __MACOSX or hidden files."""
    for info in archive.infolist():
        if info.is_dir():
            continue
        path = _zip_member_path(info)
        parts = [part for part in path.split("/") if part]
        if not parts or parts[0] == "__MACOSX" or any(_is_hidden(part) for part in parts):
            continue
        yield "/".join(parts), info


def _zip_member_path(info: zipfile.ZipInfo) -> str:
    """The member's path with '/' separators. Zips made on a Mac often store UTF-8
    names without setting the UTF-8 flag, which Python then decodes as cp437."""
    path = info.filename
    if not info.flag_bits & 0x800:
        try:
            path = path.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return path.replace("\\", "/")


def _check_zip_limits(name: str, members: list[tuple[str, zipfile.ZipInfo]], lim: Limits) -> None:
    if len(members) > lim.max_zip_members:
        raise IngestError(name, f"the zip holds {len(members)} files; the limit is {lim.max_zip_members} files")
    unpacked = sum(info.file_size for _, info in members)
    if unpacked > lim.max_zip_total_bytes:
        have, allowed = _sizes_for_message(unpacked, lim.max_zip_total_bytes)
        raise IngestError(name, f"the zip would unpack to {have}; the limit is {allowed}")


def _read_zip_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, member: str, lim: Limits, budget: list[int]
) -> bytes:
    """Unpack one member, never more than the limits allow, whatever its header claims."""
    ext = _extension(member)
    if ext not in SUPPORTED_EXTENSIONS:
        raise IngestError(member, _unsupported_reason(ext))
    if ext == ".zip":
        raise IngestError(member, "a zip inside a zip is not opened; unzip it and add its files directly")
    if info.flag_bits & 0x1:
        raise IngestError(member, "the file is password-protected inside the zip")
    if info.file_size > lim.max_member_bytes:
        have, allowed = _sizes_for_message(info.file_size, lim.max_member_bytes)
        raise IngestError(member, f"the file is {have} when unpacked; the limit is {allowed}")
    cap = min(lim.max_member_bytes, budget[0])
    try:
        with archive.open(info) as fh:
            data = fh.read(cap + 1)
    except NotImplementedError:  # e.g. Deflate64, used by Windows for large zips
        raise IngestError(member, "the zip uses a compression method that cannot be read; re-zip the files") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError):
        raise IngestError(member, "the file is damaged inside the zip") from None
    if len(data) > cap:
        raise IngestError(member, "the file unpacks to more than the zip's header says (possible zip bomb)")
    budget[0] -= len(data)
    return data
