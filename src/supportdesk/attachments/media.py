"""Images re-encoded clean, videos probed and given a poster, filenames made harmless.

Pure functions over files on local disk; they block (Pillow, subprocesses), so the
upload code runs them in a worker thread. Call ``sniff`` first: these functions assume
the file is of an allowed kind and check it again only as far as decoding requires.

Images (``process_image``):
- Decoding is bounded: the dimensions in the header are read with the format's plugin
  alone and checked against ``MAX_IMAGE_PIXELS`` (50 megapixels) before any pixel is
  decoded: a bomb is refused as ``attachment_image_too_large`` (413) naming its size and
  the limit. ``Image.MAX_IMAGE_PIXELS`` is set to the same limit for the whole process as
  the backstop: Pillow's ``DecompressionBombError`` (and its ``DecompressionBombWarning``,
  where warnings are errors) become the same refusal. The process-wide warning filters
  are not touched (``warnings.catch_warnings`` is not thread-safe, and this runs in
  worker threads). Pillow may only use the plugin of the sniffed format (``formats=``),
  never e.g. EPS through Ghostscript.
- ``Image.verify()`` on a first open, then a fresh open to decode; a file that fails
  either is refused as ``attachment_type_not_allowed`` (reason ``corrupt_image``).
- The stored copy is re-encoded from pixels only: no EXIF (so no GPS), no XMP, no
  comments, no text chunks. Orientation is applied first (``ImageOps.exif_transpose``), so
  the picture still looks right without its EXIF. An embedded ICC profile is not kept:
  the pixels are converted to sRGB with it (LittleCMS), so wide-gamut screenshots keep
  their colours and no profile blob (which may carry text) survives; if the conversion
  fails, the profile is dropped.
- Formats: PNG stays PNG, JPEG stays JPEG (quality 90), WebP stays WebP, GIF becomes PNG,
  HEIC becomes JPEG (browsers other than Safari cannot show HEIC). Animated GIF/WebP/PNG
  keep their first frame only: re-encoding every frame multiplies memory and CPU by the
  frame count (an easy amplification), and a screen recording belongs in a video.
- Thumbnail: at most ``THUMBNAIL_SIZE`` (320) px on its longer side, WebP.

Videos: ``probe_video`` runs ``ffprobe`` and ``video_poster`` runs ``ffmpeg``, each with
an argument list (no shell), a timeout, the demuxer forced from the sniffed container and
only the ``file`` protocol allowed (so a crafted file cannot make ffmpeg read playlists,
other local files or URLs). Both return None when the tool is not installed.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageCms, ImageOps

from supportdesk.attachments.sniff import (
    GIF,
    HEIC,
    JPEG,
    MOV,
    MP4,
    PNG,
    WEBM,
    WEBP,
    WINDOW,
    AttachmentRefused,
    _detect,
)
from supportdesk.core.errors import DomainError
from supportdesk.safety.redaction import redact

try:  # HEIC/HEIF decoding is optional: without it, sniff refuses HEIC files.
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - depends on the installation
    pass
else:
    register_heif_opener()

MAX_IMAGE_PIXELS = 50_000_000
THUMBNAIL_SIZE = 320
POSTER_SIZE = 640
FFPROBE_TIMEOUT_SECONDS = 20.0
FFMPEG_TIMEOUT_SECONDS = 60.0
MAX_FILENAME_CHARS = 150
MAX_FILENAME_BYTES = 255

Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

# Pillow format name for each allowed image type, and what the clean copy is saved as.
_PILLOW_FORMAT = {PNG: "PNG", JPEG: "JPEG", GIF: "GIF", WEBP: "WEBP", HEIC: "HEIF"}
_OUTPUT = {  # pillow format -> (save format, mime, extension)
    "PNG": ("PNG", "image/png", "png"),
    "JPEG": ("JPEG", "image/jpeg", "jpg"),
    "GIF": ("PNG", "image/png", "png"),
    "WEBP": ("WEBP", "image/webp", "webp"),
    "HEIF": ("JPEG", "image/jpeg", "jpg"),
}
# ffmpeg demuxer for each allowed video container.
_DEMUXER = {MP4: "mov", MOV: "mov", WEBM: "matroska"}


@dataclass(frozen=True)
class ProcessedImage:
    path: Path  # the clean, re-encoded image (store this, not the upload)
    thumb_path: Path  # WebP thumbnail, at most THUMBNAIL_SIZE px on its longer side
    width: int  # of the clean image, after orientation
    height: int
    mime: str  # of the clean image: it may differ from the upload's (GIF -> PNG, HEIC -> JPEG)
    ext: str = "png"  # extension matching ``mime``, without the dot


@dataclass(frozen=True)
class VideoInfo:
    duration: float | None  # seconds; None when the container does not say
    width: int  # as displayed (a rotated phone video reports its upright size)
    height: int
    codec: str  # ffprobe's codec_name: "h264", "hevc", "vp9", "av1" ...


# --- images -----------------------------------------------------------------------------


def process_image(path: Path, out_dir: Path) -> ProcessedImage:
    """A clean re-encoded copy of the image at ``path`` and its thumbnail, in ``out_dir``."""
    pillow_format = _image_format(path)
    width, height = _header_size(path, pillow_format)
    _check_pixels(width, height)  # before Pillow decodes a single pixel
    try:
        with Image.open(path, formats=[pillow_format]) as probe:
            probe.verify()
        with Image.open(path, formats=[pillow_format]) as image:
            _check_pixels(*image.size)  # a GIF's first frame may be larger than its screen
            image.load()  # the first frame: animations keep only this one
            clean = _clean_pixels(image)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        # Pillow's own check, the backstop behind ours (same limit, process-wide).
        raise _too_large_error(width, height) from None
    except DomainError:
        raise
    except Exception as error:  # Pillow raises many kinds for broken files
        raise AttachmentRefused(
            "corrupt_image", detected=_short(f"{pillow_format}: {error}")
        ) from None

    save_format, mime, ext = _OUTPUT[pillow_format]
    out_dir.mkdir(parents=True, exist_ok=True)
    clean_path = _new_file(out_dir, "image-", f".{ext}")
    thumb_path = _new_file(out_dir, "thumb-", ".webp")
    try:
        _save(clean, clean_path, save_format)
        _save(_thumbnail(clean), thumb_path, "WEBP", quality=80)
    except BaseException:
        clean_path.unlink(missing_ok=True)
        thumb_path.unlink(missing_ok=True)
        raise
    return ProcessedImage(clean_path, thumb_path, clean.width, clean.height, mime, ext)


def _image_format(path: Path) -> str:
    with path.open("rb") as file:
        head = file.read(WINDOW)
    found = _detect(head)
    if found is None or found not in _PILLOW_FORMAT:
        raise AttachmentRefused("corrupt_image", detected="not an image")
    return _PILLOW_FORMAT[found]


def _header_size(path: Path, pillow_format: str) -> tuple[int, int]:
    """The dimensions the header declares, read with the format's plugin alone.

    Done without ``Image.open`` so that a bomb is measured, not refused anonymously, and
    without touching the process-wide warning filters (``warnings.catch_warnings`` is not
    thread-safe, and this runs in worker threads).
    """
    if pillow_format not in Image.OPEN:
        Image.init()  # a fresh process has not registered the format plugins yet
    try:
        factory, _ = Image.OPEN[pillow_format]  # KeyError: HEIF without pillow-heif
        with path.open("rb") as file, factory(file, str(path)) as header:
            return header.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        # A GIF frame larger than its screen, measured by Pillow itself while opening.
        raise _too_large_error(0, 0) from None
    except Exception as error:
        raise AttachmentRefused(
            "corrupt_image", detected=_short(f"{pillow_format}: {error}")
        ) from None


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise _too_large_error(width, height)


def _too_large_error(width: int, height: int) -> DomainError:
    """``attachment_image_too_large`` naming the size ("?" when Pillow refused it unmeasured)."""
    known = width > 0 and height > 0
    return DomainError(
        "attachment_image_too_large",
        413,
        params={
            "width": width if known else "?",
            "height": height if known else "?",
            "megapixels": round(width * height / 1_000_000, 1) if known else "?",
            "limit": MAX_IMAGE_PIXELS // 1_000_000,
        },
    )


def _clean_pixels(image: Image.Image) -> Image.Image:
    """Upright pixels in sRGB with no metadata attached."""
    icc = image.info.get("icc_profile")
    # A new image either way (transposed, or a copy): the upload's image is left alone.
    clean = ImageOps.exif_transpose(image)
    if icc and clean.mode in ("RGB", "RGBA", "CMYK"):
        clean = _to_srgb(clean, icc)
    if clean.mode == "1":
        clean = clean.convert("L")  # one byte a pixel, not three
    elif clean.mode.startswith("I;16"):
        clean = clean.convert("I").point(lambda value: value / 257).convert("L")  # 16 -> 8 bit
    elif clean.mode not in ("RGB", "RGBA", "L", "LA"):
        has_alpha = "A" in clean.mode or "transparency" in clean.info
        clean = clean.convert("RGBA" if has_alpha else "RGB")
    clean.info = {}  # savers read EXIF, XMP, ICC, comments and text from here: none left
    return clean


def _thumbnail(image: Image.Image) -> Image.Image:
    """At most THUMBNAIL_SIZE px on the longer side, never enlarged, aspect kept."""
    scale = min(1.0, THUMBNAIL_SIZE / image.width, THUMBNAIL_SIZE / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    """The pixels converted from their embedded profile to sRGB (the profile is not kept)."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            image,
            source,
            ImageCms.createProfile("sRGB"),
            outputMode="RGBA" if image.mode == "RGBA" else "RGB",
        )
    except Exception:
        return image  # an unusable profile: drop it, keep the pixels as they are
    return converted or image


def _save(image: Image.Image, path: Path, save_format: str, quality: int = 90) -> None:
    if save_format == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(path, "JPEG", quality=quality, optimize=True)
    elif save_format == "WEBP":
        image.save(path, "WEBP", quality=quality, method=4)
    else:
        image.save(path, "PNG", optimize=False)


# --- videos -----------------------------------------------------------------------------


def probe_video(path: Path) -> VideoInfo | None:
    """Duration, displayed size and codec of the video at ``path``.

    None when ``ffprobe`` is not installed (the video is then accepted without a poster);
    ``attachment_type_not_allowed`` (reason ``unreadable_video``) when ffprobe cannot read
    it, times out, or finds no video stream.
    """
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return None
    args = [
        ffprobe, "-v", "error", "-protocol_whitelist", "file", "-f", _demuxer(path),
        "-print_format", "json", "-show_streams", "-show_format", _input(path),
    ]  # fmt: skip
    try:
        result = subprocess.run(
            args, capture_output=True, timeout=FFPROBE_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise AttachmentRefused("unreadable_video", detected="ffprobe timed out") from None
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AttachmentRefused("unreadable_video", detected=_short(reason[-1] if reason else ""))
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise AttachmentRefused("unreadable_video", detected="ffprobe output") from None
    return _video_info(report)


def _video_info(report: dict[str, Any]) -> VideoInfo:
    streams = [
        stream
        for stream in report.get("streams", [])
        if stream.get("codec_type") == "video"
        and not stream.get("disposition", {}).get("attached_pic")
    ]
    if not streams:
        raise AttachmentRefused("unreadable_video", detected="no video stream")
    stream = streams[0]
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width <= 0 or height <= 0:
        raise AttachmentRefused("unreadable_video", detected="no picture size")
    if abs(_rotation(stream)) % 180 == 90:
        width, height = height, width
    duration = _number(report.get("format", {}).get("duration")) or _number(stream.get("duration"))
    if duration is not None and duration < 0:
        duration = None
    return VideoInfo(duration, width, height, str(stream.get("codec_name") or "unknown"))


def _rotation(stream: dict[str, Any]) -> float:
    for side_data in stream.get("side_data_list") or []:
        if "rotation" in side_data:
            return _number(side_data["rotation"]) or 0.0
    return _number(stream.get("tags", {}).get("rotate")) or 0.0


def _number(value: Any) -> float | None:
    """A finite number from ffprobe's JSON (which writes numbers as strings), else None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def video_poster(path: Path, out_dir: Path, duration: float | None = None) -> Path | None:
    """A JPEG frame of the video (at min(1 s, half its length)), or None if none can be made.

    ``duration`` saves a second ffprobe run when the caller already probed the video.
    None when ffmpeg is not installed or produces no frame: a poster is a nicety.
    """
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    if duration is None:
        info = probe_video(path)
        duration = info.duration if info else None
    offsets = [min(1.0, duration / 2) if duration else 0.0]
    if offsets[0] > 0:
        offsets.append(0.0)  # some files cannot seek: fall back to the first frame
    out_dir.mkdir(parents=True, exist_ok=True)
    poster = _new_file(out_dir, "poster-", ".jpg")
    scale = (
        f"scale='min({POSTER_SIZE},iw)':'min({POSTER_SIZE},ih)'"
        ":force_original_aspect_ratio=decrease"
    )
    for offset in offsets:
        args = [
            ffmpeg, "-nostdin", "-v", "error", "-y", "-protocol_whitelist", "file",
            "-ss", f"{offset:.3f}", "-f", _demuxer(path), "-i", _input(path),
            "-frames:v", "1", "-an", "-sn", "-dn", "-map_metadata", "-1", "-vf", scale,
            "-f", "image2", "-c:v", "mjpeg", "-q:v", "3", str(poster),
        ]  # fmt: skip
        try:
            subprocess.run(args, capture_output=True, timeout=FFMPEG_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            break
        if poster.stat().st_size > 0:
            return poster
    poster.unlink(missing_ok=True)
    return None


def _demuxer(path: Path) -> str:
    with path.open("rb") as file:
        found = _detect(file.read(WINDOW))
    if found not in _DEMUXER:
        raise AttachmentRefused("unreadable_video", detected="not a video")
    return _DEMUXER[found]


def _input(path: Path) -> str:
    # "file:" so that a name like "concat:..." or "http:..." is never read as a protocol.
    return f"file:{path.resolve()}"


# --- shared -----------------------------------------------------------------------------


def _new_file(out_dir: Path, prefix: str, suffix: str) -> Path:
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=out_dir)
    os.close(handle)
    return Path(name)


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- filenames --------------------------------------------------------------------------

_WINDOWS_RESERVED = re.compile(
    r"^(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$", re.IGNORECASE
)
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')


def safe_filename(name: str) -> str:
    """A filename fit to show and to offer in Content-Disposition; never a storage path.

    The last path part only (``../../etc/passwd`` -> ``passwd``), NFC, without control or
    invisible formatting characters (U+202E and friends could disguise ``.exe``), without
    the characters Windows forbids, not a Windows device name, no leading or trailing dots
    and spaces, credentials redacted (``safety.redaction``) and at most
    ``MAX_FILENAME_CHARS`` characters / ``MAX_FILENAME_BYTES`` UTF-8 bytes, the extension
    kept. Redaction runs before the cut, so a secret is never cut to a part the scanner no
    longer recognises; it runs on the name without its extension, so ``.txt`` is not taken
    as part of a password.
    """
    base = re.split(r"[/\\]", name)[-1]
    base = unicodedata.normalize("NFC", base)
    # Other spaces (U+3000 ...) become plain spaces; control, invisible formatting (U+202E),
    # line/paragraph separators, private-use and unassigned characters go.
    base = "".join(
        " " if unicodedata.category(ch) == "Zs" else ch
        for ch in base
        if unicodedata.category(ch)[0] != "C" and unicodedata.category(ch) not in {"Zl", "Zp"}
    )
    base = _WINDOWS_FORBIDDEN.sub("_", base)
    base = " ".join(base.split()).strip(" .")
    stem, dot, ext = base.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,10}", ext):
        stem, ext = base, ""
    stem = redact(stem).text.strip(" .")
    if _WINDOWS_RESERVED.match(stem.split(".")[0].strip()):
        stem = "_" + stem
    stem = stem or "file"
    suffix = f".{ext}" if ext else ""
    room_chars = MAX_FILENAME_CHARS - len(suffix)
    stem = stem[:room_chars]
    while len((stem + suffix).encode("utf-8")) > MAX_FILENAME_BYTES:
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix
