"""Options that take a comma-separated list on the command line: ``--models dcgan,vae``, ``--seeds 0,1``."""

from __future__ import annotations

from genbench.errors import UserError


def parse_list(text: str, option: str) -> tuple[str, ...]:
    """``"a,b, c"`` -> ``("a", "b", "c")``."""
    items = tuple(part.strip() for part in text.split(","))
    if not all(items):
        raise UserError(f"{option} takes a comma-separated list without empty items, got {text!r}")
    return items


def parse_repeated_lists(texts: list[str], option: str) -> tuple[str, ...]:
    """A repeatable option of comma-separated lists: ``["a,b", "c"]`` -> ``("a", "b", "c")``."""
    return tuple(item for text in texts for item in parse_list(text, option))


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` -> ``(0, 1, 2)``; seeds are non-negative integers."""
    seeds = []
    for item in parse_list(text, "--seeds"):
        # isdigit() alone admits '¹' and other digits int() refuses.
        if not (item.isascii() and item.isdigit()):
            raise UserError(f"--seeds takes non-negative integers like 0,1,2, got {item!r}")
        seeds.append(int(item))
    return tuple(seeds)
