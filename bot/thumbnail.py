"""Cover image → link-card thumbnail within Bluesky's limits (≤ 2000 px, ≤ 1,000,000 bytes).

The PDS only checks a thumb's size when the post is written, so an oversized blob would
fail the whole thread; we shrink and re-encode here instead. Anything that can't be
decoded safely gives ``None``: the card is posted without a thumbnail rather than failing.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass

import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

from bot.errors import FeedbotError
from bot.http import request_bounded

log = logging.getLogger(__name__)

MAX_SIDE = 2000
MAX_BYTES = 1_000_000
#: refuse to decode more pixels than this (a 40 MP photo is fine, a 1 GP bomb is not)
MAX_PIXELS = 50_000_000
_QUALITIES = (85, 75, 65, 55, 45)
#: what we download at most; the thumbnail is made much smaller
MAX_DOWNLOAD = 20_000_000


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    mime: str
    width: int
    height: int


def fetch_image(
    client: httpx.Client, url: str, *, seconds: float, max_bytes: int = MAX_DOWNLOAD
) -> bytes | None:
    """The bytes at ``url`` within ``max_bytes`` and ``seconds`` for the whole request
    (redirects included), or None with the reason logged."""
    try:
        response = request_bounded(
            client,
            "GET",
            url,
            max_bytes=max_bytes,
            seconds=seconds,
            fail=_CoverFailed,
            follow_redirects=True,
        )
    except _CoverFailed as exc:
        log.warning("cover not fetched url=%s reason=%s", url, exc)
        return None
    if response.status != 200:
        log.warning("cover not fetched url=%s status=%d", url, response.status)
        return None
    return response.body


class _CoverFailed(FeedbotError):
    """Why a cover could not be fetched; never leaves this module (None is returned)."""


def make_thumbnail(
    raw: bytes, *, max_side: int = MAX_SIDE, max_bytes: int = MAX_BYTES
) -> Thumbnail | None:
    """Decode ``raw``, shrink it and re-encode it; ``None`` when it is not a usable image."""
    try:
        with warnings.catch_warnings():
            # Pillow's bomb check warns before it raises; we check pixels ourselves
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = _decode(raw, max_side)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        log.info("cover not decodable: %s", type(exc).__name__)
        return None
    if image is None:
        return None
    return _encode(image, max_bytes)


def _decode(raw: bytes, max_side: int) -> Image.Image | None:
    # no ``with``: closing would drop the decoded pixels, and a BytesIO holds no resource
    image: Image.Image = Image.open(io.BytesIO(raw))
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        log.info("cover refused: %dx%d pixels", width, height)
        return None
    # JPEG can decode at 1/2, 1/4, 1/8 scale: cheaper and never the full bitmap
    image.draft("RGB", (max_side, max_side))
    image.seek(0)  # the first frame of an animation
    image.load()
    ImageOps.exif_transpose(image, in_place=True)  # no copy of the bitmap
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if _has_alpha_band(image) else "RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def _has_alpha_band(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _uses_alpha(image: Image.Image) -> bool:
    if image.mode != "RGBA":
        return False
    low = image.getchannel("A").getextrema()[0]
    return isinstance(low, int | float) and low < 255


def _encode(image: Image.Image, max_bytes: int) -> Thumbnail | None:
    if _uses_alpha(image):
        data = _save(image, "PNG", optimize=True)
        if len(data) <= max_bytes:
            return Thumbnail(data, "image/png", image.width, image.height)
        # too big as PNG: JPEG has no alpha, so flatten onto white
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    elif image.mode != "RGB" and image.mode != "L":
        image = image.convert("RGB")
    for _ in range(8):  # bounded: each round shrinks the image by a quarter
        for quality in _QUALITIES:
            # baseline, not optimized or progressive: a third of the encoding time for
            # ~10% more bytes; the quality steps keep it under the limit anyway
            data = _save(image, "JPEG", quality=quality)
            if len(data) <= max_bytes:
                return Thumbnail(data, "image/jpeg", image.width, image.height)
        size = (max(1, image.width * 3 // 4), max(1, image.height * 3 // 4))
        image = image.resize(size, Image.Resampling.LANCZOS)
    log.info("cover could not be made small enough")
    return None


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()
