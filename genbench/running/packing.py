"""Packs: the seeds of one model trained together in one process (``--pack``).

A pack's runs are stepped in turn: each training step (a captured block of steps on CUDA) of one run,
then of the next. Each run keeps its own copy of every global random generator, put in place before
its steps and taken back after them, so it draws exactly the initial weights, noise and data order it
draws alone; on CUDA each run also steps on a stream of its own, so that one run's kernels can run
while another's are queued (the device is otherwise nearly idle at 28x28). Once every run of the pack
has trained, each is sampled, evaluated and recorded in turn, as alone, in its own folder.

A model joins a pack only when it declares ``packable`` (genbench.testing.check_packing: all its
training state lives in its instance). Whether a pack pays is the device's matter: on a CPU a step
already uses every thread it is given, so ``auto`` packs nothing there (benchmarks/pack.py measures it);
on CUDA ``auto`` packs every seed of a model, as many as the free memory holds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import torch
from filelock import Timeout

from genbench.api import Model
from genbench.core.progress import ProgressSink
from genbench.core.record import RunRecord
from genbench.errors import Interrupted
from genbench.running.jobs import RunContext, RunJob
from genbench.running.resume import restore_rng_state, rng_state
from genbench.running.single_run import SingleRun
from genbench.running.stages import STEPPED, TRAINED, Stage, drive

# How the executor runs one run's stages, containing its failures (genbench.running.executor).
Contain = Callable[[RunContext, SingleRun], Generator[Stage, None, RunRecord]]

PACK_AUTO = "auto"
MAX_PACK = 64
# What a run needs on the device besides its training split: weights, gradients and two Adam moments
# per parameter (x4), and room for activations and workspace. An estimate, used only to bound auto.
STATES_PER_PARAMETER = 4
ACTIVATION_ALLOWANCE = 512 * 2**20
FREE_MEMORY_SHARE = 0.8  # Of the device's free memory, what auto may plan to use.


def pack_size(
    option: str, device: torch.device, job: RunJob, seeds: int, free_bytes: int | None = None
) -> tuple[int, str | None]:
    """How many of a model's ``seeds`` runs train together, and why fewer than asked (or None).
    ``free_bytes``: the device's free memory, which bounds ``auto`` on CUDA (None: not known here, as
    for a Ray cluster's GPUs seen from the driver)."""
    model_cls: type[Model] = job.model_entry.cls
    reason = None
    if option != PACK_AUTO:
        asked = min(int(option), seeds)
    elif device.type != "cuda":
        asked = 1
    elif free_bytes is None:
        asked = seeds
    else:
        fits = max(1, int(FREE_MEMORY_SHARE * free_bytes // run_bytes(job)))
        asked = min(seeds, fits)
        if asked < seeds:
            reason = f"the device's free memory holds about {fits} of its runs at once"
    if asked > 1 and not model_cls.packable:
        return 1, f"model '{job.model_entry.name}' does not declare packable: its seeds train one by one"
    return asked, reason


def run_bytes(job: RunJob) -> int:
    """About what one run holds on the device: its training split and its optimizers' states."""
    with torch.device("meta"):
        model = job.model_entry.cls(job.data.shape, job.hparams)
    parameters = sum(p.numel() * p.element_size() for p in model.parameters())
    return job.data.train.images.nbytes + STATES_PER_PARAMETER * parameters + ACTIVATION_ALLOWANCE


def packs(jobs: list[RunJob], size_of: Callable[[list[RunJob]], int]) -> list[list[RunJob]]:
    """``jobs`` cut into packs: consecutive runs of one model, dataset and setup (differing only in
    their seed), at most ``size_of(those runs)`` each; the order is kept."""
    groups: list[list[RunJob]] = []
    for job in jobs:
        key = (job.spec.dataset, job.spec.model, job.spec.setup)
        last = groups[-1][0].spec if groups else None
        if last is not None and (last.dataset, last.model, last.setup) == key:
            groups[-1].append(job)
        else:
            groups.append([job])
    cut = []
    for group in groups:
        size = size_of(group)
        cut += [group[start : start + size] for start in range(0, len(group), size)]
    return cut


def cut_packs(
    option: str,
    jobs: list[RunJob],
    device: torch.device,
    announce: Callable[[str], None],
    free_bytes: int | None = None,
) -> list[list[RunJob]]:
    """``jobs`` cut into packs as ``--pack`` (``option``) asks on ``device`` (:func:`pack_size`), each
    model whose pack is smaller than asked said once, with why; every executor's one way."""

    def size_of(group: list[RunJob]) -> int:
        size, reason = pack_size(option, device, group[0], len(group), free_bytes)
        if reason is not None:
            announce(f"{group[0].spec.dataset}/{group[0].spec.model}: --pack {option}: {reason}")
        return size

    return packs(jobs, size_of)


def pack_label(jobs: list[RunJob]) -> str:
    """``fashion-mnist/dcgan seeds 0,1,2``: what a pack's bar and messages call it."""
    first = jobs[0].spec
    return f"{first.dataset}/{first.model} seeds {','.join(str(job.spec.seed) for job in jobs)}"


class PackProgress:
    """One bar for a pack's training: the least advanced of its runs, labelled with every seed."""

    def __init__(self, sink: ProgressSink, label: str) -> None:
        self.sink, self.label = sink, label
        self.done: dict[int, float] = {}  # Of the runs whose bars are open.

    def member(self, index: int) -> ProgressSink:
        """The bar run ``index`` of the pack reports to."""
        return _MemberBar(self, index)

    def start(self, index: int, total: float, unit: str, done: float) -> None:
        if not self.done:
            self.sink.start(self.label, total, unit, done)
        self.done[index] = done

    def update(self, index: int, done: float, steps: int, logs: dict[str, float] | None) -> None:
        self.done[index] = done
        if index == min(self.done):  # The pack's first open run speaks for it: one update per round.
            self.sink.update(min(self.done.values()), steps, logs)

    def stop(self, index: int) -> None:
        self.done.pop(index, None)
        if not self.done:
            self.sink.stop()


@dataclass
class _MemberBar:
    pack: PackProgress
    index: int

    def start(self, label: str, total: float, unit: str = "kimg", done: float = 0.0) -> None:
        self.pack.start(self.index, total, unit, done)

    def update(self, done: float, steps: int, logs: dict[str, float] | None = None) -> None:
        self.pack.update(self.index, done, steps, logs)

    def stop(self) -> None:
        self.pack.stop(self.index)


@dataclass
class Member:
    """One run of a pack (any generator of stages: a run, or a bare training loop in benchmarks/): its
    own generators' state and, on CUDA, its stream."""

    stages: Generator[Stage, None, Any]
    stream: Any = None  # torch.cuda.Stream on CUDA.
    rng: dict[str, Any] | None = None  # None until its first step: the run seeds them itself.
    result: Any = None  # What the stages returned.
    stage: Stage | None = None
    finished: bool = False

    def advance(self) -> None:
        """Take the run to its next pause (or its end) under its own generators and stream."""
        if self.rng is not None:
            restore_rng_state(self.rng)
        try:
            with self._on_stream():
                self.stage = next(self.stages)
        except StopIteration as end:
            self.result, self.finished = end.value, True
        except BaseException:
            self.finished = True  # Its stages raised: they are over.
            raise
        finally:
            self.rng = rng_state()

    def _on_stream(self) -> contextlib.AbstractContextManager[Any]:
        return torch.cuda.stream(self.stream) if self.stream is not None else contextlib.nullcontext()


def step_in_turn(members: list[Member]) -> None:
    """Advance each member in turn until every one has trained (or ended: failed, diverged, nothing
    left to train)."""
    training = list(members)
    while training:
        for member in list(training):
            member.advance()
            if member.finished or member.stage == TRAINED:
                training.remove(member)


def member_stream(device: torch.device) -> Any:
    """A stream of its own for a pack's member on CUDA; None elsewhere."""
    return torch.cuda.Stream(device) if device.type == "cuda" else None


def run_pack(context: RunContext, jobs: list[RunJob], contain: Contain) -> dict[str, RunRecord | None]:
    """Reuse or do every run of the pack under its folder's lock; returns each run's record by id, None
    for a run another process holds (the caller comes back to it). ``contain`` wraps a run's stages
    as genbench.running.executor contains a run alone."""
    from genbench.running.executor import reuse  # The executor imports this module for its packs.

    records: dict[str, RunRecord | None] = {}
    with ExitStack() as locks:
        todo = []
        for job in jobs:
            try:
                locks.enter_context(job.folder.lock(timeout=0))
            except Timeout:
                context.announce(f"{job.run_id}: another process is running it; coming back to it later")
                records[job.run_id] = None
                continue
            job.folder.remove_leftovers()
            records[job.run_id] = reuse(context, job.folder)
            if records[job.run_id] is None:
                todo.append(job)
        records |= _train_and_score(context, todo, contain)
    return records


def _train_and_score(
    context: RunContext, jobs: list[RunJob], contain: Contain
) -> dict[str, RunRecord | None]:
    """Step the runs in turn until each has trained (or failed), then score each in turn."""
    if len(jobs) < 2:  # The others were finished already: what is left trains alone.
        return {job.run_id: drive(contain(context, SingleRun(job, context))) for job in jobs}
    members = _members(context, jobs, contain)
    try:
        # Step every run in turn until each has trained or ended (failed, diverged, nothing to train).
        step_in_turn(members)

        # Sample, evaluate and record each run in turn, as alone.
        for member in members:
            while not member.finished:
                member.advance()
    except Interrupted:
        # A signal: every run still training takes its step, saves its resume checkpoint and stops.
        for member in members:
            if not member.finished and member.stage == STEPPED:
                with contextlib.suppress(Interrupted):
                    member.advance()
        raise
    finally:
        for member in members:  # Any other way out: the runs that did not end keep their checkpoints.
            if not member.finished:
                member.stages.close()
    return {job.run_id: member.result for job, member in zip(jobs, members, strict=True)}


def _members(context: RunContext, jobs: list[RunJob], contain: Contain) -> list[Member]:
    label = pack_label(jobs)
    progress = PackProgress(context.progress, label)
    pack = {"size": len(jobs), "seeds": [job.spec.seed for job in jobs]}
    members = []
    for index, job in enumerate(jobs):
        run = SingleRun(job, context)
        run.train_progress = progress.member(index)
        run.pack = pack
        members.append(Member(contain(context, run), member_stream(context.device)))
    context.announce(f"{label}: training together, each as alone (a pack of {len(jobs)})")
    return members
