"""genbench.core.hashing: the one way keys and content hashes are made. The values are pinned: they are
the names of existing run folders and cache entries, computed by the code before it was shared."""

from __future__ import annotations

from genbench.core.hashing import stable_hash
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
