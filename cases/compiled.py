"""The list pages' queries compiled once: the class lives in core/compiled.py (the header and the middleware use it
too); kept here under its old name for the case pages' modules."""

from core.compiled import STAND_IN, CompiledQuery  # noqa: F401
