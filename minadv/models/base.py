"""The model protocol shared by attacks, training and analysis.

A *model* in minadv is an immutable description of an architecture (sizes, activation, output
family, dtype).  It holds **no learned state**: every method takes the parameters as a plain
``dict`` of named arrays, so the same model object serves any number of parameter sets, and the
functional kernels can be called from attacks and optimizers without hidden caches.

:class:`Model` (a ``typing.Protocol``) lists exactly what attacks, training and analysis call;
:class:`BaseModel` implements the checked methods and the derivative products on top of four
subclass kernels (``forward``, ``backward``, ``jvp_logits``, ``hvp_kernel``).  One naming
rule: a checked method ``name`` validates and calls its unchecked kernel ``name_kernel``.

*Checked* methods (validate their arguments, for users):
    ``init_params(rng)``, ``logits``, ``predict_proba``, ``predict``, ``loss``,
    ``loss_and_grads``, ``hvp``, ``fisher_product``, ``input_fisher_product``, ``check_inputs``.

*Kernels* (no validation, for library code that validated once with ``check_inputs``):
    ``forward(params, X) -> (logits, cache)``
    ``backward(params, cache, dlogits, param_grads=True, input_grad=True) -> (grads, input_grad)``
    ``loss_and_grads_kernel``, ``hvp_kernel``, ``fisher_product_kernel``,
    ``input_fisher_product_kernel``, ``jvp_logits`` (the R-forward pass), and ``hvp_closure`` (the one
    speed place for repeated HVPs).

Key order: every returned parameter dict (gradients, HVPs, Fisher products) has the names in
the order of the caller's ``params``, so ``flatten(params)`` and ``flatten(grads)`` agree.

Cache contract: every array in the cache that ``forward`` returns has the batch on its first
axis, so caches of two batches can be stacked row-wise with :func:`stack_caches` (the FGSM and
VAT objectives run one backward pass over ``[x; x_adv]``).

All derivatives are of the *mean* objective (``losses`` module docstring): ``input_grad[i]`` is
``(1/n) ∇_{x_i} ℓ_i``, so it agrees with a finite difference of ``loss``.  Attacks only use its
direction per row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from .._validation import check_array, check_labels, check_scalar
from ..losses import OutputFamily, add_l2_hvp, add_l2_penalty, l2_penalty
from ..params import Params, check_params

__all__ = ["LossGrads", "Model", "BaseModel", "stack_caches", "copy_into"]


class LossGrads(NamedTuple):
    """What one forward/backward pass returns.

    Attributes
    ----------
    loss : float
        Mean loss ``(1/n) Σ ℓ_i`` plus the L2 penalty if one was asked for.
    sample_losses : ndarray of shape (n,)
        ``ℓ_i`` per sample (no penalty).
    grads : dict or None
        Gradient of ``loss`` w.r.t. every parameter (same names, shapes, dtype).
    input_grad : ndarray of shape (n, d) or None
        Gradient of ``loss`` w.r.t. ``X`` (row ``i`` is ``(1/n) ∇_{x_i} ℓ_i``).
    logits : ndarray
        The forward pass's logits, ``(n,)`` (binary) or ``(n, C)``.
    """

    loss: float
    sample_losses: np.ndarray
    grads: Params | None
    input_grad: np.ndarray | None
    logits: np.ndarray


def stack_caches(a: Any, b: Any) -> Any:
    """Concatenate two forward caches row-wise (tuple/list/NamedTuple trees of batch-first
    arrays), e.g. to backpropagate ``[x; x_adv]`` in one pass."""
    if a is None:                                     # an absent part (e.g. no dropout masks)
        return None
    if isinstance(a, np.ndarray):
        return np.concatenate([a, b], axis=0)
    parts = [stack_caches(u, v) for u, v in zip(a, b)]
    return type(a)(*parts) if hasattr(a, "_fields") else type(a)(parts)


def copy_into(result: Params, order: Params, out: Params | None = None) -> Params:
    """``result`` with the names in ``order``'s order; copied into ``out``'s arrays if given."""
    if out is None:
        return {k: result[k] for k in order}
    for k in order:
        out[k][...] = result[k]
    return out


@runtime_checkable
class Model(Protocol):
    """What attacks, training, analysis and I/O call on a model (no learned state).

    Description: ``n_features``, ``n_classes``, ``dtype``, ``output`` (an
    :class:`~minadv.losses.OutputFamily`), ``weight_names`` (the L2-penalised arrays),
    ``hidden_sizes`` (widths of the hidden layers, ``()`` for a linear model; a model with
    hidden layers also accepts ``forward(params, X, masks=...)``, one dropout mask per hidden
    layer), ``param_shapes``, ``n_params``, ``config()``, ``init_params(rng)``,
    ``param_template()``.  Validation: ``check_params``, ``check_X``, ``check_y``, ``check_inputs``.
    Kernels and their checked forms are listed in the module docstring.
    """

    n_features: int
    n_classes: int
    dtype: np.dtype
    output: OutputFamily
    weight_names: tuple[str, ...]
    hidden_sizes: tuple[int, ...]

    @property
    def param_shapes(self) -> dict[str, tuple]: ...
    @property
    def n_params(self) -> int: ...
    def config(self) -> dict: ...
    def init_params(self, rng: Any = None) -> Params: ...
    def param_template(self) -> Params: ...
    def check_params(self, params: Any) -> Params: ...
    def check_X(self, X: Any, name: str = "X") -> np.ndarray: ...
    def check_y(self, y: Any, n_samples: int, name: str = "y") -> np.ndarray: ...
    def check_inputs(self, params: Any, X: Any, y: Any = None) -> tuple: ...
    def forward(self, params: Params, X: np.ndarray) -> tuple[np.ndarray, Any]: ...
    def backward(self, params: Params, cache: Any, dlogits: np.ndarray, *,
                 param_grads: bool = True, input_grad: bool = True) -> tuple: ...
    def predict_from_logits(self, logits: np.ndarray) -> np.ndarray: ...
    def loss_and_grads_kernel(self, params: Params, X: np.ndarray, y: np.ndarray, *,
                              param_grads: bool = True, input_grad: bool = True,
                              l2: float = 0.0) -> LossGrads: ...
    def hvp_closure(self, params: Params, X: np.ndarray, y: np.ndarray) -> Callable: ...
    def fisher_product_kernel(self, params: Params, X: np.ndarray, vector: Params, *,
                              l2: float = 0.0) -> Params: ...
    def input_fisher_product_kernel(self, params: Params, X: np.ndarray, R: np.ndarray, *,
                                    logits: np.ndarray | None = None,
                                    cache: Any = None) -> np.ndarray: ...


class BaseModel:
    """Base class: validation and the derivative products built on the subclass kernels.

    Subclasses set ``n_features``, ``n_classes``, ``dtype``, ``output`` (an
    :class:`~minadv.losses.OutputFamily`), ``weight_names`` and implement ``param_shapes``,
    ``init_params``, ``forward``, ``backward``, ``jvp_logits`` and ``hvp_kernel``.
    """

    n_features: int
    n_classes: int
    dtype: np.dtype
    output: OutputFamily
    weight_names: tuple[str, ...]
    hidden_sizes: tuple[int, ...]

    # ----------------------------------------------------------------- description
    @property
    def param_shapes(self) -> dict[str, tuple]:  # pragma: no cover - abstract
        raise NotImplementedError

    def param_template(self) -> Params:
        """Zero parameters with the right names, shapes and dtype."""
        return {k: np.zeros(s, dtype=self.dtype) for k, s in self.param_shapes.items()}

    @property
    def n_params(self) -> int:
        """Total number of scalar parameters."""
        return int(sum(int(np.prod(s)) for s in self.param_shapes.values()))

    # ----------------------------------------------------------------- validation
    def check_params(self, params: Any) -> Params:
        """Raise unless ``params`` has this model's names, shapes and dtype (finite values)."""
        return check_params(params, self.param_template(), "params")

    def check_X(self, X: Any, name: str = "X") -> np.ndarray:
        """Raise unless ``X`` is a finite ``(n, n_features)`` array of the model's dtype."""
        return check_array(X, name, ndim=2, dtype=self.dtype, shape=(None, self.n_features))

    def check_y(self, y: Any, n_samples: int, name: str = "y") -> np.ndarray:
        """Raise unless ``y`` holds ``n_samples`` integer labels in ``{0..n_classes-1}``."""
        return check_labels(y, name, self.n_classes, n_samples)

    def check_inputs(self, params: Any, X: Any, y: Any = None, *, need_y: bool = False):
        """Validate ``params``, ``X`` and (if given, or ``need_y``) ``y`` once; return them.

        Library code calls this at its public boundary and then uses the kernels.
        """
        if need_y and y is None:
            raise TypeError("y: expected the labels (n,) of X, got None; the loss and its "
                            "derivatives need them (pass y).")
        params = self.check_params(params)
        X = self.check_X(X)
        if y is not None:
            y = self.check_y(y, X.shape[0])
        return params, X, y

    def check_direction(self, vector: Any, name: str = "vector") -> Params:
        """Validate a parameter-space direction (same names/shapes/dtype as the params)."""
        return check_params(vector, self.param_template(), name)

    # ----------------------------------------------------------------- kernels
    def loss_and_grads_kernel(self, params: Params, X: np.ndarray, y: np.ndarray, *,
                              param_grads: bool = True, input_grad: bool = True,
                              l2: float = 0.0) -> LossGrads:
        """Kernel of :meth:`loss_and_grads` (no validation): one forward and one backward pass."""
        logits, cache = self.forward(params, X)
        sample_losses, dlogits = self.output.nll(logits, y)
        dlogits /= X.shape[0]
        grads, gx = self.backward(params, cache, dlogits, param_grads=param_grads,
                                  input_grad=input_grad)
        loss = float(sample_losses.mean())
        if grads is None:
            return LossGrads(loss + l2_penalty(params, self.weight_names, l2)[0] if l2 else loss,
                             sample_losses, None, gx, logits)
        loss, grads = add_l2_penalty(loss, grads, params, self.weight_names, l2)
        return LossGrads(loss, sample_losses, grads, gx, logits)

    def hvp_closure(self, params: Params, X: np.ndarray, y: np.ndarray):
        """``hvp(V, out=None) -> H V`` at fixed ``(θ, X, y)`` (no validation).

        Subclasses precompute what does not depend on ``V``; this default simply calls
        :meth:`hvp_kernel` and copies into ``out`` if given.
        """
        def hvp(vector: Params, out: Params | None = None) -> Params:
            return copy_into(self.hvp_kernel(params, X, y, vector), params, out)

        return hvp

    def fisher_product_kernel(self, params: Params, X: np.ndarray, vector: Params, *,
                              l2: float = 0.0) -> Params:
        """:meth:`fisher_product` without validation."""
        logits, cache = self.forward(params, X)
        r_logits = self.jvp_logits(params, cache, vector, None)
        u = self.output.kl_hvp(logits, r_logits) / X.shape[0]
        grads, _ = self.backward(params, cache, u, param_grads=True, input_grad=False)
        return add_l2_hvp(grads, vector, self.weight_names, l2)

    def input_fisher_product_kernel(self, params: Params, X: np.ndarray, R: np.ndarray, *,
                                    logits=None, cache=None) -> np.ndarray:
        """``Jₓᵀ F Jₓ r / n`` per sample, without validation (VAT's exact power iteration)."""
        if cache is None:
            logits, cache = self.forward(params, X)
        r_logits = self.jvp_logits(params, cache, None, R)
        u = self.output.kl_hvp(logits, r_logits) / X.shape[0]
        _, gx = self.backward(params, cache, u, param_grads=False, input_grad=True)
        return gx

    # ----------------------------------------------------------------- checked API
    def logits(self, params: Params, X: np.ndarray) -> np.ndarray:
        """Logits (scores) of ``X``: ``(n,)`` for binary models, ``(n, n_classes)`` otherwise."""
        params, X, _ = self.check_inputs(params, X)
        return self.forward(params, X)[0]

    def predict_proba(self, params: Params, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape ``(n, n_classes)``; rows sum to one."""
        return np.exp(self.output.log_proba(self.logits(params, X)))

    def predict(self, params: Params, X: np.ndarray) -> np.ndarray:
        """Most probable class per row, shape ``(n,)``, int64."""
        return self.predict_from_logits(self.logits(params, X))

    def predict_from_logits(self, logits: np.ndarray) -> np.ndarray:
        """Kernel: most probable class of each row of ``logits`` (binary: ``logit > 0``)."""
        if self.output.binary:
            return (logits > 0).astype(np.int64)
        return np.argmax(self.output.log_proba(logits), axis=1).astype(np.int64)

    def loss(self, params: Params, X: np.ndarray, y: np.ndarray, *, l2: float = 0.0) -> float:
        """Mean loss ``(1/n) Σ ℓ_i + (l2/2) Σ‖W‖²`` (biases unpenalized)."""
        params, X, y = self.check_inputs(params, X, y, need_y=True)
        l2 = check_scalar(l2, "l2", low=0.0)
        logits, _ = self.forward(params, X)
        value = float(np.mean(self.output.nll(logits, y)[0]))
        if l2:
            value += l2_penalty(params, self.weight_names, l2)[0]
        return value

    def loss_and_grads(self, params: Params, X: np.ndarray, y: np.ndarray, *,
                       param_grads: bool = True, input_grad: bool = True,
                       l2: float = 0.0) -> LossGrads:
        """Loss, parameter gradients and input gradient in one forward/backward pass.

        Parameters
        ----------
        params : dict
            This model's parameters.
        X : ndarray of shape (n, n_features), the model's dtype
        y : ndarray of shape (n,), integer labels
        param_grads, input_grad : bool
            Which gradients to compute (the input gradient costs one extra matmul).
        l2 : float
            Weight-decay coefficient λ of the ``½·λ·Σ‖W‖²`` penalty.

        Returns
        -------
        LossGrads
        """
        params, X, y = self.check_inputs(params, X, y, need_y=True)
        l2 = check_scalar(l2, "l2", low=0.0)
        return self.loss_and_grads_kernel(params, X, y, param_grads=param_grads,
                                          input_grad=input_grad, l2=l2)

    def hvp(self, params: Params, X: np.ndarray, y: np.ndarray, vector: Params, *,
            l2: float = 0.0) -> Params:
        """Exact Hessian-vector product ``∇²_θ L(θ) v`` by Pearlmutter's R-operator.

        The Hessian is that of the mean loss (plus ``l2·v`` on the weights).  Cost: about two
        gradients.  ``docs/theory.md`` §12 lists the R-forward/R-backward recursions.
        """
        params, X, y = self.check_inputs(params, X, y, need_y=True)
        vector = self.check_direction(vector)
        l2 = check_scalar(l2, "l2", low=0.0)
        return add_l2_hvp(self.hvp_kernel(params, X, y, vector), vector, self.weight_names, l2)

    def fisher_product(self, params: Params, X: np.ndarray, vector: Params, *,
                       l2: float = 0.0) -> Params:
        r"""Fisher-information product ``Jᵀ F J v / n`` (plus ``l2·v`` on the weights).

        ``J`` is the Jacobian of the logits w.r.t. the parameters and ``F`` the Fisher matrix
        of the output distribution at the logits, ``F = E_{y~p}[∇_z ℓ ∇_z ℓᵀ]`` (``diag p -
        p pᵀ`` for softmax, ``σ(f)σ(-f)`` for logistic, ``S (diag g - g gᵀ) S`` with ``S =
        diag(1 + σ(-z))`` for sigsoftmax; ``docs/theory.md`` §11).  No labels are needed and the
        result is positive semi-definite.

        For softmax and logistic outputs this is the generalised Gauss-Newton product
        ``Jᵀ ∇²_z ℓ J v`` (the NLL's logit Hessian does not depend on the label).  For
        sigsoftmax it is not: there ``∇²_z ℓ = F + diag((g - e_y) ⊙ ∂s/∂z)``, which is
        indefinite; ``F`` is the Gauss-Newton matrix with the network split one step later,
        at ``a = z + log σ(z)`` where the loss is a convex softmax cross-entropy.
        ``hvp - fisher_product`` is the part of the Hessian that comes from curvature of the
        network (and, for sigsoftmax, of ``a(z)``) weighted by the residuals.

        Parameters
        ----------
        params : dict
        X : ndarray of shape (n, n_features)
        vector : dict
            Direction, same names/shapes/dtype as ``params``.
        l2 : float >= 0
            Adds the Hessian ``l2·I`` of the weight penalty, as in :meth:`hvp`.

        Returns
        -------
        dict
            Names in ``params``' order.
        """
        params, X, _ = self.check_inputs(params, X)
        l2 = check_scalar(l2, "l2", low=0.0)
        return self.fisher_product_kernel(params, X, self.check_direction(vector), l2=l2)

    def input_fisher_product(self, params: Params, X: np.ndarray, R: np.ndarray) -> np.ndarray:
        """Input-space product ``Jₓᵀ (diag p - p pᵀ) Jₓ r`` per sample, divided by ``n``.

        This is the Hessian of the mean ``KL(p(x) ‖ p(x + r))`` w.r.t. ``r`` at ``r = 0``
        (Miyato et al.; ``docs/theory.md`` §6.2), applied to each row of ``R``.
        """
        params, X, _ = self.check_inputs(params, X)
        R = check_array(R, "R", ndim=2, dtype=self.dtype, shape=X.shape)
        return self.input_fisher_product_kernel(params, X, R)
