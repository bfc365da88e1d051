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
    if config["kind"] == "logistic":
        return LogisticRegressionModel(config["n_features"], dtype=config["dtype"])
    if config["kind"] == "mlp":
        return MLP(config["sizes"], activation=config["activation"], output=config["output"],
                   init=config.get("init"), dtype=config["dtype"])
    raise ValueError(f"config: unknown model kind {config['kind']!r}.")
