"""Type sniffing of uploads: the type comes from the bytes, hostile files are refused with
their code and reason. Every sample is made here (Pillow, zipfile, tarfile, ffmpeg)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import random
import subprocess
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from supportdesk.attachments.sniff import (
    AttachmentRefused,
    Sniffed,
    detect,
    name_extension,
    sniff,
)
from supportdesk.core.errors import DomainError

pytestmark = pytest.mark.unit

TEXT = "text/plain; charset=utf-8"


# --- samples -----------------------------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), **params: object) -> bytes:
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, fmt, **params)
    return buffer.getvalue()


def video_bytes(tmp_path_factory: pytest.TempPathFactory, name: str, *codec: str) -> bytes:
    out = tmp_path_factory.mktemp("video") / name
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi"),
            *("-i", "testsrc=duration=1:size=160x120:rate=10", *codec, str(out)),
        ],
        check=True,
        timeout=60,
    )
    return out.read_bytes()


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    h264 = ("-c:v", "libx264", "-pix_fmt", "yuv420p")
    return {
        "mp4": video_bytes(tmp_path_factory, "clip.mp4", *h264),
        "mov": video_bytes(tmp_path_factory, "clip.mov", *h264),
        "webm": video_bytes(tmp_path_factory, "clip.webm", "-c:v", "libvpx-vp9"),
        "mkv": video_bytes(tmp_path_factory, "clip.mkv", *h264),
    }


def pdf(*objects: bytes) -> bytes:
    """A small well-formed PDF with the given objects after the catalog and the page."""
    body = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        *objects,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, content in enumerate(body, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(body) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(body) + 1, xref)
    return bytes(out)


def stream(data: bytes, dictionary: bytes = b"") -> bytes:
    packed = zlib.compress(data)
    return (
        b"<< /Length %d /Filter /FlateDecode %s>>\nstream\n" % (len(packed), dictionary)
        + packed
        + b"\nendstream"
    )


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("notes.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    return buffer.getvalue()


def write(tmp_path: Path, data: bytes) -> Path:
    # The upload's temp file never carries the client's name: only the bytes matter.
    path = tmp_path / "upload"
    path.write_bytes(data)
    return path


def refused(tmp_path: Path, data: bytes, filename: str) -> AttachmentRefused:
    with pytest.raises(AttachmentRefused) as caught:
        sniff(write(tmp_path, data), filename)
    error = caught.value
    assert error.code == "attachment_type_not_allowed"
    assert error.status == 415
    return error


# --- allowed types, from the bytes -------------------------------------------------------

ALLOWED_FILES: list[tuple[str, Callable[[], bytes], Sniffed]] = [
    ("png", lambda: image_bytes("PNG"), Sniffed("image", "image/png", "png")),
    ("jpg", lambda: image_bytes("JPEG"), Sniffed("image", "image/jpeg", "jpg")),
    ("gif", lambda: image_bytes("GIF"), Sniffed("image", "image/gif", "gif")),
    ("webp", lambda: image_bytes("WEBP"), Sniffed("image", "image/webp", "webp")),
    ("heic", lambda: image_bytes("HEIF"), Sniffed("image", "image/heic", "heic")),
    ("pdf", lambda: pdf(), Sniffed("file", "application/pdf", "pdf")),
    ("txt", lambda: "ログ 1行目\nline 2\n".encode(), Sniffed("file", TEXT, "txt")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("ext", "make", "expected"), ALLOWED_FILES, ids=[case[0] for case in ALLOWED_FILES]
)
@pytest.mark.parametrize("name_form", ["matching", "upper case", "no extension", "a path"])
def test_allowed_files_are_recognised_by_their_bytes(
    tmp_path: Path, ext: str, make: Callable[[], bytes], expected: Sniffed, name_form: str
) -> None:
    filename = {
        "matching": f"capture.{ext}",
        "upper case": f"CAPTURE.{ext.upper()}",
        "no extension": "capture",
        "a path": f"C:\\Users\\me\\Desktop\\capture.{ext}",
    }[name_form]

    assert sniff(write(tmp_path, make()), filename) == expected


@pytest.mark.parametrize(
    ("key", "filename", "expected"),
    [
        ("mp4", "clip.mp4", Sniffed("video", "video/mp4", "mp4")),
        ("mp4", "clip", Sniffed("video", "video/mp4", "mp4")),
        ("mov", "IMG_0001.MOV", Sniffed("video", "video/quicktime", "mov")),
        ("mov", "clip.mp4", Sniffed("video", "video/quicktime", "mov")),  # same box format
        ("webm", "clip.webm", Sniffed("video", "video/webm", "webm")),
    ],
)
def test_videos_are_recognised_by_their_bytes(
    tmp_path: Path, videos: dict[str, bytes], key: str, filename: str, expected: Sniffed
) -> None:
    assert sniff(write(tmp_path, videos[key]), filename) == expected


@pytest.mark.parametrize("filename", ["server.log", "app.log.1", "app.log.2024-05-01", "README"])
def test_log_files_are_text(tmp_path: Path, filename: str) -> None:
    data = b"2024-05-01 12:00:00 ERROR \x1b[31mfailed\x1b[0m: a < b && c > d\r\n"

    assert sniff(write(tmp_path, data), filename).mime == TEXT


@pytest.mark.parametrize(
    "text",
    [
        b"ID3 tags are missing\n",
        b"BM ticket 42\n",
        b"MZ series\n",
        b"<134>Oct 11 syslog line\n",
        b"Feelfree to ignore\n",  # "free" where a QuickTime atom's name would be
        b"RIFF files fail to play\n",
    ],
)
def test_text_that_starts_like_a_short_magic_number_is_still_text(
    tmp_path: Path, text: bytes
) -> None:
    assert sniff(write(tmp_path, text), "notes.txt").mime == TEXT


def test_random_pixels_are_not_mistaken_for_a_payload(tmp_path: Path) -> None:
    # Incompressible pixel data is where random byte runs would match a careless search.
    noise = random.Random(7).randbytes(1200 * 900 * 3)
    for fmt, ext in (("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")):
        buffer = io.BytesIO()
        Image.frombytes("RGB", (1200, 900), noise).save(buffer, fmt)

        assert sniff(write(tmp_path, buffer.getvalue()), f"noise.{ext}").ext == ext


def test_a_pdf_with_compressed_streams_and_no_script_is_allowed(tmp_path: Path) -> None:
    noise = random.Random(3).randbytes(2_000_000)  # an "image" stream of random bytes
    content = stream(b"BT /F1 12 Tf 72 712 Td (Hello) Tj ET")
    data = pdf(content, stream(noise, b"/Type /XObject /Subtype /Image "))

    assert sniff(write(tmp_path, data), "invoice.pdf").mime == "application/pdf"


# --- refused -----------------------------------------------------------------------------


def test_zero_bytes_is_refused_as_empty(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as caught:
        sniff(write(tmp_path, b""), "empty.png")

    assert (caught.value.code, caught.value.status) == ("attachment_empty", 422)


PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"PE\x00\x00"
DOS = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120
EXE = "Windows program (EXE/DLL)"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
AVIF = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"
M4A = b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A isom"
SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)
HTML = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/staff/me')</script></body></html>"


@pytest.mark.parametrize(
    ("data", "filename", "reason", "detected"),
    [
        (SVG_WITH_SCRIPT, "logo.svg", "svg", None),
        (SVG_WITH_SCRIPT, "logo.png", "svg", None),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>', "a.svg", "svg", None),
        (HTML, "screenshot.png", "html", None),
        (b"\n  <html><body>hi</body></html>", "page.txt", "html", None),
        (b"\xef\xbb\xbf<!doctype html><p>x", "page", "html", None),
        (b"hello\n<script src=//evil.example/x.js></script>\n", "notes.txt", "html", "HTML"),
        (b'<?xml version="1.0"?><note>x</note>', "data.txt", "xml", None),
        (b"#!/bin/sh\nrm -rf ~\n", "run.txt", "script", "#!/bin/sh"),
        (b"log line\n<?php system($_GET['c']); ?>", "server.log", "script", "PHP"),
        (PE, "setup.exe", "executable", EXE),
        (DOS, "photo.png", "executable", EXE),
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120, "tool", "executable", "ELF"),
        (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 64, "app", "executable", "Mach-O"),
        (b"\x00asm\x01\x00\x00\x00", "x.wasm", "executable", "WebAssembly"),
        (gzip.compress(b"hello"), "logs.gz", "archive", "gzip"),
        (bz2.compress(b"hello"), "logs.bz2", "archive", "bzip2"),
        (lzma.compress(b"hello"), "logs.xz", "archive", "xz"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24, "a.7z", "archive", "7z"),
        (b"Rar!\x1a\x07\x01\x00" + b"\x00" * 24, "a.rar", "archive", "RAR"),
        (OLE, "old.doc", "archive", "OLE (Office 97-2003 / MSI)"),
        (b"BM" + b"\x00" * 60, "a.bmp", "unsupported", "BMP"),
        (b"II*\x00\x08\x00\x00\x00" + b"\x00" * 32, "scan.tiff", "unsupported", "TIFF"),
        (AVIF, "x.avif", "unsupported", "AVIF"),
        (M4A, "song.m4a", "unsupported", "MP4 audio (M4A)"),
        (b"\x00\x01\x02\x03\x04\x05binary\x00\xff\xfe", "blob", "unknown", None),
        (b"caf\xe9 au lait\n", "latin1.txt", "unknown", None),  # not UTF-8
        (b"text with a \x00 NUL\n", "a.txt", "unknown", None),
    ],
)  # fmt: skip
def test_hostile_and_unsupported_files_are_refused(
    tmp_path: Path, data: bytes, filename: str, reason: str, detected: str | None
) -> None:
    error = refused(tmp_path, data, filename)

    assert error.reason == reason
    assert error.extra["reason"] == reason
    if detected is not None:
        assert error.params["detected"] == detected


def test_a_zip_is_refused_as_an_archive(tmp_path: Path) -> None:
    error = refused(tmp_path, zip_bytes({"a.txt": b"hello"}), "photos.zip")

    assert (error.reason, error.params["detected"]) == ("archive", "ZIP")


def test_a_docx_is_refused_as_an_office_document(tmp_path: Path) -> None:
    docx = zip_bytes(
        {
            "[Content_Types].xml": b"<Types/>",
            "_rels/.rels": b"<Relationships/>",
            "word/document.xml": b"<w:document/>",
        }
    )

    error = refused(tmp_path, docx, "contract.docx")

    assert (error.reason, error.params["detected"]) == ("archive", "DOCX")


def test_a_tar_is_refused_as_an_archive(tmp_path: Path) -> None:
    error = refused(tmp_path, tar_bytes(), "backup.tar")

    assert (error.reason, error.params["detected"]) == ("archive", "tar")


def test_matroska_other_than_webm_is_unsupported(tmp_path: Path, videos: dict[str, bytes]) -> None:
    error = refused(tmp_path, videos["mkv"], "clip.mkv")

    assert (error.reason, error.params["detected"]) == ("unsupported", "Matroska (MKV)")


# --- polyglots ---------------------------------------------------------------------------


def test_a_gif_that_is_also_javascript_is_refused(tmp_path: Path) -> None:
    # GIF89a/*<screen descriptor and image>*/=alert(1)//: valid GIF and valid JavaScript.
    gif = bytearray(image_bytes("GIF", (16, 16)))
    gif[6:8] = b"/*"
    data = bytes(gif[:-1]) + b"*/=alert(document.domain);//;"

    error = refused(tmp_path, data, "funny.gif")

    assert error.reason == "polyglot"
    assert error.params["detected"] == "GIF"


def test_a_gif_with_a_script_in_its_comment_is_refused(tmp_path: Path) -> None:
    data = image_bytes("GIF", comment=b"<script>alert(1)</script>")

    assert refused(tmp_path, data, "a.gif").params["payload"] == "<script"


def test_a_png_with_an_appended_zip_is_refused(tmp_path: Path) -> None:
    data = image_bytes("PNG") + zip_bytes({"shell.php": b"<?= 1 ?>"})

    error = refused(tmp_path, data, "cat.png")

    assert (error.reason, error.params["payload"]) == ("polyglot", "ZIP")


def test_a_png_with_html_far_after_its_end_is_refused(tmp_path: Path) -> None:
    # Appended data is searched whole, not only the last 64 KiB.
    junk = random.Random(1).randbytes(100_000)
    data = image_bytes("PNG") + junk + HTML + junk

    error = refused(tmp_path, data, "cat.png")

    assert (error.reason, error.params["payload"]) == ("polyglot", "<script")


def test_a_png_with_a_script_in_a_text_chunk_beyond_the_head_is_refused(tmp_path: Path) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Padding", "x" * 100_000)
    info.add_text("Comment", "<svg onload=alert(1)>")  # in the middle: neither head nor tail
    info.add_text("More", "y" * 100_000)
    data = image_bytes("PNG", pnginfo=info)

    assert refused(tmp_path, data, "a.png").params["payload"] == "<svg"


def test_a_jpeg_with_a_script_in_its_comment_is_refused(tmp_path: Path) -> None:
    data = image_bytes("JPEG", comment=b"<script>alert(1)</script>")

    error = refused(tmp_path, data, "photo.jpg")

    assert (error.reason, error.params["payload"]) == ("polyglot", "<script")


def test_a_jpeg_with_php_in_a_segment_beyond_the_head_is_refused(tmp_path: Path) -> None:
    def segment(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload

    jpeg = image_bytes("JPEG")
    padding = segment(0xEF, b"\x00" * 60_000) * 2  # APP15, 120 KB: past the 64 KiB head
    payload = segment(0xE1, b"XMP <?php echo 1; ?>")  # in the middle: neither head nor tail
    data = jpeg[:2] + padding + payload + padding + jpeg[2:]

    assert refused(tmp_path, data, "photo.jpg").params["payload"] == "<?php"


def test_an_mp4_with_an_appended_zip_is_refused(tmp_path: Path, videos: dict[str, bytes]) -> None:
    data = videos["mp4"] + zip_bytes({"a.txt": b"x"})

    assert refused(tmp_path, data, "clip.mp4").params["payload"] == "ZIP"


def test_a_pdf_with_an_html_payload_is_refused(tmp_path: Path) -> None:
    data = pdf() + HTML

    assert refused(tmp_path, data, "a.pdf").reason == "polyglot"


# --- extension against bytes ---------------------------------------------------------------


def test_a_jpeg_named_png_is_refused_naming_both(tmp_path: Path) -> None:
    error = refused(tmp_path, image_bytes("JPEG"), "screenshot.png")

    assert error.reason == "extension_mismatch"
    assert (error.params["detected"], error.params["extension"]) == ("JPEG", ".png")
    assert "JPEG" in error.message("en")
    assert ".png" in error.message("en")
    assert ".png" in error.message("ja")


@pytest.mark.parametrize(
    ("filename", "extension"),
    [
        ("photo\u202egnp.exe", ".exe"),  # shows as "photoexe.png"
        ("photo.png.exe", ".exe"),
        ("photo.exe. . ", ".exe"),  # Windows drops trailing dots and spaces
        ("photo.png.hta", ".hta"),
        ("photo.html", ".html"),
    ],
)
def test_a_disguised_extension_is_refused(tmp_path: Path, filename: str, extension: str) -> None:
    error = refused(tmp_path, image_bytes("PNG"), filename)

    assert (error.reason, error.params["extension"]) == ("extension_mismatch", extension)


@pytest.mark.parametrize("filename", ["notes.html", "data.csv", "script.js", "run.bat"])
def test_text_with_a_non_text_extension_is_refused(tmp_path: Path, filename: str) -> None:
    assert refused(tmp_path, b"just words\n", filename).reason == "extension_mismatch"


def test_name_extension_ignores_paths_and_invisible_characters() -> None:
    assert name_extension("../../a.PNG") == "png"
    assert name_extension("dir\\b.tar.GZ") == "gz"
    assert name_extension("x\u202egnp.exe") == "exe"
    assert name_extension(".bashrc") == ""
    assert name_extension("README") == ""


# --- PDF active content --------------------------------------------------------------------

# A dictionary between a fake "stream" and "endstream" in comments: a viewer reads it.
HIDDEN_IN_FAKE_STREAM = b"<< >> % stream\n<< /S /JavaScript /JS (app.alert(1)) >> % endstream"
OBJECT_STREAM_HEX = (
    b"<< /Type /ObjStm /N 1 /First 4 /Filter /ASCIIHexDecode >>\nstream\n"
    + b"6 0 << /S /JS >>".hex().encode()
    + b"\nendstream"
)
OBJECT_STREAM_WITH_JS = stream(
    b"6 0 << /S /JavaScript /JS (app.alert(1)) >>", b"/Type /ObjStm /N 1 /First 4 "
)


@pytest.mark.parametrize(
    ("objects", "detected"),
    [
        ((b"<< /S /JavaScript /JS (app.alert(1)) >>",), "/JavaScript"),
        ((b"<< /OpenAction << /S /JS /JS 5 0 R >> >>",), "/JS"),
        ((b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>",), "/JavaScript"),  # escaped names
        ((b"<< /S /Launch /F (cmd.exe) >>",), "/Launch"),
        ((b"<< /Type /EmbeddedFile /Length 3 >>\nstream\nabc\nendstream",), "/EmbeddedFile"),
        ((b"<< /Type /Filespec >> ", b"<< /Encrypt 9 0 R >>"), "/Encrypt"),
        # hidden inside a compressed object stream
        ((OBJECT_STREAM_WITH_JS,), "/JavaScript"),
        ((HIDDEN_IN_FAKE_STREAM,), "/JavaScript"),
        ((OBJECT_STREAM_HEX,), "/ObjStm (cannot be inspected)"),
    ],
)  # fmt: skip
def test_a_pdf_with_active_content_is_refused(
    tmp_path: Path, objects: tuple[bytes, ...], detected: str
) -> None:
    error = refused(tmp_path, pdf(*objects), "invoice.pdf")

    assert (error.reason, error.params["detected"]) == ("pdf_active_content", detected)


# --- the message names the reason in both languages -----------------------------------------


def test_the_refusal_names_its_reason_in_japanese_and_english(tmp_path: Path) -> None:
    error = refused(tmp_path, SVG_WITH_SCRIPT, "logo.svg")

    english, japanese = error.message("en"), error.message("ja")
    assert english.startswith("SVG images are not allowed")
    assert "Allowed:" in english  # then what is allowed
    assert japanese.startswith("SVG 画像")
    assert error.body("en")["error"]["code"] == "attachment_type_not_allowed"
    assert error.body("en")["error"]["reason"] == "svg"


def test_an_unknown_reason_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        AttachmentRefused("no_such_reason")


# --- early detection while an upload streams in ---------------------------------------------


def test_detect_tells_the_kind_from_the_first_bytes() -> None:
    assert detect(image_bytes("PNG")[:512]) == Sniffed("image", "image/png", "png")
    assert detect(b"plain words, maybe text") is None
    with pytest.raises(AttachmentRefused):
        detect(zip_bytes({"a.txt": b"x"})[:512])
