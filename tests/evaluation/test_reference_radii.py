"""The reference's precision/recall radii, kept in the cache (genbench.evaluation.reference_radii): the
cached radii are bitwise those computed, so precision and recall with the cache are those without; a
second evaluation reads them instead of computing them; any change of what they depend on is another
entry; and a damaged entry is found, deleted and computed again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from genbench.core.checked_cache import digest_path
from genbench.evaluation.precision_recall import _radii, membership
from genbench.evaluation.reference_radii import FOLDER, cached_radii, radii_key, radii_path

NEIGHBOURHOOD, BATCH = 3, 128


def _features(n: int, seed: int, shift: float) -> torch.Tensor:
    """Rectified, correlated 64-d features like the reference classifier's."""
    basis = torch.randn(64, 64, generator=torch.Generator().manual_seed(99)) / 8
    latent = torch.randn(n, 64, generator=torch.Generator().manual_seed(seed)) * torch.linspace(2.0, 0.1, 64)
    return torch.relu(latent @ basis + shift).float()


GENERATED, REFERENCE = _features(500, 1, shift=0.3), _features(400, 2, shift=0.0)


def _computed() -> torch.Tensor:
    return _radii(REFERENCE, NEIGHBOURHOOD, BATCH)


def _not_computed() -> torch.Tensor:
    raise AssertionError("the radii were computed again where the cache had them")


def _entry(cache_root: Path) -> Path:
    return radii_path(cache_root, radii_key(REFERENCE, NEIGHBOURHOOD, BATCH))


def test_membership_with_the_cache_is_membership_without_it(tmp_path: Path) -> None:
    without = membership(GENERATED, REFERENCE, NEIGHBOURHOOD, BATCH)
    first = membership(GENERATED, REFERENCE, NEIGHBOURHOOD, BATCH, cache_root=tmp_path)  # Computes, keeps.
    second = membership(GENERATED, REFERENCE, NEIGHBOURHOOD, BATCH, cache_root=tmp_path)  # Reads.
    assert 0.05 < without.precision < 0.95 and 0.05 < without.recall < 0.95  # Neither all in nor all out.
    for found in (first, second):
        assert torch.equal(found.precision_terms, without.precision_terms)
        assert torch.equal(found.recall_terms, without.recall_terms)
    kept = _entry(tmp_path)
    assert sorted(path.name for path in (tmp_path / FOLDER).iterdir()) == [kept.name, digest_path(kept).name]


def test_a_second_evaluation_reads_the_radii_bitwise(tmp_path: Path) -> None:
    computed = cached_radii(REFERENCE, NEIGHBOURHOOD, BATCH, tmp_path, _computed)
    read = cached_radii(REFERENCE, NEIGHBOURHOOD, BATCH, tmp_path, _not_computed)
    assert torch.equal(read, _computed()) and torch.equal(computed, _computed())
    assert read.dtype == torch.float32 and read.device == REFERENCE.device


def test_whatever_the_radii_depend_on_names_another_entry() -> None:
    key = radii_key(REFERENCE, NEIGHBOURHOOD, BATCH)
    others = {
        radii_key(REFERENCE[1:], NEIGHBOURHOOD, BATCH),
        radii_key(REFERENCE + 1e-6, NEIGHBOURHOOD, BATCH),
        radii_key(REFERENCE.double(), NEIGHBOURHOOD, BATCH),
        radii_key(REFERENCE, NEIGHBOURHOOD + 1, BATCH),
        radii_key(REFERENCE, NEIGHBOURHOOD, BATCH * 2),
    }
    assert key not in others and len(others) == 5
    assert radii_key(REFERENCE.clone(), NEIGHBOURHOOD, BATCH) == key  # The values, not the object.


def _flipped_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x04
    path.write_bytes(bytes(data))


def _other_entry(path: Path) -> None:
    """Another entry's valid file, its SHA-256 recorded: only its key tells it apart."""
    other = path.parent.parent / "other"
    cached_radii(
        REFERENCE[:-1], NEIGHBOURHOOD, BATCH, other, lambda: _radii(REFERENCE[:-1], NEIGHBOURHOOD, BATCH)
    )
    source = radii_path(other, radii_key(REFERENCE[:-1], NEIGHBOURHOOD, BATCH))
    path.write_bytes(source.read_bytes())
    digest_path(path).write_bytes(digest_path(source).read_bytes())


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


DAMAGES: dict[str, Callable[[Path], None]] = {
    "flipped bit": _flipped_bit,
    "truncated": lambda path: path.write_bytes(path.read_bytes()[:100]),
    "empty, SHA-256 gone": lambda path: (path.write_bytes(b""), digest_path(path).unlink()),
    "another entry": _other_entry,
    "a folder": _folder,
    "a link to nothing": lambda path: (path.unlink(), path.symlink_to(path.parent / "nowhere")),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_entry_is_computed_again_and_replaced(tmp_path: Path, damage: str) -> None:
    cached_radii(REFERENCE, NEIGHBOURHOOD, BATCH, tmp_path, _computed)
    DAMAGES[damage](_entry(tmp_path))
    calls = []

    def counted() -> torch.Tensor:
        calls.append(1)
        return _computed()

    again = cached_radii(REFERENCE, NEIGHBOURHOOD, BATCH, tmp_path, counted)
    assert calls == [1] and torch.equal(again, _computed())
    # Replaced by an intact entry, read on the next evaluation.
    assert torch.equal(cached_radii(REFERENCE, NEIGHBOURHOOD, BATCH, tmp_path, _not_computed), _computed())


def test_an_entry_without_its_sha256_is_checked_by_content_and_recorded(tmp_path: Path) -> None:
    cached_radii(REFERENCE, NEIGHBOURHOOD, BATCH, tmp_path, _computed)
    digest_path(_entry(tmp_path)).unlink()  # Written just before a crash.
    assert torch.equal(cached_radii(REFERENCE, NEIGHBOURHOOD, BATCH, tmp_path, _not_computed), _computed())
    assert digest_path(_entry(tmp_path)).exists()


def test_without_a_cache_folder_nothing_is_kept(tmp_path: Path) -> None:
    calls = []
    for _ in range(2):
        cached_radii(REFERENCE, NEIGHBOURHOOD, BATCH, None, lambda: calls.append(1) or _computed())
    assert calls == [1, 1]
