"""``--track tensorboard``: the event files in a run folder, read back as TensorBoard reads them, hold
train.jsonl's rows at their step, the pictures at the evaluation points, and the configuration and
final metrics for HParams."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from genbench.cli import app
from genbench.core.files import read_jsonl

pytest.importorskip("tensorboard")
from tensorboard.plugins.hparams import plugin_data_pb2
from tensorboard_events import events, expected_series, scalar_series

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny run tracked by TensorBoard: its folder."""
    out = tmp_path_factory.mktemp("tensorboard")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
        patch.setenv("GENBENCH_PLUGINS", "fakes,genbench_builtin.trackers")
        args = ["run", "--models", "pixel-gaussian", "--data", "bars", "--kimg", "1", "--n-samples", "200"]
        args += ["--metrics", "fd_clf", "--set", "pixel-gaussian.lr=0.1", "--quiet", "--out", str(out)]
        result = runner.invoke(app, [*args, "--track", "tensorboard"])
    assert result.exit_code == 0, result.output
    (folder,) = (out / "runs").iterdir()
    return folder


def test_the_scalars_are_the_rows_of_train_jsonl_at_their_step(tracked: Path) -> None:
    assert list(tracked.glob("events.out.tfevents.*"))  # In the run folder: the run's name in TensorBoard.
    rows = read_jsonl(tracked / "train.jsonl")
    assert scalar_series(events(tracked), ("train/", "test/", "eval/")) == expected_series(rows)


def test_the_pictures_are_there_at_each_evaluation(tracked: Path) -> None:
    accumulator, record = events(tracked), json.loads((tracked / "metrics.json").read_text())
    evaluated = [
        round(row["kimg"] * 1000) for row in read_jsonl(tracked / "train.jsonl") if "eval/fd_clf_1k" in row
    ]
    shown = [event.step for event in accumulator.Images("pictures/fixed_latents")]
    assert len(evaluated) >= 10 and set(evaluated) <= set(shown)
    assert shown == [round(kimg * 1000) for kimg in record["progress_kimg"]]  # Each snapshot, once.
    for name in ("progress", "samples"):
        (final,) = accumulator.Images(f"pictures/{name}")
        assert final.step == shown[-1] and final.width > 100


def test_hparams_hold_the_configuration_and_the_final_metrics(tracked: Path) -> None:
    accumulator, record = events(tracked), json.loads((tracked / "metrics.json").read_text())
    content = accumulator.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hparams = start.session_start_info.hparams
    assert hparams["model"].string_value == "pixel-gaussian" and hparams["dataset"].string_value == "bars"
    assert hparams["hparams.lr"].number_value == 0.1 and hparams["training.budget.kimg"].number_value == 1
    assert hparams["label"].string_value == "bars / pixel-gaussian / seed 0 / lr=0.1"
    assert hparams["evaluation.metrics"].string_value == '["fd_clf"]'
    end = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_end_info"])
    assert end.session_end_info.status == 1  # STATUS_SUCCESS
    (final,) = accumulator.Scalars("final/fd_clf_200")
    assert final.value == pytest.approx(record["metrics"]["fd_clf_200"], rel=1e-6)
    assert accumulator.Scalars("eval/fd_clf_1k")[-1].step == final.step
