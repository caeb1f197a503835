"""The blurred preview of an image evidence, made on the server: greyscale, a few dozen pixels of detail, blurred.

The panel shows this until a person reveals the preview, so the material never reaches the screen in full
whether or not a stylesheet or script loads (the CSS blur is only a second layer). The detail thrown away
(`DETAIL_PIXELS` on the long side) cannot be recovered from the picture sent. Video, PDF and HTML have no
preview: nothing of them is shown inline until revealed.
"""

import io
import warnings

from PIL import Image, ImageFilter, ImageOps

from core.errors import InvalidInput
from evidence.actions import PIL_FORMATS, max_pixels

MAX_SIDE = 512  # the preview's long side at most (the panel shows it at most 16rem high)
DETAIL_PIXELS = 32  # the detail kept on the long side before scaling back up and blurring
BACKGROUND = 43  # grey under transparent pixels: the panel's dark media background (#2b2b2b)
JPEG_QUALITY = 80
CONTENT_TYPE = "image/jpeg"


def has_preview(mime: str) -> bool:
    return mime in PIL_FORMATS


def _grey(image: Image.Image) -> Image.Image:
    """The first frame in greyscale, transparent parts on the dark background, turned as the EXIF says."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (BACKGROUND, BACKGROUND, BACKGROUND, 255))
        return Image.alpha_composite(flat, rgba).convert("L")
    return image.convert("L")


def blurred(fh, mime: str) -> bytes:
    """JPEG bytes of the blurred, greyscale preview of an image file (open binary file object).

    The image's declared size is checked against EVIDENCE_MAX_PIXELS before decoding, as on upload; a file that
    fails that or does not decode is InvalidInput.
    """
    if not has_preview(mime):
        raise InvalidInput(f"{mime} has no preview.")
    limit = max_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fh, formats=[PIL_FORMATS[mime]]) as image:
                width, height = image.size
                if width * height > limit:
                    raise InvalidInput(f"The image declares {width}×{height} pixels, more than {limit:,}.")
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced scale
                grey = _grey(image)
    except InvalidInput:
        raise
    except Exception as exc:  # hostile or damaged bytes: no preview, never a 500
        raise InvalidInput(f"The image could not be read: {exc}") from exc
    grey.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)
    size = grey.size
    scale = DETAIL_PIXELS / max(size)
    if scale < 1:
        small = grey.resize((max(1, round(size[0] * scale)), max(1, round(size[1] * scale))),
                            Image.Resampling.BOX)
        grey = small.resize(size, Image.Resampling.BILINEAR)
    out = grey.filter(ImageFilter.GaussianBlur(radius=max(2.0, max(size) / 48)))
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()
