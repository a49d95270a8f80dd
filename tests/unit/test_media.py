"""Image re-encoding (bombs, metadata, orientation, thumbnails), video probing and posters
with the real ffprobe/ffmpeg, and filename sanitising. Every sample is made here."""

from __future__ import annotations

import io
import resource
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageFile, PngImagePlugin
from PIL.ExifTags import GPS, IFD, Base

from supportdesk.attachments import media
from supportdesk.attachments.media import (
    MAX_IMAGE_PIXELS,
    THUMBNAIL_SIZE,
    VideoInfo,
    probe_video,
    process_image,
    safe_filename,
    video_poster,
)
from supportdesk.attachments.sniff import AttachmentRefused
from supportdesk.core.errors import DomainError

pytestmark = pytest.mark.unit

RED, BLUE = (220, 20, 20), (20, 20, 220)


def save(path: Path, image: Image.Image, fmt: str, **params: object) -> Path:
    image.save(path, fmt, **params)
    return path


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(path: Path, width: int, height: int) -> Path:
    """A valid 1-bit PNG of width x height pixels, all white: a few hundred KB on disk,
    ``width * height`` bytes once Pillow decodes it. Written row by row, never whole."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)  # filter byte + packed pixels
    packer = zlib.compressobj(9)
    idat = bytearray()
    for _ in range(height):
        idat += packer.compress(row)
    idat += packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", bytes(idat))
        + png_chunk(b"IEND", b"")
    )
    return path


def halves(size: tuple[int, int] = (40, 20)) -> Image.Image:
    """Left half red, right half blue."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return image


def close(pixel: object, colour: tuple[int, int, int]) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) < 40 for a, b in zip(pixel[:3], colour, strict=True))


# --- decompression bombs -----------------------------------------------------------------


def test_pillow_limit_is_set_process_wide() -> None:
    assert Image.MAX_IMAGE_PIXELS == MAX_IMAGE_PIXELS == 50_000_000


@pytest.mark.parametrize(
    ("width", "height"),
    [(30_000, 30_000), (8_000, 8_000)],  # far past the limit; and past it but below Pillow's 2x
)
def test_a_png_bomb_is_refused_before_any_pixel_is_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: int, height: int
) -> None:
    bomb = bomb_png(tmp_path / "bomb.png", width, height)
    assert bomb.stat().st_size < 2_000_000
    decoded: list[object] = []
    real_load = ImageFile.ImageFile.load

    def recording_load(self: ImageFile.ImageFile) -> object:
        decoded.append(self)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with pytest.raises(DomainError) as caught:
        process_image(bomb, tmp_path / "out")

    error = caught.value
    assert (error.code, error.status) == ("attachment_image_too_large", 413)
    assert error.params["width"] == width
    assert error.params["limit"] == 50
    assert f"{width}×{height}" in error.message("en")
    assert "50" in error.message("ja")
    assert decoded == []  # never decoded
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kib < 100_000  # decoding would take width * height bytes (64 MB .. 900 MB)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_image_just_under_the_limit_is_processed(tmp_path: Path) -> None:
    source = bomb_png(tmp_path / "big.png", 10_000, 4_000)  # 40 megapixels, 1-bit

    result = process_image(source, tmp_path / "out")

    assert (result.width, result.height) == (10_000, 4_000)


# --- metadata ------------------------------------------------------------------------------


def test_gps_and_all_exif_are_removed_from_the_stored_image(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[Base.Make] = "PhoneMaker"
    exif[Base.ImageDescription] = "SECRET-DESCRIPTION"
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef] = "N"
    gps[GPS.GPSLatitude] = (35.0, 41.0, 22.0)
    gps[GPS.GPSLongitudeRef] = "E"
    gps[GPS.GPSLongitude] = (139.0, 41.0, 30.0)
    gps[GPS.GPSProcessingMethod] = b"ASCII\x00\x00\x00SECRET-PLACE"
    source = save(tmp_path / "photo.jpg", halves((64, 48)), "JPEG", exif=exif)
    with Image.open(source) as original:  # the sample really carries GPS
        assert original.getexif().get_ifd(IFD.GPSInfo)[GPS.GPSLatitudeRef] == "N"

    result = process_image(source, tmp_path / "out")

    stored = result.path.read_bytes()
    with Image.open(result.path) as clean:
        assert clean.format == "JPEG"
        assert clean.getexif().get_ifd(IFD.GPSInfo) == {}
        assert dict(clean.getexif()) == {}
        assert "exif" not in clean.info
    for marker in (b"Exif", b"SECRET-PLACE", b"SECRET-DESCRIPTION", b"PhoneMaker"):
        assert marker not in stored
        assert marker not in result.thumb_path.read_bytes()


def test_text_chunks_comments_and_icc_profiles_are_not_kept(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "SECRET-COMMENT")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>SECRET-XMP</x:xmpmeta>")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = save(tmp_path / "shot.png", halves(), "PNG", pnginfo=info, icc_profile=srgb)

    result = process_image(source, tmp_path / "out")

    stored = result.path.read_bytes()
    assert b"SECRET-COMMENT" not in stored
    assert b"SECRET-XMP" not in stored
    with Image.open(result.path) as clean:
        assert clean.format == "PNG"
        assert "icc_profile" not in clean.info
        assert close(clean.convert("RGB").getpixel((5, 5)), RED)  # colours survive


def test_orientation_is_applied_before_exif_is_dropped(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[Base.Orientation] = 6  # shown rotated 90 degrees clockwise
    source = save(tmp_path / "phone.jpg", halves((40, 20)), "JPEG", exif=exif, quality=95)

    result = process_image(source, tmp_path / "out")

    assert (result.width, result.height) == (20, 40)
    with Image.open(result.path) as clean:
        assert clean.size == (20, 40)
        assert clean.getexif().get(Base.Orientation) is None
        assert close(clean.getpixel((10, 5)), RED)  # the left half is now on top
        assert close(clean.getpixel((10, 35)), BLUE)


# --- formats and thumbnails -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "thumb"),
    [((1000, 500), (320, 160)), ((300, 900), (107, 320)), ((100, 50), (100, 50))],
)
def test_thumbnails_fit_in_320_pixels(
    tmp_path: Path, size: tuple[int, int], thumb: tuple[int, int]
) -> None:
    source = save(tmp_path / "a.png", halves(size), "PNG")

    result = process_image(source, tmp_path / "out")

    assert (result.width, result.height) == size
    with Image.open(result.thumb_path) as thumbnail:
        assert thumbnail.format == "WEBP"
        assert thumbnail.size == thumb
        assert max(thumbnail.size) <= THUMBNAIL_SIZE


@pytest.mark.parametrize(
    ("fmt", "name", "mime", "ext", "stored_format"),
    [
        ("PNG", "a.png", "image/png", "png", "PNG"),
        ("JPEG", "a.jpg", "image/jpeg", "jpg", "JPEG"),
        ("WEBP", "a.webp", "image/webp", "webp", "WEBP"),
        ("GIF", "a.gif", "image/png", "png", "PNG"),
        ("HEIF", "a.heic", "image/jpeg", "jpg", "JPEG"),
    ],
)
def test_each_format_is_stored_as_a_format_browsers_show(
    tmp_path: Path, fmt: str, name: str, mime: str, ext: str, stored_format: str
) -> None:
    source = save(tmp_path / name, halves((64, 32)), fmt)

    result = process_image(source, tmp_path / "out")

    assert (result.mime, result.ext) == (mime, ext)
    assert result.path.suffix == f".{ext}"
    assert result.path.parent == tmp_path / "out"
    with Image.open(result.path) as clean:
        assert clean.format == stored_format
        assert close(clean.convert("RGB").getpixel((5, 5)), RED)


def sixteen_bit_grey() -> Image.Image:
    image = Image.new("I;16", (40, 20), 0)
    image.putpixel((1, 1), 60_000)
    return image


@pytest.mark.parametrize(
    ("make", "fmt", "mode", "pixel"),
    [
        (sixteen_bit_grey, "PNG", "L", 233),  # scaled to 8 bits, not clipped to white
        (lambda: Image.new("CMYK", (40, 20), (0, 255, 255, 0)), "JPEG", "RGB", (254, 0, 0)),
        (lambda: Image.new("LA", (40, 20), (128, 100)), "PNG", "LA", (128, 100)),
        (lambda: Image.new("1", (40, 20), 1), "GIF", "L", 255),
    ],
    ids=["16-bit grey", "CMYK", "grey with alpha", "bilevel"],
)
def test_unusual_pixel_formats_are_stored_viewable(
    tmp_path: Path, make: Callable[[], Image.Image], fmt: str, mode: str, pixel: object
) -> None:
    source = save(tmp_path / f"a.{fmt.lower()}", make(), fmt)

    result = process_image(source, tmp_path / "out")

    with Image.open(result.path) as clean:
        assert clean.mode == mode
        got = clean.getpixel((1, 1))
    expected = pixel if isinstance(pixel, tuple) else (pixel,)
    actual = got if isinstance(got, tuple) else (got,)
    assert all(abs(a - b) <= 3 for a, b in zip(actual, expected, strict=True)), (got, pixel)


def test_an_animated_gif_keeps_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (32, 32), colour) for colour in (RED, BLUE, RED)]
    source = tmp_path / "anim.gif"
    frames[0].save(source, "GIF", save_all=True, append_images=frames[1:], duration=100)

    result = process_image(source, tmp_path / "out")

    with Image.open(result.path) as clean:
        assert getattr(clean, "n_frames", 1) == 1
        assert close(clean.convert("RGB").getpixel((1, 1)), RED)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:40] + bytes(len(data) - 40),  # pixels zeroed out
        lambda data: b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,  # a header and nothing else
    ],
)
def test_a_broken_image_is_refused(tmp_path: Path, damage: object) -> None:
    buffer = io.BytesIO()
    halves((64, 64)).save(buffer, "PNG")
    source = tmp_path / "broken.png"
    source.write_bytes(damage(buffer.getvalue()))  # type: ignore[operator]

    with pytest.raises(AttachmentRefused) as caught:
        process_image(source, tmp_path / "out")

    assert caught.value.reason == "corrupt_image"
    assert caught.value.status == 415


# --- videos --------------------------------------------------------------------------------


def make_video(path: Path, *extra: str, seconds: int = 2, size: str = "320x240") -> Path:
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi"),
            *("-i", f"testsrc=duration={seconds}:size={size}:rate=10", *extra, str(path)),
        ],
        check=True,
        timeout=60,
    )
    return path


@pytest.fixture(scope="module")
def mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    return make_video(path, "-c:v", "libx264", "-pix_fmt", "yuv420p")


def test_an_mp4_is_probed_for_duration_size_and_codec(mp4: Path) -> None:
    info = probe_video(mp4)

    assert info is not None
    assert info.duration == pytest.approx(2.0, abs=0.2)
    assert (info.width, info.height, info.codec) == (320, 240, "h264")


def test_a_webm_is_probed(tmp_path: Path) -> None:
    webm = make_video(tmp_path / "clip.webm", "-c:v", "libvpx-vp9", seconds=1, size="160x90")

    info = probe_video(webm)

    assert info is not None
    assert (info.width, info.height, info.codec) == (160, 90, "vp9")


def test_a_rotated_phone_video_reports_its_upright_size(mp4: Path, tmp_path: Path) -> None:
    video = tmp_path / "portrait.mp4"
    subprocess.run(  # what a phone writes: landscape pixels and a display rotation
        [
            *("ffmpeg", "-nostdin", "-v", "error", "-i", str(mp4), "-c", "copy"),
            *("-metadata:s:v:0", "rotate=90", str(video)),
        ],
        check=True,
        timeout=60,
    )

    info = probe_video(video)

    assert info is not None
    assert (info.width, info.height) == (240, 320)


def test_a_poster_frame_is_extracted(mp4: Path, tmp_path: Path) -> None:
    info = probe_video(mp4)
    assert info is not None

    poster = video_poster(mp4, tmp_path / "out", info.duration)

    assert poster is not None
    assert poster.parent == tmp_path / "out"
    with Image.open(poster) as frame:
        assert frame.format == "JPEG"
        assert frame.size == (320, 240)
        assert frame.getexif() == {}


def test_a_poster_is_made_without_a_known_duration(mp4: Path, tmp_path: Path) -> None:
    poster = video_poster(mp4, tmp_path / "out")

    assert poster is not None
    assert poster.stat().st_size > 0


def test_a_large_video_gets_a_smaller_poster(tmp_path: Path) -> None:
    video = make_video(tmp_path / "wide.mp4", "-c:v", "libx264", seconds=1, size="1280x720")

    poster = video_poster(video, tmp_path / "out", 1.0)

    assert poster is not None
    with Image.open(poster) as frame:
        assert frame.size == (640, 360)


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 40,
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\xff" * 4000,
    ],
    ids=["mp4 header and garbage", "webm header and garbage"],
)
def test_a_corrupt_video_is_refused(tmp_path: Path, content: bytes) -> None:
    video = tmp_path / "broken"
    video.write_bytes(content)

    with pytest.raises(AttachmentRefused) as caught:
        probe_video(video)

    assert (caught.value.reason, caught.value.status) == ("unreadable_video", 415)


def test_a_truncated_video_is_refused(mp4: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(mp4.read_bytes()[:2000])

    with pytest.raises(AttachmentRefused):
        probe_video(truncated)


def test_a_video_without_a_picture_is_refused(tmp_path: Path) -> None:
    audio = tmp_path / "voice.mp4"
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi"),
            *("-i", "sine=frequency=440:duration=1", "-c:a", "aac", str(audio)),
        ],
        check=True,
        timeout=60,
    )

    with pytest.raises(AttachmentRefused) as caught:
        probe_video(audio)

    assert caught.value.params["detected"] == "no video stream"


def test_a_probe_that_runs_too_long_is_refused(mp4: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media, "FFPROBE_TIMEOUT_SECONDS", 0.000001)

    with pytest.raises(AttachmentRefused) as caught:
        probe_video(mp4)

    assert caught.value.params["detected"] == "ffprobe timed out"


def test_a_file_name_that_looks_like_a_protocol_is_read_as_a_file(
    mp4: Path, tmp_path: Path
) -> None:
    odd = tmp_path / "concat:http:evil.mp4"
    odd.write_bytes(mp4.read_bytes())

    info = probe_video(odd)

    assert isinstance(info, VideoInfo)


def test_without_ffmpeg_videos_have_no_probe_and_no_poster(
    mp4: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)

    assert probe_video(mp4) is None
    assert video_poster(mp4, tmp_path / "out") is None


# --- filenames -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/", "file"),
        ("..", "file"),
        ("", "file"),
        ("screen shot.png", "screen shot.png"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # RTL override removed
        ("a\u200bb\ufeffc.txt", "abc.txt"),  # zero-width characters
        ("bad\x00name\x07\n\r\t.txt", "badname.txt"),
        ("line\u2028break.txt", "linebreak.txt"),
        ("wide\u3000space.txt", "wide space.txt"),
        ("  .hidden.  ", "hidden"),
        ("trailing dots...", "trailing dots"),
        ('what?<>:"|*.txt', "what_______.txt"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("LPT1.log", "_LPT1.log"),
        ("com\u00b9.txt", "_com\u00b9.txt"),
        ("console.txt", "console.txt"),
        ("Cafe\u0301.txt", "Café.txt"),  # NFC
        ("スクリーンショット 2024-05-01.png", "スクリーンショット 2024-05-01.png"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_safe_filename_caps_long_names_and_keeps_the_extension() -> None:
    long_ascii = safe_filename("a" * 1000 + ".png")
    long_japanese = safe_filename("あ" * 300 + ".pdf")

    assert long_ascii.endswith(".png")
    assert len(long_ascii) == media.MAX_FILENAME_CHARS
    assert long_japanese.endswith(".pdf")
    assert len(long_japanese.encode("utf-8")) <= media.MAX_FILENAME_BYTES


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password=hunter2.txt", "hunter2"),
        ("my password is Tr0ub4dor&3.png", "Tr0ub4dor&3"),
        ("パスワードはneko1234です.txt", "neko1234"),
        ("key ghp_abcdefghijklmnopqrstuvwxyz0123456789AB.log", "ghp_abcdefghijklmnopqrstuvwx"),
    ],
)
def test_safe_filename_redacts_credentials(name: str, secret: str) -> None:
    cleaned = safe_filename(name)

    assert secret not in cleaned
    assert "removed]" in cleaned
    assert cleaned.rsplit(".", 1)[1] == name.rsplit(".", 1)[1]  # the extension survives


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_a_fresh_process_processes_images(tmp_path: Path, fmt: str) -> None:
    """A new server process has not touched Pillow yet: its plugin table starts empty."""
    source = tmp_path / f"shot.{fmt.lower()}"
    Image.new("RGB", (40, 30), "teal").save(source, fmt)
    script = (
        "import sys; from pathlib import Path; from supportdesk.attachments import media; "
        "print(media.process_image(Path(sys.argv[1]), Path(sys.argv[2])).width)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(source), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "40"
