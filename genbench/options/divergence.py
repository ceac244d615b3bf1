"""The divergence estimators' recipe (genbench.evaluation.divergence trains them): an option
(``--divergence-steps``) and the constants every estimate records in its protocol."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from genbench.errors import UserError

ESTIMATOR_ARCHITECTURE = "nnd-conv-v1"  # The divergence estimators' network (genbench.evaluation.divergence).


@dataclass(frozen=True)
class DivergenceSettings:
    """The recipe shared by every model's estimates; recorded in each metric's protocol."""

    steps: int = 300  # Optimisation steps of each estimator.
    batch_size: int = 64  # Real and generated images per step (each).
    width: int = 16  # Channels of the first conv layer; doubled twice.
    classifier_lr: float = 5e-4
    critic_lr: float = 5e-4
    gp_weight: float = 10.0
    max_per_half: int = 5000  # Cap on images per side and half: bounds the cost on large splits.
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise UserError(f"--divergence-steps must be at least 1, got {self.steps}")
        if self.batch_size < 1 or self.width < 1 or self.max_per_half < 2:
            raise UserError("divergence batch_size and width must be positive and max_per_half at least 2")

    def protocol(self) -> dict[str, object]:
        """What an estimate records about how it was made."""
        return {"architecture": ESTIMATOR_ARCHITECTURE, **asdict(self)}
