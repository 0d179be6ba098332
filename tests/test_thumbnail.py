"""Cover images become thumbnails within Bluesky's limits, or None, never an exception."""

from __future__ import annotations

import io
import os

import httpx
import pytest
from httpserver import LocalServer, Response
from PIL import Image

from bot.thumbnail import MAX_BYTES, fetch_image, make_thumbnail


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def noise(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Random pixels: the worst case for every codec, so the byte limit really bites."""
    bands = len(mode)
    return Image.frombytes(mode, (width, height), os.urandom(width * height * bands))


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_huge_noisy_photo_is_shrunk_to_2000px_and_under_a_megabyte() -> None:
    raw = encode(noise(5000, 2500), "JPEG", quality=95)
    assert len(raw) > MAX_BYTES

    thumb = make_thumbnail(raw)

    assert thumb is not None
    assert thumb.mime == "image/jpeg"
    assert len(thumb.data) <= MAX_BYTES
    image = decoded(thumb.data)
    assert image.format == "JPEG"
    assert max(image.size) <= 2000
    assert image.size == (thumb.width, thumb.height)
    # aspect ratio kept (2:1), within rounding
    assert abs(image.width / image.height - 2.0) < 0.01


def test_tiny_image_is_not_enlarged() -> None:
    thumb = make_thumbnail(encode(Image.new("RGB", (16, 9), (200, 10, 10)), "PNG"))

    assert thumb is not None
    assert (thumb.width, thumb.height) == (16, 9)
    assert thumb.mime == "image/jpeg"  # no alpha: JPEG
    assert decoded(thumb.data).getpixel((8, 4))[0] > 150  # type: ignore[index]


def test_png_with_real_transparency_stays_png_when_small() -> None:
    image = Image.new("RGBA", (300, 200), (0, 0, 255, 0))
    image.paste((255, 0, 0, 255), (100, 50, 200, 150))

    thumb = make_thumbnail(encode(image, "PNG"))

    assert thumb is not None
    assert thumb.mime == "image/png"
    out = decoded(thumb.data)
    assert out.mode == "RGBA"
    assert out.getpixel((0, 0))[3] == 0  # type: ignore[index]


def test_large_transparent_png_is_flattened_to_jpeg_under_the_limit() -> None:
    image = noise(1800, 1800, "RGBA")  # random alpha: PNG can't get under 1 MB

    thumb = make_thumbnail(encode(image, "PNG"))

    assert thumb is not None
    assert thumb.mime == "image/jpeg"
    assert len(thumb.data) <= MAX_BYTES


def test_opaque_rgba_png_becomes_jpeg() -> None:
    thumb = make_thumbnail(encode(Image.new("RGBA", (50, 50), (1, 2, 3, 255)), "PNG"))

    assert thumb is not None and thumb.mime == "image/jpeg"


@pytest.mark.parametrize("raw", [b"", b"not an image at all", os.urandom(4096)])
def test_garbage_bytes_give_none(raw: bytes) -> None:
    assert make_thumbnail(raw) is None


def test_truncated_file_gives_none() -> None:
    raw = encode(noise(800, 600), "JPEG", quality=90)

    assert make_thumbnail(raw[: len(raw) // 2]) is None


def test_decompression_bomb_is_refused_without_decoding() -> None:
    # 100 megapixels of one colour: a few kilobytes of PNG
    raw = encode(Image.new("1", (10_000, 10_000)), "PNG")
    assert len(raw) < 100_000

    assert make_thumbnail(raw) is None


def test_palette_gif_and_greyscale_are_accepted() -> None:
    gif = encode(Image.new("P", (120, 80), 3), "GIF")
    grey = encode(Image.new("L", (120, 80), 128), "JPEG")

    for raw in (gif, grey):
        thumb = make_thumbnail(raw)
        assert thumb is not None
        assert (thumb.width, thumb.height) == (120, 80)


def test_smaller_limits_are_respected() -> None:
    thumb = make_thumbnail(encode(noise(1000, 1000), "PNG"), max_side=500, max_bytes=50_000)

    assert thumb is not None
    assert max(thumb.width, thumb.height) <= 500
    assert len(thumb.data) <= 50_000


def test_fetch_image_caps_size_and_never_raises(http_server: LocalServer) -> None:
    http_server.routes["/ok.jpg"] = Response(200, b"x" * 1000)
    http_server.routes["/big.jpg"] = Response(200, b"x" * 5000)
    http_server.routes["/gone.jpg"] = Response(404, b"")
    http_server.routes["/slow.jpg"] = Response(200, b"x", delay=1.0)
    with httpx.Client() as client:

        def get(path: str) -> bytes | None:
            return fetch_image(client, http_server.url + path, seconds=0.3, max_bytes=2000)

        assert get("/ok.jpg") == b"x" * 1000
        assert get("/big.jpg") is None
        assert get("/gone.jpg") is None
        assert get("/slow.jpg") is None
        assert fetch_image(client, "ftp://example.com/x.jpg", seconds=0.3) is None


def test_exif_orientation_is_applied() -> None:
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = image.getexif()
    exif[0x0112] = 6  # rotated 90° clockwise
    thumb = make_thumbnail(encode(image, "JPEG", exif=exif.tobytes()))

    assert thumb is not None
    assert (thumb.width, thumb.height) == (20, 40)
