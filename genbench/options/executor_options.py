"""The options that say how a run asks Ray for resources only mean something with ``--executor ray``:
given with the local executor they would change nothing, so they are refused in one line rather than
accepted without a word (``--gpus-per-run 1`` does not put a local sweep on a GPU; ``--device`` does).

What a Ray cluster can give (GPUs per node) is checked once connected (genbench.running.ray_executor).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from genbench.errors import UserError

if TYPE_CHECKING:  # Only for the annotation: config imports this module.
    from genbench.options.config import RunOptions


def check_executor_options(options: RunOptions) -> None:
    """Refuse Ray's options with the local executor, and a GPU share Ray cannot schedule."""
    ray_only = {
        "--ray-address": options.ray_address,
        "--gpus-per-run": options.gpus_per_run,
        "--cpus-per-run": options.cpus_per_run,
    }
    given = [flag for flag, value in ray_only.items() if value is not None]
    if options.executor == "local" and given:
        them = "them" if len(given) > 1 else "it"
        raise UserError(
            f"{', '.join(given)} only {'apply' if len(given) > 1 else 'applies'} with --executor ray "
            f"(the local executor runs one run at a time on --device); add --executor ray or leave {them} out"
        )
    if options.ray_address is not None and not options.ray_address.strip():
        raise UserError("--ray-address is empty; give HOST:PORT of a Ray head node, or leave it out")
    gpus = options.gpus_per_run
    if gpus is not None and gpus > 1 and not float(gpus).is_integer():
        raise UserError(
            "--gpus-per-run above 1 must be a whole number of GPUs (Ray shares only single GPUs), "
            f"got {gpus:g}"
        )
