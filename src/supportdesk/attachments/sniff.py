"""What an uploaded file really is, decided from its bytes alone.

``sniff(path, filename)`` reads the file on local disk (the upload's temp file) and either
returns what it is (``Sniffed``: kind, MIME type, canonical extension) or refuses it with
``attachment_empty`` (422) or ``attachment_type_not_allowed`` (415, ``AttachmentRefused``
with a machine-readable ``reason`` and a sentence naming it in Japanese and English).

The rules, strict on purpose (a helpdesk is a classic way in: stored XSS through SVG or
HTML, executables, archives, polyglots):

- The type comes from magic bytes in a small explicit table below (no libmagic, no
  guessing from the name or the client's Content-Type). Allowed: PNG, JPEG, GIF, WebP,
  HEIC/HEIF (when pillow-heif is installed), MP4, MOV, WebM, PDF, and UTF-8 text.
- Everything else is refused, with the reason named: SVG, HTML, XML, scripts (``#!``,
  PHP), executables (PE, ELF, Mach-O, Java class, WebAssembly, DEX), archives and
  Office files (ZIP and every ZIP-based format such as DOCX, gzip, bzip2, xz, zstd, 7z,
  RAR, tar, CAB, OLE), media we do not play (BMP, TIFF, AVIF, MKV, audio ...), unknown.
- The name's extension must agree with the bytes: a ``.png`` that is a JPEG is refused,
  not renamed (the issue asks for it; a renamed file is how a payload gets past a person
  who trusts the icon). No extension is fine: ``Sniffed.ext`` gives the right one.
- Polyglots: the first and last 64 KiB of every binary file, every PNG chunk except the
  pixel data, every JPEG segment before the scan data, every WebP chunk except the
  bitstream and anything appended after a PNG's or WebP's end are searched for markup
  (``<script``, ``<html``, ``<svg``, ``<iframe``, ``<!doctype html``, ``<?php``) and archive
  records (ZIP local header and end-of-central-directory, RAR, 7z). A GIF whose header
  doubles as a JavaScript comment (``GIF89a/*``) is refused too. Images are re-encoded
  afterwards anyway (media.py), so this is the second line; videos and PDFs are stored as
  uploaded, so for them it is the first.
- PDF is allowed without active content: a PDF naming ``/JavaScript``, ``/JS``,
  ``/Launch``, ``/EmbeddedFile`` or ``/RichMedia`` (names with ``#xx`` escapes decoded;
  object streams inflated within a budget) is refused, and so is an encrypted PDF or one
  whose object streams cannot be inflated: their objects cannot be inspected.
- Text must be valid UTF-8 with no NUL byte, must not start like markup or a script and
  must not contain ``<script``, ``<html``, ``<svg``, ``<iframe`` or ``<?php`` anywhere.
"""

from __future__ import annotations

import codecs
import mmap
import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from supportdesk.core.errors import DomainError
from supportdesk.core.i18n import MESSAGES, Locale, translate

Kind = Literal["image", "video", "file"]

# How much of the start and the end of a file is searched for polyglot payloads. A ZIP's
# end-of-central-directory record sits within its last 65,535 + 22 bytes.
WINDOW = 64 * 1024 + 22
TEXT_CHUNK = 1024 * 1024
# Inflating PDF streams to look for hidden names: at most this much output in total.
PDF_INFLATE_BUDGET = 64 * 1024 * 1024


@dataclass(frozen=True)
class Sniffed:
    kind: Kind
    mime: str
    ext: str  # canonical extension without the dot: "png", "jpg", "mp4", "txt" ...


class AttachmentRefused(DomainError):
    """``attachment_type_not_allowed`` (415) with a reason the person can act on.

    The wire code stays ``attachment_type_not_allowed``; ``reason`` (and ``detected``,
    ``payload``, ``extension`` when known) are extra fields of the error body, and the
    message starts with the reason's own sentence from core/i18n.py
    (``attachment_type_not_allowed.<reason>``) followed by what is allowed.
    """

    def __init__(self, reason: str, **params: str) -> None:
        key = f"attachment_type_not_allowed.{reason}"
        if key not in MESSAGES:
            raise ValueError(f"refusal reason {reason!r} has no message in core/i18n.py")
        super().__init__(
            "attachment_type_not_allowed", 415, params=params, extra={"reason": reason, **params}
        )
        self.reason = reason

    def message(self, locale: Locale) -> str:
        first = translate(f"attachment_type_not_allowed.{self.reason}", locale, self.params)
        joiner = "" if locale == "ja" else " "
        return first + joiner + super().message(locale)


@dataclass(frozen=True)
class _Type:
    label: str
    kind: Kind
    mime: str
    exts: tuple[str, ...]  # the first one is canonical


PNG = _Type("PNG", "image", "image/png", ("png",))
JPEG = _Type("JPEG", "image", "image/jpeg", ("jpg", "jpeg", "jpe", "jfif"))
GIF = _Type("GIF", "image", "image/gif", ("gif",))
WEBP = _Type("WebP", "image", "image/webp", ("webp",))
HEIC = _Type("HEIC", "image", "image/heic", ("heic", "heif", "hif"))
# MP4 and QuickTime are the same box format and players treat them alike, so either
# extension agrees with either brand; the MIME type follows the bytes.
MP4 = _Type("MP4", "video", "video/mp4", ("mp4", "m4v", "mov"))
MOV = _Type("MOV", "video", "video/quicktime", ("mov", "qt", "mp4", "m4v"))
WEBM = _Type("WebM", "video", "video/webm", ("webm",))
PDF = _Type("PDF", "file", "application/pdf", ("pdf",))
# Spreadsheets (.csv/.tsv) are left out on purpose: a formula in a cell runs when an agent
# opens the file in a spreadsheet program. Rotated logs (app.log.1) are accepted too.
TEXT = _Type(
    "text",
    "file",
    "text/plain; charset=utf-8",
    ("txt", "log", "text", "md", "json", "out", "yaml", "yml", "ini", "conf", "cfg"),
)
ALLOWED = (PNG, JPEG, GIF, WEBP, HEIC, MP4, MOV, WEBM, PDF, TEXT)

_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_GENERIC_BRANDS = {b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
    b"mp41", b"mp42", b"mp71", b"avc1", b"dash", b"M4V ", b"M4VP", b"MSNV", b"NDAS",
    b"f4v ", b"XAVC", b"mmp4",
}  # fmt: skip
_MP4_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
# QuickTime files from before the ftyp box start with one of these atoms.
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}

# (offset, magic, reason, detected). Checked after the allowed types.
_REFUSED_MAGIC: tuple[tuple[int, bytes, str, str], ...] = (
    (0, b"\x7fELF", "executable", "ELF"),
    (0, b"\xfe\xed\xfa\xce", "executable", "Mach-O"),
    (0, b"\xfe\xed\xfa\xcf", "executable", "Mach-O"),
    (0, b"\xce\xfa\xed\xfe", "executable", "Mach-O"),
    (0, b"\xcf\xfa\xed\xfe", "executable", "Mach-O"),
    (0, b"\xca\xfe\xba\xbe", "executable", "Mach-O / Java class"),
    (0, b"\x00asm", "executable", "WebAssembly"),
    (0, b"dex\n", "executable", "Android DEX"),
    (0, b"PK\x03\x04", "archive", "ZIP"),
    (0, b"PK\x05\x06", "archive", "ZIP"),
    (0, b"PK\x07\x08", "archive", "ZIP"),
    (0, b"\x1f\x8b", "archive", "gzip"),
    *((0, b"BZh%d1AY&SY" % level, "archive", "bzip2") for level in range(1, 10)),
    (0, b"\xfd7zXZ\x00", "archive", "xz"),
    (0, b"\x28\xb5\x2f\xfd", "archive", "zstd"),
    (0, b"\x04\x22\x4d\x18", "archive", "LZ4"),
    (0, b"7z\xbc\xaf\x27\x1c", "archive", "7z"),
    (0, b"Rar!\x1a\x07", "archive", "RAR"),
    (0, b"MSCF\x00\x00\x00\x00", "archive", "CAB"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "archive", "OLE (Office 97-2003 / MSI)"),
    (0, b"!<arch>\n", "archive", "ar / deb"),
    (0, b"xar!", "archive", "XAR / pkg"),
    (257, b"ustar", "archive", "tar"),
    (32769, b"CD001", "archive", "ISO 9660"),
    (0, b"II*\x00", "unsupported", "TIFF"),
    (0, b"MM\x00*", "unsupported", "TIFF"),
    (0, b"8BPS", "unsupported", "PSD"),
    (0, b"\xff\x0a", "unsupported", "JPEG XL"),
    (0, b"\x00\x00\x00\x0cJXL ", "unsupported", "JPEG XL"),
    (0, b"OggS\x00", "unsupported", "Ogg"),
    (0, b"FLV\x01", "unsupported", "FLV"),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "unsupported", "ASF / WMV"),
    (0, b"%!PS", "unsupported", "PostScript"),
    (0, b"{\\rtf", "unsupported", "RTF"),
)
# Two-byte magics that would also match ordinary text: only taken when the head is binary.
_BINARY_ONLY_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"MZ", "executable", "Windows program (EXE/DLL)"),
    (b"BM", "unsupported", "BMP"),
    (b"\x00\x00\x01\x00", "unsupported", "ICO"),
    (b"ID3", "unsupported", "MP3"),
    (b"fLaC", "unsupported", "FLAC"),
)

# Payloads that make a polyglot: markup a browser or PHP would run, and archive records
# an unzip tool would find. Tags need a terminator so random compressed bytes rarely match.
_PAYLOADS: tuple[tuple[re.Pattern[bytes], str], ...] = (
    (re.compile(rb"<script[\s>/]", re.IGNORECASE), "<script"),
    (re.compile(rb"<html[\s>]", re.IGNORECASE), "<html"),
    (re.compile(rb"<svg[\s>/]", re.IGNORECASE), "<svg"),
    (re.compile(rb"<iframe[\s>/]", re.IGNORECASE), "<iframe"),
    (re.compile(rb"<!doctype\s+html", re.IGNORECASE), "<!DOCTYPE html"),
    (re.compile(rb"<\?php", re.IGNORECASE), "<?php"),
    (re.compile(rb"PK\x03\x04[\x00-\x3f]\x00"), "ZIP"),
    (re.compile(rb"PK\x05\x06"), "ZIP"),
    (re.compile(rb"Rar!\x1a\x07"), "RAR"),
    (re.compile(rb"7z\xbc\xaf\x27\x1c"), "7z"),
)

# Text that must not be accepted as "plain text": where it starts, and anywhere in it.
_HTML_START_TAGS = (
    "<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<!--", "<meta",
    "<title", "<div", "<p>", "<a ", "<img", "<style", "<link", "<form", "<table", "<br",
)  # fmt: skip
_MARKUP_ANYWHERE: tuple[tuple[str, str, str], ...] = (
    ("<svg", "svg", "SVG"),
    ("<script", "html", "HTML"),
    ("<html", "html", "HTML"),
    ("<iframe", "html", "HTML"),
    ("<?php", "script", "PHP"),
)

# Long names are searched in the whole file, streams included: they cannot appear by chance
# in compressed bytes. "/JS" can, so it is searched where dictionaries are: outside streams
# and inside object streams. A JavaScript action also needs "/S /JavaScript", so hiding a
# dictionary where the short name is not searched still leaves the long one to be found.
_PDF_LONG_NAMES = {b"JavaScript", b"Launch", b"EmbeddedFile", b"RichMedia", b"Encrypt"}
_PDF_ACTIVE_NAMES = _PDF_LONG_NAMES | {b"JS"}
_PDF_NAME = re.compile(rb"/((?:[A-Za-z0-9_.+-]|#[0-9A-Fa-f]{2})+)")
_PDF_STREAM = re.compile(rb"(?<!end)stream\r?\n")


def sniff(path: Path, filename: str) -> Sniffed:
    """What the file at ``path`` is, or a refusal; ``filename`` is only checked for agreement."""
    size = path.stat().st_size
    if size == 0:
        raise DomainError("attachment_empty", 422)
    with path.open("rb") as file:
        head = file.read(WINDOW + 32769)  # room for the ISO 9660 signature at 32769
        file.seek(max(0, size - WINDOW))
        tail = file.read(WINDOW)

    found = _detect(head)
    if found is None:
        found = _check_text(path)
    _check_extension(found, filename)
    if found is not TEXT:
        _check_polyglot(path, found, head[:WINDOW], tail, size)
    if found is PDF:
        _check_pdf(path)
    return Sniffed(found.kind, found.mime, found.exts[0])


def detect(head: bytes) -> Sniffed | None:
    """What the first bytes of a file announce, for limits while an upload streams in.

    ``head``: at least the first 512 bytes (or the whole file if shorter). A ``Sniffed``
    for an allowed binary type, None when the bytes may be text (only ``sniff`` can tell,
    reading all of it), ``AttachmentRefused`` for a refused type. No name, polyglot or PDF
    checks: ``sniff`` on the finished file still decides.
    """
    found = _detect(head)
    return Sniffed(found.kind, found.mime, found.exts[0]) if found else None


def heic_supported() -> bool:
    """HEIC/HEIF is accepted only where pillow-heif can decode it."""
    try:
        import pillow_heif  # noqa: F401
    except ImportError:
        return False
    return True


# --- what the bytes say -----------------------------------------------------------------


def _detect(head: bytes) -> _Type | None:
    """The allowed binary type of ``head``; None for "maybe text"; raises for refused types."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    # The box and chunk formats below start with a length: binary bytes, never text, so a
    # note that begins "Feelfree..." is not taken for a QuickTime "free" atom.
    binary = b"\x00" in head[:512]
    if head[:4] == b"RIFF" and binary:
        raise AttachmentRefused("unsupported", detected=_riff_label(head[8:12]))
    if head[4:8] == b"ftyp" and head[0] == 0:
        return _iso_media(head)
    if head[4:8] in _QUICKTIME_ATOMS and binary:
        return MOV
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _ebml(head)
    if head.startswith(b"%PDF-"):
        return PDF
    for offset, magic, reason, detected in _REFUSED_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            if magic.startswith(b"PK"):
                detected = _zip_label(head)
            raise AttachmentRefused(reason, detected=detected)
    if binary:
        for magic, reason, detected in _BINARY_ONLY_MAGIC:
            if head.startswith(magic):
                raise AttachmentRefused(reason, detected=detected)
        raise AttachmentRefused("unknown")
    return None


def _riff_label(form: bytes) -> str:
    return {b"AVI ": "AVI", b"WAVE": "WAV"}.get(form, "RIFF")


def _iso_media(head: bytes) -> _Type:
    """MP4, MOV or HEIC from an ISO base media ``ftyp`` box (major and compatible brands)."""
    box_size = int.from_bytes(head[:4], "big")
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(box_size, len(head), 256) - 3, 4)}
    brands = {major} | compatible
    if major in _AVIF_BRANDS or (major in _HEIF_GENERIC_BRANDS and brands & _AVIF_BRANDS):
        raise AttachmentRefused("unsupported", detected="AVIF")
    if major in _HEIC_BRANDS or major in _HEIF_GENERIC_BRANDS:
        if not heic_supported():
            raise AttachmentRefused("unsupported", detected="HEIC")
        return HEIC
    if major == b"qt  ":
        return MOV
    if major in _MP4_AUDIO_BRANDS:
        raise AttachmentRefused("unsupported", detected="MP4 audio (M4A)")
    if major.startswith((b"3gp", b"3g2")):
        raise AttachmentRefused("unsupported", detected="3GP")
    if major in _MP4_BRANDS or brands & _MP4_BRANDS:
        return MP4
    raise AttachmentRefused("unsupported", detected=f"ISO media ({_printable(major)})")


def _ebml(head: bytes) -> _Type:
    """WebM, told apart from other Matroska files by the EBML DocType element (0x4282)."""
    at = head.find(b"\x42\x82", 4, 64)
    doctype = b""
    if at >= 0 and at + 2 < len(head):
        marker = head[at + 2]
        if marker & 0x80:  # one-byte size, the only form muxers write here
            length = marker & 0x7F
            doctype = head[at + 3 : at + 3 + length]
    if doctype == b"webm":
        return WEBM
    if doctype == b"matroska":
        raise AttachmentRefused("unsupported", detected="Matroska (MKV)")
    raise AttachmentRefused("unsupported", detected="EBML")


def _zip_label(head: bytes) -> str:
    """Which ZIP-based format this is, for a message the person recognises."""
    if b"[Content_Types].xml" in head:
        for marker, label in ((b"word/", "DOCX"), (b"xl/", "XLSX"), (b"ppt/", "PPTX")):
            if marker in head:
                return label
        return "Office Open XML"
    for marker, label in (
        (b"AndroidManifest.xml", "APK"),
        (b"META-INF/MANIFEST.MF", "JAR"),
        (b"mimetypeapplication/epub", "EPUB"),
        (b"mimetypeapplication/vnd.oasis.opendocument", "OpenDocument"),
    ):
        if marker in head:
            return label
    return "ZIP"


def _printable(raw: bytes) -> str:
    return raw.decode("ascii", "replace").strip() or "?"


# --- text -----------------------------------------------------------------------------


def _check_text(path: Path) -> _Type:
    """UTF-8 text without NULs that does not look like markup or a script, or a refusal."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    start = ""
    carry = ""  # the end of the previous chunk, so a tag split across chunks is still seen
    with path.open("rb") as file:
        while True:
            chunk = file.read(TEXT_CHUNK)
            final = not chunk
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError:
                raise AttachmentRefused("unknown") from None
            if "\x00" in text:
                raise AttachmentRefused("unknown")
            if len(start) < 1024:
                start += text[: 1024 - len(start)]
            window = (carry + text).lower()
            for needle, reason, detected in _MARKUP_ANYWHERE:
                if needle in window:
                    raise AttachmentRefused(reason, detected=detected)
            carry = window[-16:]
            if final:
                break
    _check_text_start(start)
    return TEXT


def _check_text_start(start: str) -> None:
    lead = start.lstrip("\ufeff \t\r\n\f\v").lower()
    if lead.startswith("#!"):
        interpreter = lead[2:].split("\n", 1)[0].strip()[:40]
        raise AttachmentRefused("script", detected=f"#!{interpreter}")
    if lead.startswith("<?xml"):
        if "<svg" in lead:
            raise AttachmentRefused("svg")
        if "<html" in lead or "xhtml" in lead:
            raise AttachmentRefused("html")
        raise AttachmentRefused("xml")
    if lead.startswith(_HTML_START_TAGS):
        raise AttachmentRefused("html")
    if re.match(r"<[a-z!?/]", lead):
        raise AttachmentRefused("xml")


# --- the name ---------------------------------------------------------------------------


def name_extension(filename: str) -> str:
    """The extension the name shows a person (lower case, no dot), after removing path
    parts, invisible and control characters (U+202E would flip "gpj.exe" to look like
    "exe.jpg") and the trailing dots and spaces Windows ignores."""
    base = re.split(r"[/\\]", filename)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) not in {"Cc", "Cf"})
    base = base.rstrip(" .")
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem.strip(" ."):
        return ""  # "notes" or ".bashrc": no extension
    return ext.strip().lower()


def _check_extension(found: _Type, filename: str) -> None:
    ext = name_extension(filename)
    if not ext or ext in found.exts:
        return
    if found is TEXT and _rotated_log(filename):
        return
    raise AttachmentRefused("extension_mismatch", detected=found.label, extension=f".{ext}")


def _rotated_log(filename: str) -> bool:
    """app.log.1, app.log.2024-05-01, error.txt.3: a text file's rotation suffix."""
    base = re.split(r"[/\\]", filename)[-1].lower()
    return re.search(r"\.(?:log|txt)\.[0-9][0-9_.-]*$", base) is not None


# --- polyglots --------------------------------------------------------------------------


def _check_polyglot(path: Path, found: _Type, head: bytes, tail: bytes, size: int) -> None:
    if found is GIF and head[6:8] == b"/*":
        # GIF89a/*...*/=alert(1): the header is also the start of a JavaScript comment.
        raise AttachmentRefused("polyglot", detected=found.label, payload="JavaScript (GIF89a/*)")
    _search(found, head)
    _search(found, tail)
    if found in (PNG, JPEG, WEBP):
        with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            regions = {PNG: _png_regions, JPEG: _jpeg_regions, WEBP: _webp_regions}[found]
            for start, end in regions(mm, size):
                _search(found, mm[start:end])


def _search(found: _Type, data: bytes) -> None:
    for pattern, payload in _PAYLOADS:
        if pattern.search(data):
            raise AttachmentRefused("polyglot", detected=found.label, payload=payload)


def _png_regions(mm: Any, size: int) -> Iterator[tuple[int, int]]:
    """Every chunk's data except the compressed pixels (IDAT, fdAT), and what follows IEND."""
    position = 8
    while position + 12 <= size:
        length = int.from_bytes(mm[position : position + 4], "big")
        kind = bytes(mm[position + 4 : position + 8])
        data_start = position + 8
        end = min(data_start + length, size)
        if kind not in (b"IDAT", b"fdAT"):
            yield data_start, end
        position = end + 4  # CRC
        if kind == b"IEND":
            break
    if position < size:
        yield position, size  # appended after the image: a classic place for a payload


def _jpeg_regions(mm: Any, size: int) -> Iterator[tuple[int, int]]:
    """Every marker segment before the scan data (APPn: EXIF, XMP, ICC; COM comments)."""
    position = 2
    while position + 4 <= size:
        if mm[position] != 0xFF:
            return
        marker = mm[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            position += 2
            continue
        length = int.from_bytes(mm[position + 2 : position + 4], "big")
        yield position + 4, min(position + 2 + length, size)
        if marker in (0xDA, 0xD9):  # start of scan: entropy-coded data follows
            return
        position += 2 + length


def _webp_regions(mm: Any, size: int) -> Iterator[tuple[int, int]]:
    """Every RIFF chunk except the image bitstreams, and what follows the RIFF container."""
    riff_end = min(8 + int.from_bytes(mm[4:8], "little"), size)
    position = 12
    while position + 8 <= riff_end:
        kind = bytes(mm[position : position + 4])
        length = int.from_bytes(mm[position + 4 : position + 8], "little")
        end = min(position + 8 + length, riff_end)
        if kind not in (b"VP8 ", b"VP8L", b"ALPH", b"ANMF"):
            yield position + 8, end
        position = end + (length & 1)
    if riff_end < size:
        yield riff_end, size


# --- PDF ------------------------------------------------------------------------------


def _check_pdf(path: Path) -> None:
    """Refuse a PDF that can run something (a script, a program, an embedded file), or
    that hides its objects from this check (encryption, object streams we cannot inflate).

    Names live in dictionaries: in the file's text between streams, or inside compressed
    object streams (/Type /ObjStm), which are inflated within a budget. Other streams
    (images, page content, the scripts themselves) are data, searched for long names only.
    """
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        _pdf_names(mm, _PDF_LONG_NAMES)
        budget = PDF_INFLATE_BUDGET
        position = 0
        while True:
            match = _PDF_STREAM.search(mm, position)
            outside = mm[position : match.start() if match else len(mm)]
            _pdf_names(outside, _PDF_ACTIVE_NAMES)
            if match is None:
                return
            end = mm.find(b"endstream", match.end())
            end = len(mm) if end < 0 else end
            dictionary = outside[outside.rfind(b"obj") + 1 :]
            if b"ObjStm" in _pdf_names(dictionary, _PDF_ACTIVE_NAMES):
                inflated = _inflate(mm[match.end() : end], budget)
                if not inflated or len(inflated) >= budget:
                    raise AttachmentRefused(
                        "pdf_active_content", detected="/ObjStm (cannot be inspected)"
                    )
                budget -= len(inflated)
                _pdf_names(inflated, _PDF_ACTIVE_NAMES)
            position = end + len(b"endstream")


def _pdf_names(data: Any, refused: set[bytes]) -> set[bytes]:
    """The names in ``data`` with ``#xx`` escapes decoded; refuses those in ``refused``."""
    names: set[bytes] = set()
    for match in _PDF_NAME.finditer(data):
        name = match[1]
        if b"#" in name:
            name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), name)
        if name in refused:
            raise AttachmentRefused("pdf_active_content", detected="/" + name.decode())
        names.add(name)
    return names


def _inflate(data: bytes, budget: int) -> bytes:
    """``data`` Flate-decoded (at most ``budget`` bytes of it), or b"" if it is not Flate."""
    try:
        return zlib.decompressobj().decompress(data, budget)
    except zlib.error:
        return b""
