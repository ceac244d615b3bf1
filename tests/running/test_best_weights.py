"""best.pt across a resume (issue 23): a resumed run keeps the best weights its checkpoint or their own
record vouch for, and says any other bytes are damage, even bytes that still load."""

from __future__ import annotations

from pathlib import Path

import torch

from genbench.core.checked_cache import digest_path
from genbench.core.files import atomic_torch_save
from genbench.running.best_weights import best_problem, save_best, vouched_sha256


def _weights(value: float) -> dict[str, dict[str, torch.Tensor]]:
    return {"networks": {"w": torch.full((64,), value)}}


def test_the_checkpoints_best_and_a_later_best_are_both_kept(tmp_path: Path) -> None:
    best = tmp_path / "best.pt"
    save_best(best, _weights(1.0))
    at_checkpoint = vouched_sha256(best)  # What the resume checkpoint records.
    assert best_problem(best, at_checkpoint) is None
    # A better evaluation after the checkpoint replaced it; the replayed steps reach it again.
    save_best(best, _weights(2.0))
    assert best_problem(best, at_checkpoint) is None
    assert torch.load(best, weights_only=True)["model"]["networks"]["w"][0] == 2.0


def test_a_save_cut_short_leaves_weights_the_checkpoint_vouches_for(tmp_path: Path) -> None:
    best = tmp_path / "best.pt"
    save_best(best, _weights(1.0))
    at_checkpoint = vouched_sha256(best)
    digest_path(best).write_text("0" * 64 + "\n")  # The next save's record landed, its weights did not.
    assert best_problem(best, at_checkpoint) is None


def test_other_valid_weights_or_a_flipped_bit_are_damage(tmp_path: Path) -> None:
    best = tmp_path / "best.pt"
    save_best(best, _weights(1.0))
    at_checkpoint = vouched_sha256(best)
    atomic_torch_save(best, {"model": _weights(3.0)})  # Loads fine, but nobody wrote it as the best.
    assert best_problem(best, at_checkpoint) == "does not match the SHA-256 recorded for the best weights"
    save_best(best, _weights(1.0))
    data = bytearray(best.read_bytes())
    data[bytes(data).index(torch.full((64,), 1.0).numpy().tobytes()) + 9] ^= 1  # In the tensor data:
    # torch.load does not notice.
    best.write_bytes(bytes(data))
    torch.load(best, weights_only=True)
    assert best_problem(best, at_checkpoint) is not None
    best.unlink()
    assert best_problem(best, at_checkpoint) == "is missing"
    best.mkdir()
    assert best_problem(best, at_checkpoint) is not None


def test_a_checkpoint_from_before_the_records_falls_back_to_whether_it_loads(tmp_path: Path) -> None:
    best = tmp_path / "best.pt"
    atomic_torch_save(best, {"model": _weights(1.0)})  # No record beside it, none in the checkpoint.
    assert best_problem(best, None) is None
    best.write_bytes(b"not a checkpoint")
    assert best_problem(best, None) == "is missing or damaged"
