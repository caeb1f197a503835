"""Evidence: files attached to an item, hashed, sniffed, stored, and matched against what the unit has seen.

The one write is `evidence_add`; the reads are `seen_before` (one file) and `seen_before_many` (a panel's worth).
PDQ matching is a linear scan in `pdq_matches_many`, kept in that one function so an index (a BK-tree, or
PostgreSQL bit strings split into 16-bit bands) can replace it: it is fine up to ~100k image rows.
"""

import hashlib
import re
import warnings
from dataclasses import dataclass, field

import filetype
import numpy as np
import pdqhash
from django.conf import settings
from django.db import transaction
from PIL import Image

from audit import chain as audit
from cases.models import Item
from core.errors import Conflict, DomainError, InvalidInput, NotFound
from core.roles import LOGGERS, UNIT_STAFF, require_role
from evidence.models import Evidence

DEFAULT_ALLOWED_TYPES = [
    "image/png", "image/jpeg", "image/gif", "image/webp", "video/mp4", "video/webm", "video/quicktime",
    "application/pdf", "text/html",
]
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
DEFAULT_MAX_PIXELS = 50_000_000

# The extensions a file of each sniffed type may carry; the first is the one it is stored under.
EXTENSIONS = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "video/mp4": (".mp4", ".m4v"),
    "video/webm": (".webm",),
    "video/quicktime": (".mov", ".qt"),
    "application/pdf": (".pdf",),
    "text/html": (".html", ".htm"),
}
# Sniffed types recorded as the everyday type they are a variant of.
ALIASES = {"image/apng": "image/png", "video/x-m4v": "video/mp4"}
# Pillow decodes only the format the bytes were sniffed as, never whatever else it could parse.
PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
PREVIEWABLE = ("image/", "video/")

PDQ_MATCH_DISTANCE = 31  # Hamming distance at or below which two PDQ hashes are the same picture
PDQ_MIN_QUALITY = 50  # below this (flat or near-blank images) PDQ hashes collide and are not matched
PDQ_MAX_SIDE = 1024  # images are scaled down to this before hashing: PDQ works on 64×64 anyway
SNIFF_BYTES = 8192
CHUNK = 1024 * 1024

_HTML_START = re.compile(rb"^(?:\s|<!--.*?-->)*<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE | re.DOTALL)
_BOMS = (b"\xef\xbb\xbf",)


class UploadTooLarge(DomainError):
    status_code = 413


class UnsupportedType(DomainError):
    status_code = 415


def max_bytes() -> int:
    return getattr(settings, "EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_pixels() -> int:
    return getattr(settings, "EVIDENCE_MAX_PIXELS", DEFAULT_MAX_PIXELS)


def allowed_types() -> list[str]:
    return list(getattr(settings, "EVIDENCE_ALLOWED_TYPES", DEFAULT_ALLOWED_TYPES))


def is_previewable(mime: str) -> bool:
    return mime.startswith(PREVIEWABLE)


@dataclass(frozen=True)
class Match:
    """Another item's evidence that is the same file (sha256) or the same picture (pdq)."""

    evidence: int
    item: int
    case: int
    match: str  # "sha256" | "pdq"
    distance: int

    def as_dict(self) -> dict:
        return {"evidence": self.evidence, "item": self.item, "case": self.case, "match": self.match,
                "distance": self.distance}


@dataclass
class Added:
    evidence: Evidence
    seen_before: list[Match] = field(default_factory=list)


# --- Sniffing and hashing -------------------------------------------------------------------------------


def _looks_like_html(head: bytes) -> bool:
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom):]
    return bool(_HTML_START.match(head))


def sniff_mime(head: bytes) -> str | None:
    """The type the bytes say they are (magic numbers; HTML by its opening tag), or None."""
    kind = filetype.guess(head)
    if kind is not None:
        return ALIASES.get(kind.mime, kind.mime)
    if _looks_like_html(head):
        return "text/html"
    return None


def _extension(name: str) -> str:
    base = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return "." + base.rsplit(".", 1)[1].lower() if "." in base else ""


def _read_head(upload) -> bytes:
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    return head


def check_type(upload) -> str:
    """The sniffed MIME type, if it is allowed and the file name's extension agrees with it."""
    name = upload.name or ""
    mime = sniff_mime(_read_head(upload))
    allowed = allowed_types()
    ext = _extension(name)
    if mime is None:
        raise UnsupportedType(f"The type of “{name}” could not be recognised from its contents; "
                              f"accepted are {', '.join(allowed)}.")
    if mime not in allowed or mime not in EXTENSIONS:
        raise UnsupportedType(f"“{name}” is {mime}, which is not accepted as evidence; "
                              f"accepted are {', '.join(allowed)}.")
    if ext not in EXTENSIONS[mime]:
        raise UnsupportedType(f"“{name}” contains {mime} but its name ends in “{ext or '(no extension)'}”: "
                              f"the contents and the name must agree ({', '.join(EXTENSIONS[mime])}).")
    return mime


def hash_file(upload) -> tuple[str, str, int]:
    """SHA-256, MD5 and size, read in chunks (the file is never held in memory whole)."""
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    limit = max_bytes()
    upload.seek(0)
    for chunk in upload.chunks(CHUNK):
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(too_large_message(limit))
        sha256.update(chunk)
        md5.update(chunk)
    upload.seek(0)
    return sha256.hexdigest(), md5.hexdigest(), size


def too_large_message(limit: int) -> str:
    return f"The file is larger than the limit of {limit / (1024 * 1024):g} MB."


def pdq_hex(bits) -> str:
    """256 PDQ bits (bit i = hash bit i) as 64 hex digits, most significant first (ThreatExchange's format)."""
    value = 0
    for i, bit in enumerate(bits):
        if bit:
            value |= 1 << i
    return f"{value:064x}"


def image_pdq(upload, mime: str) -> tuple[str, int]:
    """PDQ hash and quality of an image, after checking its declared size against EVIDENCE_MAX_PIXELS.

    The dimensions are read from the header (Image.open does not decode) and checked before any pixel is
    decoded, so a small file declaring a huge canvas (a decompression bomb) is refused without being expanded.
    """
    limit = max_pixels()
    Image.MAX_IMAGE_PIXELS = limit  # Pillow's own guard: a warning above it, an error above twice it
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=[PIL_FORMATS[mime]]) as image:
                width, height = image.size
                if width * height > limit:
                    raise _bomb(width, height, limit)
                image.draft("RGB", (PDQ_MAX_SIDE, PDQ_MAX_SIDE))  # JPEG: decode at a reduced scale
                image.seek(0)
                rgb = image.convert("RGB")
        if max(rgb.size) > PDQ_MAX_SIDE:
            rgb.thumbnail((PDQ_MAX_SIDE, PDQ_MAX_SIDE), Image.Resampling.BOX)
        bits, quality = pdqhash.compute(np.asarray(rgb, dtype=np.uint8))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadTooLarge(f"The image declares too many pixels to be opened safely ({exc}).") from exc
    except DomainError:
        raise
    except Exception as exc:  # any decoder failure on hostile bytes is bad input, never a 500
        raise InvalidInput(f"The image could not be read: {exc}") from exc
    finally:
        upload.seek(0)
    return pdq_hex(bits), int(quality)


def _bomb(width: int, height: int, limit: int) -> UploadTooLarge:
    return UploadTooLarge(f"The image declares {width}×{height} pixels, more than the limit of {limit:,}; "
                        "it is refused as a possible decompression bomb.")


# --- Matching -------------------------------------------------------------------------------------------


def pdq_matches_many(targets: dict[int, str], *, exclude_items: dict[int, int]) -> dict[int, list[Match]]:
    """For each target (key → pdq hex), the image evidence on other items within PDQ_MATCH_DISTANCE.

    `exclude_items` maps each key to the item whose own evidence is not a match. A linear scan in Python over
    every image's hash: one query, ~1 µs a comparison; fine up to ~100k rows, then replace with an index.
    """
    wanted = {key: int(value, 16) for key, value in targets.items() if value}
    found: dict[int, list[Match]] = {key: [] for key in targets}
    if not wanted:
        return found
    rows = (
        Evidence.objects.exclude(pdq="")
        .filter(pdq_quality__gte=PDQ_MIN_QUALITY)
        .values_list("id", "item_id", "item__case_id", "pdq")
        .order_by("id")
    )
    for evidence_id, item_id, case_id, other in rows.iterator(chunk_size=5000):
        other_bits = int(other, 16)
        for key, bits in wanted.items():
            if item_id == exclude_items.get(key) or evidence_id == key:
                continue
            distance = (bits ^ other_bits).bit_count()
            if distance <= PDQ_MATCH_DISTANCE:
                found[key].append(Match(evidence_id, item_id, case_id, "pdq", distance))
    return found


def seen_before_many(evidence_list) -> dict[int, list[Match]]:
    """Matches on other items for each Evidence row given: same SHA-256 first, then near-identical pictures."""
    evidence_list = list(evidence_list)
    result: dict[int, list[Match]] = {ev.pk: [] for ev in evidence_list}
    if not evidence_list:
        return result
    same = (
        Evidence.objects.filter(sha256__in={ev.sha256 for ev in evidence_list})
        .values_list("id", "item_id", "item__case_id", "sha256")
        .order_by("id")
    )
    exact: dict[int, set[int]] = {ev.pk: set() for ev in evidence_list}
    for other_id, item_id, case_id, sha256 in same:
        for ev in evidence_list:
            if ev.sha256 == sha256 and ev.item_id != item_id:
                result[ev.pk].append(Match(other_id, item_id, case_id, "sha256", 0))
                exact[ev.pk].add(other_id)
    pdq_targets = {ev.pk: ev.pdq for ev in evidence_list
                   if ev.pdq and (ev.pdq_quality or 0) >= PDQ_MIN_QUALITY}
    near = pdq_matches_many(pdq_targets, exclude_items={ev.pk: ev.item_id for ev in evidence_list})
    for key, matches in near.items():
        result[key].extend(m for m in matches if m.evidence not in exact[key])
    return result


def seen_before(*, sha256: str, pdq: str, pdq_quality: int | None, item_id: int,
                exclude_evidence: int | None = None) -> list[Match]:
    """Evidence on other items that is this file or this picture."""
    probe = Evidence(pk=exclude_evidence or 0, item_id=item_id, sha256=sha256, pdq=pdq, pdq_quality=pdq_quality)
    return seen_before_many([probe])[probe.pk]


# --- The write ------------------------------------------------------------------------------------------


def evidence_add(*, actor, item_id: int, upload) -> Added:
    """Attach an uploaded file (a Django UploadedFile) to an item.

    Checks: the size limit and an image's declared pixel count (UploadTooLarge → 413), that the type sniffed
    from the bytes is allowed and agrees with the file name's extension (UnsupportedType → 415), that an image
    decodes (InvalidInput), and that the item does not already hold the same file (Conflict). Computes SHA-256
    and MD5 (streamed) and, for images, the PDQ hash. Stores the file through the default storage under
    evidence/YYYY/MM/<sha256>.<ext> (never the user's file name), then writes the Evidence row and an
    "evidence.added" AuditEvent in one transaction; if that fails the stored file is deleted, so nothing is
    half-written. Returns the row and the other items' evidence it matches (same SHA-256, or PDQ within
    PDQ_MATCH_DISTANCE).
    """
    require_role(actor, LOGGERS, "adding evidence")
    if upload is None:
        raise InvalidInput("Choose a file to upload.", field_errors={"file": ["No file was submitted."]})
    limit = max_bytes()
    if upload.size is not None and upload.size > limit:
        raise UploadTooLarge(too_large_message(limit))
    if not upload.size:
        raise InvalidInput("The file is empty.", field_errors={"file": ["The submitted file is empty."]})
    if not Item.objects.filter(pk=item_id).exists():
        raise NotFound("Not found.")
    mime = check_type(upload)
    sha256, md5, size = hash_file(upload)
    pdq, quality = image_pdq(upload, mime) if mime in PIL_FORMATS else ("", None)
    _refuse_repeat(item_id, sha256)

    original_name = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
    evidence = Evidence(item_id=item_id, original_name=original_name, mime=mime, size=size, sha256=sha256,
                        md5=md5, pdq=pdq, pdq_quality=quality, uploaded_by=actor)
    upload.seek(0)
    evidence.file.save(f"{sha256}{EXTENSIONS[mime][0]}", upload, save=False)
    stored = evidence.file.name
    try:
        with transaction.atomic():
            item = Item.objects.select_for_update(no_key=True).only("id", "case_id").get(pk=item_id)
            _refuse_repeat(item.pk, sha256)  # again under the item's lock: two uploads of one file race
            evidence.save(force_insert=True)
            audit.record(actor=actor, verb="evidence.added", obj=evidence, after={
                "sha256": sha256, "md5": md5, "mime": mime, "size": size, "item": item.pk,
            })
    except BaseException:
        evidence.file.storage.delete(stored)
        raise
    matches = seen_before(sha256=sha256, pdq=pdq, pdq_quality=quality, item_id=item_id,
                          exclude_evidence=evidence.pk)
    return Added(evidence=evidence, seen_before=matches)


def _refuse_repeat(item_id: int, sha256: str) -> None:
    existing = Evidence.objects.filter(item_id=item_id, sha256=sha256).values_list("id", flat=True).first()
    if existing is not None:
        raise Conflict(f"This file is already attached to item {item_id} (evidence {existing}).")


def record_view(*, actor, evidence: Evidence, disposition: str) -> None:
    """Consultation log: every time a person opens or downloads an evidence file."""
    require_role(actor, UNIT_STAFF, "viewing evidence")
    with transaction.atomic():
        audit.record(actor=actor, verb="evidence.viewed", obj=evidence, after={
            "sha256": evidence.sha256, "item": evidence.item_id, "disposition": disposition,
        })
