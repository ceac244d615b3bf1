"""docs/plugins.md documents the whole plugin API with its signatures, and its example model keeps the
contract: a plugin written from that page alone works."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

import genbench
import genbench.blocks
import genbench.testing
from genbench import api, hookspecs, tracking
from genbench.blocks import LatentModel
from genbench.contract import class_problem
from genbench.running.trackers import Trackers

DOC = (Path(__file__).parents[1] / "docs" / "plugins.md").read_text()


def _hooks() -> list[tuple[str, Any]]:
    return [(n, f) for n, f in vars(hookspecs).items() if getattr(f, f"{hookspecs.PROJECT_NAME}_spec", None)]


def _public(cls: type) -> list[tuple[str, Any]]:
    """The public methods and properties a class of the plugin API defines itself."""
    return [(f"{cls.__name__}.{n}", v) for n, v in vars(cls).items() if not n.startswith("_")]


API = [
    *_hooks(),
    *((name, getattr(genbench, name)) for name in genbench.__all__),
    *_public(api.Model),
    *_public(api.Dataset),
    *_public(api.DataShape),
    *_public(api.Split),
    *_public(tracking.Tracker),
    *_public(tracking.TrackedRun),
    *_public(LatentModel),  # What the scaffold's model and the built-in GANs subclass.
    *((f"testing.{name}", getattr(genbench.testing, name)) for name in genbench.testing.__all__),
]


def _parameters(obj: Any) -> list[str] | None:
    """The parameter names a documented call must show (``*args``, ``**kwargs`` with their stars);
    None for what is documented by name only (constants, properties, exceptions, decorators)."""
    if isinstance(obj, (classmethod, staticmethod)):
        obj = obj.__func__
    if isinstance(obj, type) and issubclass(obj, BaseException):
        return None
    if not (inspect.isfunction(obj) or isinstance(obj, type)):
        return None
    stars = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    params = inspect.signature(obj).parameters.values()
    return [stars.get(p.kind, "") + p.name for p in params if p.name not in ("self", "cls")]


def _calls(name: str) -> list[list[str]]:
    """The parameter lists of every ``name(...)`` in the page: each top-level argument's first word."""
    found = []
    for match in re.finditer(rf"(?<![\w.]){re.escape(name)}\(|\.{re.escape(name)}\(", DOC):
        depth, args, current = 1, [], ""
        for char in DOC[match.end() :]:
            depth += (char in "([{") - (char in ")]}")
            if depth == 0 or (depth == 1 and char == ","):
                args.append(current)
                current = ""
                if depth == 0:
                    break
            else:
                current += char
        words = [re.match(r"\s*(\**\w*)", arg).group(1) for arg in args]
        found.append([w for w in words if w])
    return found


@pytest.mark.parametrize(("name", "obj"), API, ids=[name for name, _ in API])
def test_every_plugin_api_name_is_documented_with_its_signature(name: str, obj: Any) -> None:
    short = name.rsplit(".", 1)[-1]
    parameters = None if "." in name and isinstance(obj, type) else _parameters(obj)  # Model.Hparams
    if parameters is None:
        assert re.search(rf"`[^`]*\b{re.escape(short)}\b[^`]*`", DOC), f"{name} is not in docs/plugins.md"
    else:
        calls = _calls(short)
        assert parameters in calls, f"docs/plugins.md never shows `{short}({', '.join(parameters)})`: {calls}"


def test_what_the_guide_says_genbench_blocks_offers_is_there() -> None:
    # Issue 21: the guide offered `adam`/`rmsprop` from genbench.blocks, which did not export them.
    offers = DOC.split("Building blocks: `genbench.blocks` offers")[1].split("docstrings.")[0]
    diffusion = DOC.split("For diffusion and flow models `genbench.blocks` offers")[1].split("\n## ")[0]
    names = re.findall(r"`(\w+)", offers) + re.findall(r"^- `(\w+)\(", diffusion, re.M)
    assert {"adam", "rmsprop", "ladder_plan", "eval_mode", "UNet", "EMA"} <= set(names)
    missing = [name for name in names if name not in genbench.blocks.__all__]
    assert not missing, f"docs/plugins.md says genbench.blocks offers {missing}"


def test_the_checker_sees_a_missing_signature() -> None:
    assert _calls("sample")  # The page shows sample(...).
    assert ["n", "generator", "labels"] in _calls("sample")
    assert _calls("no_such_function") == []


def test_the_example_model_keeps_the_contract() -> None:
    block = next(b for b in re.findall(r"```python\n(.*?)```", DOC, re.S) if "class MyGanModel(Model)" in b)
    namespace: dict[str, Any] = {}
    exec(compile(block, "docs/plugins.md", "exec"), namespace)
    genbench.testing.check_model(namespace["MyGanModel"], genbench.testing.SHAPES[:1])
    # Section 6's line checking it under other hyperparameters keeps the contract too.
    [hparams] = re.findall(r"model_contract_tests\(MyGanModel, hparams=(\{.*\})\)", DOC)
    shapes, overrides = genbench.testing.SHAPES[:1], ast.literal_eval(hparams)
    genbench.testing.check_model(namespace["MyGanModel"], shapes, hparams=overrides)
    with pytest.raises(genbench.UserError, match=r"my-gan\.lr must be positive"):
        namespace["MyGanModel"].resolve_hparams(lr=-1)


def test_the_example_tracker_keeps_the_contract_and_resumes_without_repeats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = next(b for b in re.findall(r"```python\n(.*?)```", DOC, re.S) if "class CsvTracker(Tracker)" in b)
    namespace: dict[str, Any] = {}
    exec(compile(block, "docs/plugins.md", "exec"), namespace)
    tracker_cls = namespace["CsvTracker"]
    assert class_problem("tracker", tracker_cls) is None
    monkeypatch.setenv("CSV_TRACKER_DIR", str(tmp_path / "csv"))
    warnings: list[str] = []
    trackers = Trackers([tracker_cls()], warnings.append, "run")
    run = tracking.TrackedRun("run", "d / m / seed 0", tmp_path, "d", "m", 0, {})
    trackers.start(run)
    for kimg in (0.1, 0.2, 0.3):  # Killed after 0.3 kimg, its checkpoint at 0.2.
        trackers.log_row({"kimg": kimg, "loss": kimg})
    trackers.start(dataclasses.replace(run, resumed_at=200))
    for kimg in (0.3, 0.4):
        trackers.log_row({"kimg": kimg, "loss": kimg})
    trackers.end(tracking.RunEnd("finished", 400, {"fd_clf_1k": 12.5}))
    rows = (tmp_path / "csv" / "run.csv").read_text().splitlines()
    assert [row for row in rows if ",loss," in row] == [f"{s},loss,{s / 1000}" for s in (100, 200, 300, 400)]
    assert rows[-1] == "400,final/fd_clf_1k,12.5" and warnings == []
