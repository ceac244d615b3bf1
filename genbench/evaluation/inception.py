"""Inception-v3 weights for FID, IS, KID and precision/recall: found or fetched once, up front.

torch-fidelity's ``inception-v3-compat`` extractor would download its weights whenever it is built
without a path, and a download can hang where the network is filtered. So genbench decides before any
run whether the weights can be had, in this order: a local file (``--fid-weights`` /
``GENBENCH_FID_WEIGHTS``); torch-fidelity's file in the torch hub cache (where torch-fidelity itself
keeps it after a download); a download with a short socket timeout, only where downloads are allowed
(not ``GENBENCH_NO_DOWNLOAD``). The extractor then always gets an explicit path. When none works the
Inception metrics are left empty and the reason is recorded; every other metric is still computed.
"""

from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass
from pathlib import Path

import torch
from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3

from genbench.errors import UserError, one_line
from genbench.options.config import FID_WEIGHTS_ENV, NO_DOWNLOAD_ENV

EXTRACTOR_NAME = "inception-v3-compat"
WEIGHTS_URL = URL_INCEPTION_V3
WEIGHTS_FILE = URL_INCEPTION_V3.rsplit("/", 1)[-1]  # weights-inception-2015-12-05-6726825d.pth
WEIGHTS_HASH_PREFIX = WEIGHTS_FILE.rsplit("-", 1)[-1].split(".")[0]  # torch.hub's naming convention.
# The first and last parameters of torch-fidelity's FeatureExtractorInceptionV3: another file lacks them.
_EXPECTED_KEYS = ("Conv2d_1a_3x3.conv.weight", "fc.weight")
DOWNLOAD_TIMEOUT_SECONDS = 20.0  # Per socket operation: a dead network fails fast, a slow one goes on.


@dataclass(frozen=True)
class InceptionWeights:
    """Where the Inception weights are, or why there are none."""

    path: Path | None
    sha256: str | None = None
    source: str = ""  # "--fid-weights", "torch hub cache" or "downloaded".
    reason: str | None = None  # Why they are unavailable.

    @property
    def available(self) -> bool:
        """Whether the Inception metrics can be computed."""
        return self.path is not None

    @property
    def key(self) -> str:
        """Names cached statistics: different weights never share them."""
        return f"inception{(self.sha256 or 'none')[:16]}"

    def protocol(self) -> dict[str, object]:
        """What an Inception metric records about its extractor."""
        if not self.available:
            return {"extractor": f"torch-fidelity/{EXTRACTOR_NAME}", "unavailable": self.reason}
        return {
            "extractor": f"torch-fidelity/{EXTRACTOR_NAME}",
            "weights_sha256": self.sha256,
            "weights_source": self.source,
        }


def hub_weights_path() -> Path:
    """Where torch.hub (and so torch-fidelity) keeps the downloaded weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def resolve_inception_weights(
    explicit: Path | None, download: bool, timeout: float = DOWNLOAD_TIMEOUT_SECONDS
) -> InceptionWeights:
    """The Inception weights from ``explicit``, the hub cache or a download; never hangs longer than
    ``timeout`` seconds per network operation. Raises a :class:`UserError` only for an ``explicit``
    file that is not a weights file (the user named it); anything else is a reason in the result."""
    if explicit is not None:
        if (problem := weights_problem(Path(explicit))) is not None:
            raise UserError(
                f"--fid-weights/${FID_WEIGHTS_ENV} {explicit} is not an Inception weights file in "
                f"torch-fidelity's format ({problem}); pass {WEIGHTS_FILE} from {WEIGHTS_URL}"
            )
        return _found(Path(explicit), "--fid-weights")
    cached = hub_weights_path()
    if cached.is_file():
        if (problem := weights_problem(cached)) is not None:
            return InceptionWeights(None, reason=f"{cached} is damaged ({problem}); delete it")
        return _found(cached, "torch hub cache")
    where = f"no file at --fid-weights/${FID_WEIGHTS_ENV} or {cached}"
    if not download:
        off = f"downloads are off: ${NO_DOWNLOAD_ENV}"
        return InceptionWeights(None, reason=f"no Inception weights ({where}; {off})")
    try:
        _download(cached, timeout)
    except Exception as error:  # Whatever went wrong, the other metrics must still be computed.
        reason = f"Inception weights not downloaded ({one_line(error, 200)}; {where})"
        return InceptionWeights(None, reason=reason)
    return _found(cached, "downloaded")


def weights_problem(path: Path) -> str | None:
    """Why ``path`` is not torch-fidelity's Inception state dict (None if it is one): checked here, so
    a wrong file is one line before any run, not an unpickling traceback in the middle of one."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # Not a torch file, another pickle, a truncated download...
        return one_line(error, 120)
    if not isinstance(state, dict):
        return f"it holds a {type(state).__name__}, not a state dict"
    missing = [key for key in _EXPECTED_KEYS if key not in state]
    if missing:
        return f"no {', '.join(missing)}: another network's weights"
    return None


def _download(destination: Path, timeout: float) -> None:
    """torch.hub's download (to a temporary file, renamed into place; hash prefix checked), with a
    socket timeout: urllib, which it uses, otherwise waits forever on a silent network."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        torch.hub.download_url_to_file(
            WEIGHTS_URL, str(destination), hash_prefix=WEIGHTS_HASH_PREFIX, progress=False
        )
    finally:
        socket.setdefaulttimeout(previous)


def _found(path: Path, source: str) -> InceptionWeights:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return InceptionWeights(path, digest.hexdigest(), source)
