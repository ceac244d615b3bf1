"""The training budget: the same for every model of a run."""

from __future__ import annotations

from dataclasses import dataclass

from genbench.errors import UserError


@dataclass(frozen=True)
class Budget:
    """The same training budget for every model of a run: thousands of real images shown (kimg),
    optionally capped by optimisation steps or wall-clock seconds, whichever comes first."""

    kimg: float
    steps: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if not self.kimg > 0:
            raise UserError(f"--kimg must be positive, got {self.kimg}")
        if self.steps is not None and self.steps <= 0:
            raise UserError(f"--steps must be a positive integer, got {self.steps}")
        if self.seconds is not None and not self.seconds > 0:
            raise UserError(f"--seconds must be positive, got {self.seconds}")

    @property
    def images(self) -> int:
        """The number of real images to show."""
        return round(self.kimg * 1000)

    def stop_reason(self, images_seen: int, steps: int, seconds: float) -> str | None:
        """Why training must stop now (``kimg``, ``steps`` or ``seconds``), or None to go on."""
        if images_seen >= self.images:
            return "kimg"
        if self.steps is not None and steps >= self.steps:
            return "steps"
        if self.seconds is not None and seconds >= self.seconds:
            return "seconds"
        return None
