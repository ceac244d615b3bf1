"""Yes/no switches written as words (environment variables, ``--set model.flag=...``): the usual
spellings of true and false are accepted, anything else is a one-line user error, so that
``GENBENCH_NO_DOWNLOAD=0`` means "downloads on", not "set, so off"."""

from __future__ import annotations

from genbench.errors import UserError

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def parse_flag(text: str, what: str) -> bool:
    """``text`` as a boolean (case and surrounding blanks ignored); ``what`` names the switch in the
    error."""
    word = text.strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise UserError(f"{what} takes 1/0, true/false, yes/no or on/off, got {text!r}")


def env_flag(name: str) -> bool:
    """The environment variable ``name`` as a switch; unset is false, set but empty is refused
    (genbench.options.environment.env_value)."""
    from genbench.options.environment import env_value  # Here: environment imports this module.

    value = env_value(name)
    return False if value is None else parse_flag(value, name)
