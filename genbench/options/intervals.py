"""The recipe of every metric's 95% interval over a run's samples (genbench.evaluation.bootstrap computes
them): an option (``--bootstrap``, the number of resamples; 0: no intervals) and the constants each
metric's protocol records with its interval."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from genbench.errors import UserError

# Resamples of each interval's bootstrap by default: its standard error is then within about 5% of the
# one infinitely many resamples would give (relative error 1/sqrt(2 (B - 1))), and on a 2-core CPU the
# intervals of every offline metric add about a tenth to the evaluation of 10,000 samples at 28x28 (the
# README's Evaluation section has the measurement).
DEFAULT_RESAMPLES = 200
MAX_RESAMPLES = 100_000


@dataclass(frozen=True)
class IntervalSettings:
    """How every metric's interval over the run's samples is made; recorded in each metric's protocol."""

    resamples: int = DEFAULT_RESAMPLES  # 0: no intervals.
    seed: int = 0  # Of the resampling: the same samples give the same interval.
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if not 0 <= self.resamples <= MAX_RESAMPLES:
            raise UserError(f"--bootstrap must be from 0 to {MAX_RESAMPLES:,}, got {self.resamples}")
        if self.resamples == 1:  # A standard error needs two resamples at least.
            raise UserError("--bootstrap must be 0 (no intervals) or at least 2, got 1")

    @property
    def enabled(self) -> bool:
        """Whether metrics get intervals at all."""
        return self.resamples > 0

    def protocol(self, method: str) -> dict[str, Any]:
        """What a metric's protocol records of its interval: ``method`` says what is resampled."""
        return {"method": method, **asdict(self)}
