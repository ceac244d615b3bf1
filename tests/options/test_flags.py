"""Yes/no switches: the usual spellings of true and false, anything else one line naming the switch."""

from __future__ import annotations

import pytest

from genbench.errors import UserError
from genbench.options.config import RunOptions
from genbench.options.flags import env_flag, parse_flag


@pytest.mark.parametrize("text", ["1", "true", "True", "yes", "on", " ON "])
def test_true_spellings(text: str) -> None:
    assert parse_flag(text, "X") is True


@pytest.mark.parametrize("text", ["0", "false", "no", "off", "FALSE", ""])
def test_false_spellings(text: str) -> None:
    assert parse_flag(text, "X") is False


def test_anything_else_is_one_line_naming_the_switch() -> None:
    with pytest.raises(UserError, match=r"^X takes 1/0, true/false, yes/no or on/off, got 'maybe'$"):
        parse_flag("maybe", "X")


@pytest.mark.parametrize(("value", "download"), [(None, True), ("0", True), ("false", True), ("1", False)])
def test_no_download_reads_the_words_not_just_presence(
    monkeypatch: pytest.MonkeyPatch, value: str | None, download: bool
) -> None:
    if value is None:
        monkeypatch.delenv("GENBENCH_NO_DOWNLOAD", raising=False)
    else:
        monkeypatch.setenv("GENBENCH_NO_DOWNLOAD", value)
    assert env_flag("GENBENCH_NO_DOWNLOAD") is (not download)
    assert RunOptions().download is download


def test_a_bad_no_download_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENBENCH_NO_DOWNLOAD", "please")
    with pytest.raises(UserError, match=r"^GENBENCH_NO_DOWNLOAD takes 1/0"):
        RunOptions()
