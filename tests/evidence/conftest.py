"""Real files for the evidence tests, built here with Pillow and by hand, and a private MEDIA_ROOT per test."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cases.actions import cases as case_actions
from cases.actions import items as item_actions


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def picture(seed: int, size: int = 256) -> Image.Image:
    """A picture with real structure (an 8×8 grid of random colours): PDQ quality 100, unlike a flat image."""
    cells = np.random.default_rng(seed).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    return Image.fromarray(cells).resize((size, size), Image.Resampling.NEAREST)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def png(seed: int = 1, **kw) -> bytes:
    return encode(picture(seed, **kw), "PNG")


def jpeg(seed: int = 1, quality: int = 90) -> bytes:
    return encode(picture(seed), "JPEG", quality=quality)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header declares width×height pixels (a decompression bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + b"\x00" * 64
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
HTML = b"\xef\xbb\xbf\n  <!DOCTYPE html>\n<html><head><title>Saved</title></head><body>propaganda</body></html>\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture
def item(case, analyst, platform_a):
    return item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=ev1", kind="post",
                             categories=["incitement"])


@pytest.fixture
def other_case(analyst):
    return case_actions.case_create(actor=analyst, title="Earlier operation", description="")


@pytest.fixture
def other_item(other_case, analyst, platform_a):
    return item_actions.item_log(actor=analyst, case=other_case, url="https://tube.example/watch?v=ev2", kind="post",
                             categories=["threat"])
