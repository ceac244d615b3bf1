"""genbench.errors.one_line: the one way an error is written into a message."""

from __future__ import annotations

from genbench.errors import one_line


def test_an_error_is_its_type_and_message_on_one_line() -> None:
    error = RuntimeError("shape mismatch\n  in layer 3\t(expected 4)")
    assert one_line(error) == "RuntimeError: shape mismatch in layer 3 (expected 4)"
    assert one_line(KeyError("lr")) == "KeyError: 'lr'"
    assert one_line(ValueError()) == "ValueError:"


def test_a_limit_cuts_the_line_and_says_so() -> None:
    error = OSError("x" * 500)
    line = one_line(error, 200)
    assert len(line) == 200 and line.startswith("OSError: xxx") and line.endswith("…")
    assert one_line(OSError("short"), 200) == "OSError: short"  # Nothing cut, no ellipsis.
