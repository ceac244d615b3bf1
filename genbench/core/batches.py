"""Random minibatches of a split, served from the training device.

When the split fits in device memory it is kept there as uint8 and batches are indexed, converted
and scaled on the device: no host round trip and no DataLoader per step.
"""

from __future__ import annotations

from typing import Any

import torch

from genbench.api import Split
from genbench.core.images import to_unit_range

# Keep a split on the GPU only when it takes at most this share of the free memory.
_MAX_SHARE_OF_FREE_MEMORY = 0.25


def fits_on_device(split: Split, device: torch.device) -> bool:
    """Whether the split's uint8 images may live on ``device`` for the whole run."""
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    return split.images.nbytes <= _MAX_SHARE_OF_FREE_MEMORY * free


class DeviceBatches:
    """Shuffled epochs of minibatches in [-1, 1] with labels, drawn with a seeded generator."""

    def __init__(self, split: Split, device: torch.device, seed: int) -> None:
        self.device = device
        self.on_device = fits_on_device(split, device)
        store = device if self.on_device else torch.device("cpu")
        self.images = split.images.to(store)
        self.labels = split.labels.to(store)
        if not self.on_device and device.type == "cuda":
            self.images, self.labels = self.images.pin_memory(), self.labels.pin_memory()
        self.generator = torch.Generator(store).manual_seed(seed)
        self._order = torch.empty(0, dtype=torch.long, device=store)
        self._cursor = 0

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def next(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The next batch; a new permutation starts when the current one has no full batch left."""
        batch_size = min(batch_size, len(self))
        if self._cursor + batch_size > len(self._order):
            self._order = torch.randperm(len(self), generator=self.generator, device=self.images.device)
            self._cursor = 0
        index = self._order[self._cursor : self._cursor + batch_size]
        self._cursor += batch_size
        images, labels = self.images[index], self.labels[index]
        if not self.on_device:
            images = images.to(self.device, non_blocking=True)
            labels = labels.to(self.device, non_blocking=True)
        return to_unit_range(images), labels

    def state_dict(self) -> dict[str, Any]:
        """Where in which shuffled epoch the draw is: enough to continue the same sequence of batches."""
        return {"generator": self.generator.get_state(), "order": self._order.cpu(), "cursor": self._cursor}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue the sequence saved by :meth:`state_dict`."""
        self.generator.set_state(state["generator"])
        self._order = state["order"].to(self.images.device)
        self._cursor = int(state["cursor"])
