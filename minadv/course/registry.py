"""All graded exercises by name, in course order (the case modules define them).

The first twelve are the original exercises; then those of tutorials 00–04
(:mod:`.tutorial_cases_a`), 05–09 (:mod:`.tutorial_cases_b`) and 10 (:mod:`.certify_cases`).
Each exercise names its tutorial (``Exercise.tutorial``); none is posed in two tutorials.
"""

from __future__ import annotations

from .attack_cases import ATTACK_EXERCISES
from .backprop_cases import BACKPROP_EXERCISES
from .certify_cases import CERTIFY_EXERCISES
from .curvature_cases import CURVATURE_EXERCISES
from .grading import Exercise
from .numerics_cases import NUMERICS_EXERCISES
from .tutorial_cases_a import TUTORIAL_A_EXERCISES
from .tutorial_cases_b import TUTORIAL_B_EXERCISES

__all__ = ["EXERCISES", "get_exercise"]

EXERCISES: dict[str, Exercise] = {
    ex.name: ex for ex in (NUMERICS_EXERCISES + BACKPROP_EXERCISES + ATTACK_EXERCISES
                           + CURVATURE_EXERCISES + TUTORIAL_A_EXERCISES
                           + TUTORIAL_B_EXERCISES + CERTIFY_EXERCISES)}


def get_exercise(name: str) -> Exercise:
    """The exercise called ``name``; ValueError listing the names otherwise."""
    if not isinstance(name, str) or name not in EXERCISES:
        raise ValueError(f"name: expected one of {list(EXERCISES)}, got {name!r}.")
    return EXERCISES[name]
