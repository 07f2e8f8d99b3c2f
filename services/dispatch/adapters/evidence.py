"""Where a job's photos and the customer's signature are kept: the bytes, content-addressed.

- :func:`sniff` names an image's type from its first bytes (JPEG, PNG, WebP), never from
  the file name or the ``Content-Type`` the client sent; :func:`check` refuses anything else
  (400) and anything over the size limit (413), naming the field.
- :class:`FileStore` keeps each image once under ``<root>/<aa>/<bb>/<sha256>`` (the SHA-256
  of the bytes is its id): written to a temporary file in the same directory tree, flushed
  and renamed into place, so a reader never sees half an image and the same bytes sent
  twice are stored once.
- :func:`store_for` builds the store of the service's settings (``evidence_dir``,
  ``DISPATCH_EVIDENCE_DIR``). :class:`EvidenceStore` is the interface an S3-compatible store
  would implement; none is implemented yet.

What the job keeps about each image (who, when, caption, signer) is the ``job_evidence``
table (:mod:`.orm`), not here.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aftersales.config import var_dir

DEFAULT_MAX_BYTES = 8 * 1024 * 1024          # 8 MiB per image (DISPATCH_EVIDENCE_MAX_BYTES)
CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class EvidenceRejected(Exception):
    """An image refused before it is stored: ``status`` 400 (not an accepted type, empty)
    or 413 (over the limit); ``field`` names what was sent."""

    def __init__(self, status: int, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.status, self.field, self.message = status, field, message

    def as_doc(self) -> dict:
        return {"error": "invalid request" if self.status == 400 else "too large",
                "errors": [{"field": self.field, "message": self.message}]}


def sniff(data: bytes) -> str | None:
    """The image type of ``data`` by its magic bytes, or None when it is none of
    JPEG (``FF D8 FF``), PNG (its 8-byte signature) or WebP (``RIFF....WEBP``)."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def too_large(size: int, field: str, limit: int) -> EvidenceRejected:
    return EvidenceRejected(413, field, f"is {size} bytes; the limit is {limit} bytes "
                                        f"({limit / 1024 / 1024:g} MiB, "
                                        "DISPATCH_EVIDENCE_MAX_BYTES)")


def check(data: bytes, field: str, limit: int = DEFAULT_MAX_BYTES) -> str:
    """The content type of ``data``; EvidenceRejected when it is empty, over ``limit`` bytes
    or not a JPEG, PNG or WebP image by its content."""
    if not data:
        raise EvidenceRejected(400, field, "is empty: send the image's bytes")
    if len(data) > limit:
        raise too_large(len(data), field, limit)
    kind = sniff(data)
    if kind is None:
        raise EvidenceRejected(400, field, "is not a JPEG, PNG or WebP image (checked by its "
                                           "content, not its name)")
    return kind


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class EvidenceStore(Protocol):
    """What the service needs of a store of images (a filesystem today; an S3-compatible
    bucket could implement the same three methods)."""

    def put(self, data: bytes) -> str:
        """Keep ``data`` (once) and return its SHA-256 (hex)."""

    def get(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; FileNotFoundError when there are none."""

    def exists(self, sha256: str) -> bool:
        ...


class FileStore:
    """Images as files under ``root``, named by their SHA-256."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not SHA256_RE.match(sha256 or ""):
            raise ValueError(f"not a SHA-256 (64 lower-case hex digits): {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, data: bytes) -> str:
        sha = digest(data)
        target = self.path(sha)
        if target.is_file():                     # the same bytes: already there
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o640)
            os.replace(tmp, target)              # atomic: the whole file or none
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()


def store_for(settings: dict) -> EvidenceStore:
    """The store the settings name: the directory ``evidence_dir`` (``DISPATCH_EVIDENCE_DIR``);
    left empty, ``evidence/`` beside the SQLite database file, or ``<var>/evidence``
    (``AFTERSALES_VAR_DIR``) for another database."""
    root = settings.get("evidence_dir")
    if not root:
        url = str(settings.get("database_url") or "")
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            root = os.path.join(os.path.dirname(url[len("sqlite:///"):]) or ".", "evidence")
        else:
            root = os.path.join(var_dir(), "evidence")
    return FileStore(root)


def max_bytes(settings: dict) -> int:
    return int(settings.get("evidence_max_bytes") or DEFAULT_MAX_BYTES)


@dataclass(frozen=True)
class Evidence:
    """The store and the limit, as the service's handlers get them (``evidence``)."""
    store: EvidenceStore
    limit: int = DEFAULT_MAX_BYTES

    def keep(self, data: bytes, field: str) -> tuple[str, str]:
        """``data`` checked (EvidenceRejected naming ``field``) and stored: (sha256, type)."""
        kind = check(data, field, self.limit)
        return self.store.put(data), kind


def evidence_for(settings: dict) -> Evidence:
    return Evidence(store_for(settings), max_bytes(settings))


def from_data_url(url: str, field: str) -> bytes:
    """The bytes of a ``data:image/...;base64,...`` URL (a canvas's ``toDataURL()``); its
    declared type is not trusted (:func:`check` sniffs the bytes)."""
    head, sep, payload = url.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        raise EvidenceRejected(400, field, "must be a data URL: data:image/png;base64,...")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise EvidenceRejected(400, field, "is not valid base64") from None
