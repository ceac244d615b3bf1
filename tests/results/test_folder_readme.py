"""The README.md a results folder gets on first use says what each of its files and folders is, and
says it as the repository's results/README.md does (issue 19: they described two layouts)."""

from __future__ import annotations

from pathlib import Path

from genbench.core import layout
from genbench.results.folder_readme import FOLDER_README, write_folder_readme

ROOT = Path(__file__).resolve().parents[2]


def test_the_repository_documents_the_folder_with_the_same_text() -> None:
    assert (ROOT / "results" / "README.md").read_text() == FOLDER_README


def test_every_file_and_folder_of_the_layout_is_explained_and_floors_have_one_place() -> None:
    names = [value for key, value in vars(layout).items() if key.isupper() and isinstance(value, str)]
    names += list(layout.FIGURES.values())
    for name in (name for name in names if name != layout.FLOOR_MODEL):
        assert f"`{name}" in FOLDER_README or f"/{name}" in FOLDER_README, name
    assert ".cache/floors" not in FOLDER_README


def test_it_is_written_once_and_never_over_someone_elses(tmp_path: Path) -> None:
    write_folder_readme(tmp_path)
    assert (tmp_path / "README.md").read_text() == FOLDER_README
    (tmp_path / "README.md").write_text("my notes")
    write_folder_readme(tmp_path)
    assert (tmp_path / "README.md").read_text() == "my notes"
