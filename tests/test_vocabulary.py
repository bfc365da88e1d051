"""One name for each idea: every public signature and CLI option uses ``docs/vocabulary.md``'s
names, and no retired synonym remains; every public function takes <= 5 positional
parameters (keyword-only configuration)."""

import argparse
import dataclasses
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import minadv
from minadv.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
RETIRED_LINE = re.compile(r"^- `(\w+)` → `(\w+)`")


def retired_names() -> dict[str, str]:
    """``old -> new`` from the "Retired names" list of docs/vocabulary.md."""
    text = (ROOT / "docs" / "vocabulary.md").read_text(encoding="utf-8")
    pairs = dict(m.groups() for line in text.splitlines() if (m := RETIRED_LINE.match(line)))
    assert len(pairs) >= 10, pairs                       # the list was parsed, not skipped
    return pairs


def public_modules():
    """Every module of the package (tests run on the source tree)."""
    names = ["minadv"] + [m.name for m in pkgutil.walk_packages(minadv.__path__, "minadv.")]
    return [importlib.import_module(n) for n in names if not n.endswith("__main__")]


def public_callables():
    """``(qualified name, callable)`` for every public function, class (its ``__init__`` and
    dataclass fields) and public method defined in minadv."""
    seen, out = set(), []
    for mod in public_modules():
        for name, obj in vars(mod).items():
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if not getattr(obj, "__module__", "").startswith("minadv") or id(obj) in seen:
                continue
            seen.add(id(obj))
            out.append((f"{obj.__module__}.{obj.__qualname__}", obj))
            if inspect.isclass(obj):
                for meth_name, meth in vars(obj).items():
                    if (not meth_name.startswith("_") or meth_name == "__init__") and \
                            inspect.isfunction(meth):
                        out.append((f"{obj.__module__}.{obj.__qualname__}.{meth_name}", meth))
    return out


def parameter_names(obj) -> list[str]:
    if inspect.isclass(obj):
        names = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []
        names += list(getattr(obj, "_fields", ()))       # NamedTuple fields
        return names
    try:
        return list(inspect.signature(obj).parameters)
    except (TypeError, ValueError):                      # pragma: no cover - builtins
        return []


CALLABLES = public_callables()


def test_the_signature_walk_sees_the_public_api():
    names = {q for q, _ in CALLABLES}
    for expected in ("minadv.attacks.pgd.pgd", "minadv.training.objectives.PGDObjective",
                     "minadv.estimators.MLPClassifier.__init__", "minadv.optim.base.adam",
                     "minadv.attacks.vat.VATConfig", "minadv.training.loop.fit"):
        assert expected in names


def test_no_retired_synonym_in_a_public_signature():
    retired = retired_names()
    offenders = [(q, p, retired[p]) for q, obj in CALLABLES for p in parameter_names(obj)
                 if p in retired]
    assert not offenders, f"retired names still in public signatures: {offenders}"


def test_eps_is_only_the_attack_radius():
    """No optimizer or schedule takes an ``eps`` (Adam's constant is ``damping``)."""
    offenders = [q for q, obj in CALLABLES if q.startswith("minadv.optim")
                 and "eps" in parameter_names(obj)]
    assert not offenders


@pytest.mark.parametrize("qualname, names", [
    ("minadv.attacks.pgd.pgd", {"eps", "norm", "n_steps", "step_size", "n_restarts",
                                "random_start", "clip_min", "clip_max", "rng"}),
    ("minadv.attacks.pgd.PGDConfig", {"eps", "norm", "n_steps", "step_size", "clip_min",
                                      "clip_max"}),
    ("minadv.training.objectives.PGDObjective", {"eps", "norm", "n_steps", "step_size", "l2",
                                                 "clip_min", "clip_max", "random_start"}),
    ("minadv.training.objectives.FGSMObjective", {"eps", "norm", "clean_weight", "l2",
                                                  "clip_min", "clip_max"}),
    ("minadv.training.objectives.VATObjective", {"eps", "xi", "n_power_iterations",
                                                 "vat_weight", "l2"}),
    ("minadv.attacks.vat.VATConfig", {"eps", "xi", "n_power_iterations"}),
    ("minadv.attacks.vat.vat_perturbation", {"eps", "xi", "n_power_iterations", "rng"}),
    ("minadv.estimators.MLPClassifier.__init__", {"eps", "norm", "n_steps", "step_size",
                                                  "clean_weight", "l2", "clip_min", "clip_max",
                                                  "xi", "n_power_iterations", "vat_weight"}),
    ("minadv.estimators.LogisticRegression.__init__", {"eps", "norm", "n_steps", "l2",
                                                       "clean_weight", "vat_weight"}),
    ("minadv.optim.base.sgd", {"l2"}),
    ("minadv.optim.base.adam", {"damping"}),
])
def test_each_level_uses_the_same_names(qualname, names):
    """The attack, its config, the objective and the estimator spell each idea the same way."""
    obj = dict(CALLABLES)[qualname]
    assert names <= set(parameter_names(obj)), names - set(parameter_names(obj))


def test_estimators_pass_their_names_unchanged_to_the_objectives():
    from minadv.estimators import _OBJECTIVE_ARGS
    from minadv.training import OBJECTIVES

    for name, args in _OBJECTIVE_ARGS.items():
        fields = {f.name for f in dataclasses.fields(OBJECTIVES[name])}
        assert set(args) <= fields, (name, set(args) - fields)


def _cli_options(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _cli_options(sub)
        for opt in action.option_strings:
            if opt.startswith("--"):
                yield opt[2:].replace("-", "_")


def test_cli_options_use_the_vocabulary():
    options = set(_cli_options(build_parser()))
    assert "seed" in options
    assert not options & set(retired_names()), options & set(retired_names())
# ------------------------------------------------------------- keyword-only configuration
MAX_POSITIONAL = 5
# The course exercise ``pgd_step(x, x0, g, step_size, eps, norm, clip_min, clip_max)`` is the
# course's contract with students (its stub, reference and grading cases are maintained with
# the course); the only exemption, by name.
# An exercise's signature is the task the student is given: the grader calls the student's
# function (and its stub and reference) with the case's arguments in order, as the tutorial
# does, so the course's stubs and references keep the exercise's positional form.
EXEMPT_MODULES = ("minadv.course.stubs.", "minadv.course.references.")
EXEMPT = {q for q, _ in CALLABLES if q.startswith(EXEMPT_MODULES)}


def positional_count(obj) -> int:
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):                      # pragma: no cover
        return 0
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds and p.name not in ("self", "cls") for p in params)


def is_record_init(qualname: str) -> bool:
    """The generated ``__init__`` of a dataclass (a record, built by keyword in minadv)."""
    owner, _, meth = qualname.rpartition(".")
    obj = dict(CALLABLES).get(owner)
    return meth == "__init__" and obj is not None and dataclasses.is_dataclass(obj)


def test_at_most_five_positional_parameters_in_every_public_function():
    """Configuration after the data is keyword-only (NamedTuples and dataclasses, whose
    constructors are records, are exempt)."""
    offenders = sorted(
        (q, positional_count(obj)) for q, obj in CALLABLES
        if not inspect.isclass(obj) and not is_record_init(q) and q not in EXEMPT
        and positional_count(obj) > MAX_POSITIONAL)
    assert not offenders, offenders
