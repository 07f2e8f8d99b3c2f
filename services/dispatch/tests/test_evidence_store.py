"""The evidence store: images recognised by their content, kept once under their SHA-256,
written whole or not at all, refused over the limit."""
from __future__ import annotations

import hashlib
import os

import pytest

from services.dispatch.adapters import evidence as ev

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32


@pytest.mark.parametrize("data,kind", [(JPEG, "image/jpeg"), (PNG, "image/png"),
                                       (WEBP, "image/webp")])
def test_the_three_image_types_are_recognised_by_their_first_bytes(data, kind):
    assert ev.sniff(data) == kind
    assert ev.check(data, "photo") == kind


@pytest.mark.parametrize("data", [b"hello, this is text renamed photo.jpg", b"GIF89a" + b"\0" * 20,
                                  b"RIFF\x24\x00\x00\x00WAVEfmt ", b"%PDF-1.7", b"\xff\xd8"])
def test_anything_else_is_refused_naming_the_field(data):
    assert ev.sniff(data) is None
    with pytest.raises(ev.EvidenceRejected) as exc:
        ev.check(data, "photo")
    assert exc.value.status == 400 and exc.value.field == "photo"
    assert "JPEG, PNG or WebP" in exc.value.message


def test_empty_and_oversize_are_refused():
    with pytest.raises(ev.EvidenceRejected) as exc:
        ev.check(b"", "signature")
    assert (exc.value.status, exc.value.field) == (400, "signature")
    with pytest.raises(ev.EvidenceRejected) as exc:
        ev.check(JPEG + b"\0" * 100, "photo", limit=len(JPEG))
    assert exc.value.status == 413 and f"the limit is {len(JPEG)} bytes" in exc.value.message
    assert exc.value.as_doc()["errors"][0]["field"] == "photo"
    assert ev.check(JPEG, "photo", limit=len(JPEG)) == "image/jpeg"   # at the limit: fine


def test_the_id_is_the_sha256_and_the_same_bytes_are_stored_once(tmp_path):
    store = ev.FileStore(tmp_path)
    sha = store.put(JPEG)
    assert sha == hashlib.sha256(JPEG).hexdigest()
    assert store.path(sha) == tmp_path / sha[:2] / sha[2:4] / sha
    mtime = store.path(sha).stat().st_mtime_ns
    assert store.put(JPEG) == sha
    assert store.path(sha).stat().st_mtime_ns == mtime          # not written again
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [store.path(sha)]
    assert store.get(sha) == JPEG and store.exists(sha)
    other = store.put(PNG)
    assert other != sha and store.get(other) == PNG


def test_a_write_that_fails_leaves_neither_the_image_nor_a_temporary_file(tmp_path, monkeypatch):
    store = ev.FileStore(tmp_path)

    def broken_replace(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(ev.os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.put(PNG)
    assert not store.exists(hashlib.sha256(PNG).hexdigest())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_the_file_appears_by_rename_from_a_temporary_file_in_the_same_directory(tmp_path,
                                                                               monkeypatch):
    store = ev.FileStore(tmp_path)
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append((src, dst, os.path.getsize(src)))
        real(src, dst)
    monkeypatch.setattr(ev.os, "replace", spy)
    sha = store.put(WEBP)
    [(src, dst, size)] = seen
    assert os.path.dirname(src) == os.path.dirname(dst) == str(store.path(sha).parent)
    assert os.path.basename(src).startswith(".incoming-") and size == len(WEBP)


def test_ids_that_are_not_a_sha256_never_become_a_path(tmp_path):
    store = ev.FileStore(tmp_path)
    for bad in ("../../etc/passwd", "A" * 64, "abc", ""):
        with pytest.raises(ValueError):
            store.path(bad)


def test_the_store_of_the_settings(tmp_path):
    store = ev.store_for({"evidence_dir": str(tmp_path / "ev")})
    assert isinstance(store, ev.FileStore) and store.root == tmp_path / "ev"
    assert ev.max_bytes({}) == 8 * 1024 * 1024
    assert ev.max_bytes({"evidence_max_bytes": 1000}) == 1000


def test_left_unset_the_images_go_beside_the_sqlite_file(tmp_path):
    store = ev.store_for({"evidence_dir": "", "database_url": f"sqlite:///{tmp_path}/dispatch.db"})
    assert store.root == tmp_path / "evidence"
    store = ev.store_for({"database_url": "postgresql://x@h/d"})
    assert store.root.name == "evidence"


def test_a_data_url_gives_its_bytes_and_a_bad_one_is_refused_by_name():
    import base64
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert ev.from_data_url(url, "signature") == PNG
    for bad in ("iVBORw0KGgo=", "data:image/png,rawtext", "data:image/png;base64,***"):
        with pytest.raises(ev.EvidenceRejected) as exc:
            ev.from_data_url(bad, "signature")
        assert (exc.value.status, exc.value.field) == (400, "signature")
