"""genbench.core.hashing: the one way keys and content hashes are made. The values are pinned: they are
the names of existing run folders and cache entries, computed by the code before it was shared."""

from __future__ import annotations

import torch

from genbench.api import Split
from genbench.core.hashing import stable_hash, tensor_sha256
from genbench.options.identity import data_sha256
from genbench.results.records import run_id, setup_hash

CONFIG = {
    "dataset": "digits",
    "model": "dcgan",
    "seed": 3,
    "budget": {"kimg": 2.5},
    "hparams": {"lr": 2e-4, "batch_size": 64},
    "data_sha256": "d" * 64,
}


def test_run_ids_and_experiment_hashes_are_what_they_were() -> None:
    assert run_id("digits", "dcgan", 3, CONFIG) == "digits-dcgan-seed3-6e088fbc0a"
    assert setup_hash(CONFIG) == "42aa5792b9"


def test_a_key_is_the_same_whatever_the_order_of_its_material() -> None:
    assert stable_hash({"b": [1, 2], "a": None}, 10) == "c5f84d13a2"  # A floor's length.
    assert stable_hash({"a": None, "b": [1, 2]}, 16) == "c5f84d13a25f42c9"  # The classifier's.
    assert stable_hash({"a": None, "b": [2, 1]}, 10) != "c5f84d13a2"


def _split() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (6, 1, 4, 4), dtype=torch.uint8, generator=generator)
    return images, torch.arange(6) % 3


def test_tensor_hashes_are_what_they_were() -> None:
    images, labels = _split()
    train, test = Split(images, labels), Split(images[:2].flip(0), labels[:2])
    # The run identity's data hash (with each tensor's dtype and shape).
    assert data_sha256(train, test) == "c0d5da8a037215c4585ea789b1e83a09199308f3a9b1ba8337344a3e1c374af8"
    # The classifier's key before it took the data hash: the train split's values alone.
    assert tensor_sha256(images, labels) == "3cf737d75316a889477ce62e173dfd239fea6c2ee84866b6dd8c8b72bb3e6308"
    # Reference images (torch-fidelity's cache names) and the floor's held-out images.
    assert tensor_sha256(images) == "26bcc8375311d910356ded5c55c273b6162815677edf571a4de4d1bbf23cd636"


def test_a_view_is_hashed_as_its_values() -> None:
    images, labels = _split()
    view = images.transpose(2, 3)
    assert not view.is_contiguous() and tensor_sha256(view) == tensor_sha256(view.contiguous())
    assert tensor_sha256(view) == "7c6504508be66da1674b0b0febe01425e23ad4fcf3de1144a9ff07f0a8216a01"
    expected = "71692c26ca93d4b471b5f79df8568487ba6af05e6dd4343a555c301982bac5d5"
    assert data_sha256(Split(view, labels)) == expected


def test_the_layout_tells_the_same_bytes_in_another_shape_apart() -> None:
    images, _ = _split()
    flat = images.reshape(6, 16)
    assert tensor_sha256(flat) == tensor_sha256(images)
    assert tensor_sha256(flat, layout=True) != tensor_sha256(images, layout=True)
