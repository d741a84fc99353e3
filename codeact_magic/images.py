"""Figures a step draws, for the model: image parts for a model that sees, a line of text otherwise.

A plot is often the answer to "does this look right?". A vision model is sent the images of the
step it just ran (a few, downscaled: a 3000-pixel figure costs as much as a page of text and says no
more); the images go with that one call and are not sent again. A text-only model, and the
record of the conversation, get a line: kind and size.
"""

from __future__ import annotations

import base64
import binascii
import io
import struct
from dataclasses import dataclass

MAX_IMAGES = 3  # per step
MAX_SIDE = 1024  # pixels, after downscaling
MAX_BYTES = 4_000_000  # an image larger than this (base64) that cannot be downscaled is not sent
SENT_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


@dataclass(frozen=True)
class StepImage:
    mime: str
    data: str  # base64, as the display message carries it

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height), read from the PNG, GIF or JPEG header."""
        try:
            raw = base64.b64decode(self.data[:200_000])
        except (binascii.Error, ValueError):
            return None
        return _size(self.mime, raw)

    def describe(self) -> str:
        size = self.size
        return f"[{self.mime} {size[0]}×{size[1]} shown to the user]" if size else \
            f"[{self.mime} shown to the user]"


def _size(mime: str, raw: bytes) -> tuple[int, int] | None:
    if mime == "image/png" and raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) >= 24:
        return struct.unpack(">II", raw[16:24])
    if mime == "image/gif" and raw[:4] == b"GIF8" and len(raw) >= 10:
        return struct.unpack("<HH", raw[6:10])
    if mime == "image/jpeg":
        i = 2
        while i + 9 < len(raw):
            if raw[i] != 0xFF:
                return None
            marker, length = raw[i + 1], struct.unpack(">H", raw[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):  # start of frame: height, then width
                height, width = struct.unpack(">HH", raw[i + 5:i + 9])
                return width, height
            i += 2 + length
    return None


def from_bundle(data: dict) -> StepImage | None:
    """The image of a display's MIME bundle that a model could be sent, if any."""
    for mime in SENT_TYPES:
        value = data.get(mime)
        if isinstance(value, str) and value:
            return StepImage(mime, value.replace("\n", ""))
    return None


def downscaled(image: StepImage, max_side: int = MAX_SIDE) -> StepImage | None:
    """``image`` at most ``max_side`` pixels on its long side (as PNG), or as it is where it is
    small enough; None when it is too large and cannot be downscaled (no Pillow)."""
    size = image.size
    if size is not None and max(size) <= max_side and len(image.data) <= MAX_BYTES:
        return image
    try:
        from PIL import Image  # Pillow comes with matplotlib, which draws most figures
    except ImportError:
        return image if len(image.data) <= MAX_BYTES else None
    try:
        with Image.open(io.BytesIO(base64.b64decode(image.data))) as picture:
            picture.thumbnail((max_side, max_side))
            out = io.BytesIO()
            picture.save(out, format="PNG", optimize=True)
    except Exception:  # not an image Pillow reads: sent only if small
        return image if len(image.data) <= MAX_BYTES else None
    return StepImage("image/png", base64.b64encode(out.getvalue()).decode("ascii"))


def parts(text: str, images: list[StepImage]) -> list[dict]:
    """A message's content as parts: the text, then the images (OpenAI's format, which litellm
    translates for other providers)."""
    sendable = [i for i in (downscaled(image) for image in images[:MAX_IMAGES]) if i is not None]
    return [{"type": "text", "text": text}] + [
        {"type": "image_url", "image_url": {"url": f"data:{i.mime};base64,{i.data}"}} for i in sendable]
