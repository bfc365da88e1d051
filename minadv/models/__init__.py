"""Models with explicit backprop: binary logistic regression and MLPs (see ``base`` for the
protocol every attack, objective and analysis uses)."""

from .base import BaseModel, LossGrads, Model, copy_into, stack_caches
from .logistic import LogisticRegressionModel
from .mlp import ACTIVATIONS, MLP, MLPCache

__all__ = ["LossGrads", "Model", "BaseModel", "LogisticRegressionModel", "MLP", "MLPCache",
           "ACTIVATIONS", "model_from_config", "stack_caches", "copy_into"]


def model_from_config(config: dict) -> BaseModel:
    """Rebuild a model from its ``config()`` dictionary (inverse of ``model.config()``)."""
    if not isinstance(config, dict) or "kind" not in config:
        raise ValueError(f"config: expected a dict with a 'kind' entry, got {config!r}.")
    if config["kind"] not in _CONFIG_KEYS:
        raise ValueError(f"config: unknown model kind {config['kind']!r}; expected one of "
                         f"{sorted(_CONFIG_KEYS)}.")
    missing = [k for k in _CONFIG_KEYS[config["kind"]] if k not in config]
    if missing:
        raise ValueError(f"config: a {config['kind']!r} config needs the keys "
                         f"{list(_CONFIG_KEYS[config['kind']])}, missing {missing} (write it "
                         "with model.config()).")
    if config["kind"] == "logistic":
        return LogisticRegressionModel(config["n_features"], dtype=config["dtype"])
    return MLP(config["sizes"], activation=config["activation"], output=config["output"],
               init=config.get("init"), dtype=config["dtype"])


#: The keys each kind of ``config()`` must hold (``init`` is optional for an MLP).
_CONFIG_KEYS = {"logistic": ("n_features", "dtype"),
                "mlp": ("sizes", "activation", "output", "dtype")}
