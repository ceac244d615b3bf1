"""Real images made progressively worse, for the metric checks (genbench.testing.metric_checks): pixel
noise, blur and mode dropping, each at levels from mild to severe, each seeded.

These are the perturbations of the metric-validation literature: additive Gaussian noise and Gaussian
blur (Heusel et al. 2017, figure 1; dgm-eval, Stein et al. 2023) lower sample quality; keeping fewer
classes at the same sample count (Kynkäänniemi et al. 2019; Naeem et al. 2020) lowers diversity only.
"""

from __future__ import annotations

import torch
from torchvision.transforms.v2.functional import gaussian_blur

from genbench.api import Split

NOISE_LEVELS = (0.05, 0.15, 0.4)  # Gaussian noise's standard deviation, as a fraction of 255.
BLUR_LEVELS = (0.6, 1.0, 2.0)  # Gaussian blur's sigma in pixels.
KEPT_CLASSES = (0.6, 0.3)  # The fraction of the classes kept (at least one), mildest first.
SEED = 0


def noisy(images: Split, level: float) -> Split:
    """``images`` with Gaussian noise of standard deviation ``level`` × 255, rounded and clipped."""
    noise = torch.randn(images.images.shape, generator=torch.Generator().manual_seed(SEED))
    noised = (images.images.float() + level * 255 * noise).round().clamp(0, 255).to(torch.uint8)
    return Split(noised, images.labels)


def blurred(images: Split, sigma: float) -> Split:
    """``images`` blurred by a Gaussian of ``sigma`` pixels (a kernel of about ±3 sigma, odd)."""
    kernel = 2 * max(1, round(3 * sigma)) + 1
    smoothed = gaussian_blur(images.images.float(), kernel_size=[kernel, kernel], sigma=[sigma, sigma])
    return Split(smoothed.round().clamp(0, 255).to(torch.uint8), images.labels)


def mode_dropped(images: Split, kept: float) -> Split:
    """As many images as ``images``, drawn (seeded, with replacement) from the first ``kept`` fraction
    of its classes only: every image real, fewer modes."""
    classes = torch.unique(images.labels)
    keep = classes[: max(1, round(kept * len(classes)))]
    pool = torch.nonzero(torch.isin(images.labels, keep)).flatten()
    picked = pool[torch.randint(len(pool), (len(images),), generator=torch.Generator().manual_seed(SEED))]
    return Split(images.images[picked], images.labels[picked])


DEGRADATIONS = {
    "noise": (noisy, NOISE_LEVELS),
    "blur": (blurred, BLUR_LEVELS),
    "mode_drop": (mode_dropped, KEPT_CLASSES),
}
"""Each degradation by its check's name: the function and its levels, mildest first."""
