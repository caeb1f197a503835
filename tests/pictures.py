"""Measures of a picture for the tests of the blurred evidence previews: is it greyscale, how sharp is it."""

import io

import numpy as np
from PIL import Image


def load(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def colourfulness(image: Image.Image) -> float:
    """The largest spread between the red, green and blue of one pixel (0 for a grey picture)."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
    return float((rgb.max(axis=2) - rgb.min(axis=2)).max())


def sharpness(image: Image.Image) -> float:
    """The largest difference between two neighbouring grey pixels: a hard edge is near 255, a blurred one small."""
    grey = np.asarray(image.convert("L"), dtype=np.int16)
    return float(max(np.abs(np.diff(grey, axis=0)).max(), np.abs(np.diff(grey, axis=1)).max()))
