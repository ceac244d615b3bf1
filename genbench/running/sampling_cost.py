"""What the cheap metric costs a model whose sampling is expensive, said once.

A diffusion or flow model draws each sample with tens of network evaluations: the cheap metric of
``--eval-every`` (``--n-eval`` samples, several times a run) can cost more than the training it watches
(1,000 samples at 100 steps took 340 s against 9 s of training in one measured case). A model declares
this with ``Model.expensive_sampling``; after its first evaluation the run says, once, what that
evaluation took and what the rest will take, so the user can choose a larger ``--eval-every`` or a
smaller ``--n-eval``. The seconds are the run's ``evaluation`` phase, never training time
(genbench.running.phase_timer).
"""

from __future__ import annotations

import math
from collections.abc import Callable


class SamplingCost:
    """Watches the cheap metric's seconds of a model with expensive sampling and says them once."""

    def __init__(
        self, expensive: bool, budget_kimg: float, every_kimg: float | None, announce: Callable[[str], None]
    ) -> None:
        self.expensive, self.budget_kimg, self.every_kimg = expensive, budget_kimg, every_kimg
        self.announce = announce
        self.said = not expensive or every_kimg is None  # Nothing to say: cheap, or no --eval-every.

    def observe(self, seconds: float, kimg_done: float, train_seconds: float) -> None:
        """One evaluation took ``seconds`` at ``kimg_done``, after ``train_seconds`` of training."""
        if self.said or self.every_kimg is None:
            return
        self.said = True
        # The evaluations still to come: one at each multiple of --eval-every before the end, and the
        # closing one at the end.
        first = math.floor(kimg_done / self.every_kimg) + 1
        last = math.ceil(self.budget_kimg / self.every_kimg) - 1
        left = max(0, last - first + 1) + 1
        self.announce(
            f"sampling is costly for this model: the cheap metric (--eval-every {self.every_kimg:g} kimg) "
            f"took {seconds:.1f} s; about {left} more take about {left * seconds:.0f} s (training so far: "
            f"{train_seconds:.1f} s), booked as evaluation, not training; a larger --eval-every or a "
            "smaller --n-eval makes it cheaper"
        )
