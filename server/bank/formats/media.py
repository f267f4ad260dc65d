"""Pictures in imported items: which formats are kept, and checks that a file is what it says.

A picture is kept if it is a PNG, JPEG, GIF or WebP that Pillow can read, within the size limits
below. Anything else (SVG, which can carry scripts; audio; video; a file that is not a picture)
is not carried into the package: the importer says so, and the item notes where it was.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings

from server.bank.model import Image

MAX_IMAGE_BYTES = 2 * 1024 * 1024  # one picture
MAX_ITEM_IMAGE_BYTES = 6 * 1024 * 1024  # all of an item's pictures
MAX_PIXELS = 16_000_000  # a decompression bomb is refused before it is decoded
_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
_DATA_URI = re.compile(r"data:([\w/+.-]+)?(;[\w=.-]+)*;base64,(.*)", re.DOTALL)


class NotAPicture(Exception):
    """Why a file cannot be kept as a picture, as a sentence."""


def picture(name: str, data: bytes, alt: str) -> Image:
    """``data`` as a picture to carry, or ``NotAPicture`` saying why not."""
    if len(data) > MAX_IMAGE_BYTES:
        raise NotAPicture(
            f"the picture {name} is larger than {MAX_IMAGE_BYTES // 2**20} MiB; make it smaller"
        )
    if name.lower().endswith(".svg") or data.lstrip()[:5] in (b"<?xml", b"<svg "):
        raise NotAPicture(f"{name} is an SVG drawing, which is not carried; save it as a PNG")
    from PIL import Image as PillowImage

    previous = PillowImage.MAX_IMAGE_PIXELS
    try:
        PillowImage.MAX_IMAGE_PIXELS = MAX_PIXELS
        with warnings.catch_warnings():
            warnings.simplefilter("error", PillowImage.DecompressionBombWarning)
            with PillowImage.open(io.BytesIO(data)) as opened:
                kind = _FORMATS.get(str(opened.format))
                if kind is None:
                    raise NotAPicture(f"{name} is not a PNG, JPEG, GIF or WebP picture")
                opened.verify()
    except NotAPicture:
        raise
    except (PillowImage.DecompressionBombError, PillowImage.DecompressionBombWarning):
        raise NotAPicture(f"{name} has too many pixels to be shown safely") from None
    except Exception:  # Pillow raises many kinds for a damaged or unknown file
        raise NotAPicture(f"{name} is not a picture that can be read") from None
    finally:
        PillowImage.MAX_IMAGE_PIXELS = previous
    return Image(name=name, media_type=kind, data=data, alt=alt)


def data_uri(uri: str) -> tuple[str, bytes] | None:
    """(media type, bytes) of a base64 ``data:`` URI, or None if it is not one."""
    found = _DATA_URI.fullmatch(uri.strip())
    if found is None:
        return None
    try:
        return found.group(1) or "", base64.b64decode(found.group(3), validate=False)
    except (binascii.Error, ValueError):
        return None
