"""The runner catches at run time what genbench.testing catches in a plugin's tests (issue 13): samples
outside [-1, 1] are counted and recorded, float logs are explained, a plugin's own hyperparameter
validation and a dataset that returns no Split are one-line errors naming the plugin."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import fakes
import pytest
import torch
from typer.testing import CliRunner

from genbench.cli import app
from genbench.running.training import _mean_logs, _test_estimates

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("one_thread")  # See conftest.one_thread.

PLUGIN = """
    from dataclasses import dataclass

    from fakes import Bars, PixelGaussian
    from genbench import hookimpl


    class FloatLogs(PixelGaussian):
        name = "float-logs"

        def train_step(self, images, labels):
            return {"loss_d": super().train_step(images, labels)["loss"].item()}


    class NoTanh(PixelGaussian):
        name = "no-tanh"

        def sample(self, n, generator, labels=None):
            return super().sample(n, generator, labels) * 2


    class Checked(PixelGaussian):
        name = "checked"

        @dataclass
        class Hparams(PixelGaussian.Hparams):
            def __post_init__(self):
                if self.lr <= 0:
                    raise ValueError(f"lr must be positive, got {self.lr}")


    class Tuples(Bars):
        name = "tuples"

        def load(self, split):
            loaded = super().load(split)
            return loaded.images, loaded.labels


    @hookimpl
    def register_models():
        return [FloatLogs, NoTanh, Checked]


    @hookimpl
    def register_datasets():
        return [Tuples]
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sloppy_plugin.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("GENBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("GENBENCH_PLUGINS", "fakes,sloppy_plugin")
    monkeypatch.setenv("COLUMNS", "250")


def test_float_logs_say_what_to_return() -> None:
    # Issue 13: AttributeError: 'float' object has no attribute 'detach', deep in _mean_logs.
    with pytest.raises(TypeError) as error:
        _mean_logs([{"loss_d": torch.tensor(0.25)}, {"loss_d": 0.5}])
    assert str(error.value) == (
        "train_step returned 'loss_d' as a Python float (0.5), not a tensor; return loss.detach(), "
        "not loss.item(): reading a number waits for the device every step"
    )

    class FloatEstimates(fakes.PixelGaussian):
        def estimate(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"nll": float(self._nll(images))}  # type: ignore[dict-item]

    model = FloatEstimates.build(fakes.Bars.shape)
    test = fakes.Bars(Path()).load("test")
    with pytest.raises(TypeError, match=r"^estimate returned 'nll' as a Python float \(.*\), not a tensor"):
        _test_estimates(model, (test.images, test.labels), torch.device("cpu"))


def test_out_of_range_samples_are_recorded_and_float_logs_explained(plugin: None, tmp_path: Path) -> None:
    out = tmp_path / "results"
    args = ["run", "--models", "no-tanh,pixel-gaussian,float-logs", "--data", "bars", "--kimg", "1"]
    result = runner.invoke(
        app, [*args, "--n-samples", "200", "--metrics", "fd_clf", "--quiet", "--out", str(out)]
    )
    assert result.exit_code == 1, result.output  # float-logs failed; the others finished.
    records = {r["model"]: r for r in map(json.loads, map(Path.read_text, out.glob("runs/*/metrics.json")))}
    assert records["float-logs"]["status"] == "failed"
    assert "'loss_d' as a Python float" in records["float-logs"]["error"]
    assert "return loss.detach(), not loss.item()" in records["float-logs"]["error"]
    # Issue 13: samples out of [-1, 1] were clamped silently; the record now says how many there were.
    assert records["no-tanh"]["status"] == "finished"
    assert 0.05 < records["no-tanh"]["samples_out_of_range"] < 1
    assert records["pixel-gaussian"]["samples_out_of_range"] == 0
    fraction = f"{records['no-tanh']['samples_out_of_range']:.1%}"
    warning = f"{fraction} of the values of the samples of model 'no-tanh' lie outside [-1, 1]"
    assert result.stderr.count(warning) == 1 and result.stderr.count("lie outside [-1, 1]") == 1


def test_a_plugins_hyperparameter_validation_is_one_line_naming_it(plugin: None, tmp_path: Path) -> None:
    # Issue 13: a ValueError from the plugin's __post_init__ was an uncaught traceback on --set.
    result = runner.invoke(app, ["run", "--models", "checked", "--data", "bars", "--set", "checked.lr=-1"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: model 'checked' (sloppy_plugin) refuses lr=-1.0: ValueError: lr must be positive, got -1.0\n"
    )


def test_a_dataset_that_returns_no_split_is_one_line_naming_it(plugin: None, tmp_path: Path) -> None:
    # Issue 13: a dataset whose load returned a tuple gave a raw traceback.
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", "--models", "pixel-gaussian", "--data", "tuples", "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: dataset 'tuples' (sloppy_plugin), train split: load returned a tuple, not a genbench.Split; "
        "return Split(images, labels)\n"
    )
