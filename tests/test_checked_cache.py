"""genbench.core.checked_cache: the one scheme of the classifier, floor, statistics and resume caches."""

from __future__ import annotations

from pathlib import Path

import pytest

from genbench.core.checked_cache import (
    Damaged,
    check_bytes,
    check_digest,
    digest_path,
    load_checked,
    remove,
    sha256_of,
    write_digest,
)


def test_a_file_is_checked_against_the_sha256_recorded_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "entry.json"
    path.write_text('{"fd": 1.5}')
    assert check_digest(path) is False  # Nothing recorded yet: nothing to check against.
    assert write_digest(path) == sha256_of(path.read_bytes())
    assert digest_path(path).name == "entry.json.sha256"
    assert check_digest(path) is True
    path.write_text('{"fd": 1.6}')  # Still valid JSON: only the checksum tells.
    with pytest.raises(Damaged, match=r"entry\.json does not match its recorded SHA-256"):
        check_digest(path)
    remove(path)
    assert not path.exists() and not digest_path(path).exists()


def test_a_given_sha256_is_checked_and_a_missing_file_is_damage(tmp_path: Path) -> None:
    path = tmp_path / "weights.pt"
    path.write_bytes(b"weights")
    assert check_digest(path, sha256_of(b"weights")) is True
    with pytest.raises(Damaged, match="does not match"):
        check_digest(path, sha256_of(b"other weights"))
    with pytest.raises(Damaged, match=r"other\.pt is missing"):
        check_digest(tmp_path / "other.pt", sha256_of(b"weights"))
    check_bytes(b"payload", sha256_of(b"payload"))
    with pytest.raises(Damaged, match="its SHA-256 does not match its content"):
        check_bytes(b"payload", None)


def test_damage_is_one_line_saying_what_happens_next() -> None:
    said: list[str] = []

    def damaged() -> None:
        raise Damaged("entry.json does not match its recorded SHA-256")

    def garbage() -> None:
        raise ValueError("Expecting value:\n line 1 column 1 " + "x" * 400)

    assert load_checked("cached floor f.json", lambda: 7, said.append, "computing it again") == 7
    assert load_checked("cached floor f.json", damaged, said.append, "computing it again") is None
    assert load_checked("checkpoint r.pt", garbage, said.append, "starting over") is None
    assert said[0] == (
        "cached floor f.json is damaged (entry.json does not match its recorded SHA-256); computing it again"
    )
    assert said[1].startswith("checkpoint r.pt is damaged (ValueError: Expecting value: line 1 column 1 x")
    assert said[1].endswith("…); starting over") and len(said[1]) < 260 and "\n" not in said[1]
