"""Hessian spectra of any minadv model through the exact Hessian-vector product.

Everything here works on **flat float64 vectors** of length ``model.n_params`` (the order of
:func:`minadv.params.flatten`).  The curvature matrices are never formed except by
:func:`dense_hessian`, which is meant for small models and for tests.

* :func:`hessian_operator` wraps Pearlmutter's exact product ``v ↦ ∇²_θ L(θ) v`` as a SciPy
  :class:`~scipy.sparse.linalg.LinearOperator`.  For an :class:`~minadv.models.MLP` the forward
  pass, the backpropagated errors and the activation derivatives are computed **once** and reused
  by every product (``docs/theory.md`` §12), so each product costs only the R-forward and
  R-backward matrix products.
* :func:`gauss_newton_operator` wraps ``Jᵀ F J v / n`` (always PSD; equal to the Hessian for
  logistic regression, whose loss is linear in its scores).
* :func:`top_eigenvalues` (Lanczos, ``scipy.sparse.linalg.eigsh``), :func:`power_iteration`
  (for teaching), :func:`dense_hessian` and :func:`hutchinson_trace`.
* :func:`hessian_at_adversarial`: the Hessian at FIXED adversarial examples.

All curvature is that of the **mean** loss ``(1/n) Σ ℓ_i + (l2/2) Σ‖W‖²`` (biases unpenalised).

References
----------
Pearlmutter, B. A. (1994). Fast exact multiplication by the Hessian. Neural Computation 6(1).
Lanczos, C. (1950); Lehoucq, Sorensen & Yang (1998), ARPACK Users' Guide (``eigsh``).
Hutchinson, M. F. (1989). A stochastic estimator of the trace of the influence matrix for
Laplacian smoothing splines. Communications in Statistics - Simulation and Computation 18(3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from .._validation import as_generator, check_int, check_scalar
from ..models.base import Model
from ..params import Params, flatten
from ..threads import thread_policy

__all__ = [
    "hessian_operator",
    "gauss_newton_operator",
    "hessian_at_adversarial",
    "top_eigenvalues",
    "power_iteration",
    "PowerIterationResult",
    "dense_hessian",
    "hutchinson_trace",
    "HutchinsonResult",
]

_CURVATURES = ("hessian", "gauss_newton")


# --------------------------------------------------------------------------------------------
# flat <-> named views (no copies)
# --------------------------------------------------------------------------------------------

def _views(flat: np.ndarray, shapes: dict[str, tuple]) -> Params:
    """Reshaped views of consecutive slices of ``flat`` (which must be contiguous)."""
    out, start = {}, 0
    for name, shape in shapes.items():
        size = int(np.prod(shape))
        out[name] = flat[start:start + size].reshape(shape)
        start += size
    return out


def _as_flat(v: np.ndarray, n: int, dtype: np.dtype) -> np.ndarray:
    """``v`` (shape ``(n,)`` or ``(n, 1)`` from LinearOperator) as a contiguous 1-D array."""
    return np.ascontiguousarray(np.reshape(v, (n,)), dtype=dtype)


def _flat_product(model: Model, kernel: Callable[[Params], Params], l2: float) -> Callable:
    """Turn a named-array product ``kernel(V) -> HV`` into a flat float64 matvec (+ l2 on W)."""
    shapes, n = model.param_shapes, model.n_params

    @thread_policy                      # a product called by the user is a top-level call
    def matvec(v):
        v = _as_flat(v, n, model.dtype)
        V = _views(v, shapes)
        out = flatten(kernel(V)).astype(np.float64, copy=False)
        if l2:
            out = out + l2 * flatten({k: V[k] if k in model.weight_names else 0 * V[k]
                                      for k in shapes})
        return out

    return matvec


def _hvp_matvec(model: Model, params: Params, X: np.ndarray, y: np.ndarray, l2: float):
    """Flat float64 matvec of the exact Hessian; the forward pass is done once (hvp_closure)."""
    hvp = model.hvp_closure(params, X, y)
    shapes, n = model.param_shapes, model.n_params

    @thread_policy
    def matvec(v):
        v = _as_flat(v, n, model.dtype)
        V = _views(v, shapes)
        flat = np.empty(n, dtype=model.dtype)
        out = hvp(V, _views(flat, shapes))
        for k in (model.weight_names if l2 else ()):
            out[k] += l2 * V[k]
        return flat.astype(np.float64, copy=False)

    return matvec


# --------------------------------------------------------------------------------------------
# operators
# --------------------------------------------------------------------------------------------

def _check_l2(l2: Any) -> float:
    return check_scalar(l2, "l2", low=0.0)


def _check_curvature(curvature: Any) -> str:
    if curvature not in _CURVATURES:
        raise ValueError(f"curvature: expected 'hessian' or 'gauss_newton', got {curvature!r}.")
    return curvature


def _operator(model: Model, params, X, y, l2: float, curvature: str) -> LinearOperator:
    """Unchecked operator construction (inputs already validated)."""
    if curvature == "gauss_newton":
        matvec = _flat_product(model, lambda V: model.fisher_product_kernel(params, X, V), l2)
    else:
        matvec = _hvp_matvec(model, params, X, y, l2)
    n = model.n_params
    return LinearOperator((n, n), matvec=matvec, rmatvec=matvec, dtype=np.float64)


def _checked_operator(model, params, X, y, l2, curvature) -> LinearOperator:
    if not isinstance(model, Model):
        raise TypeError(f"model: expected a minadv Model, got {type(model).__name__}.")
    params, X, y = model.check_inputs(params, X, y)
    if y is None and curvature == "hessian":
        raise ValueError("y: the Hessian of the loss needs the labels; got None.")
    return _operator(model, params, X, y, _check_l2(l2), _check_curvature(curvature))


@thread_policy
def hessian_operator(model: Model, params: Params, X: np.ndarray, y: np.ndarray,
                     l2: float = 0.0) -> LinearOperator:
    """The Hessian of the mean loss as a matrix-free SciPy ``LinearOperator``.

    Parameters
    ----------
    model : Model
        Any minadv model (:class:`~minadv.models.MLP`, logistic regression, ...).
    params : dict
        Its parameters ``θ``; the operator is the Hessian at this fixed point.
    X : ndarray of shape (n, n_features), the model's dtype
    y : ndarray of shape (n,), integer labels
    l2 : float, default 0
        Weight decay ``λ``: adds ``λ v`` on the weight entries (biases unpenalised).

    Returns
    -------
    LinearOperator
        Shape ``(P, P)`` with ``P = model.n_params``, float64, acting on flat vectors in the
        order of :func:`minadv.params.flatten`.  Symmetric, so ``rmatvec = matvec``.

    Notes
    -----
    ``H v = ∇²_θ [(1/n) Σ_i ℓ(z_i(θ), y_i)] v`` by Pearlmutter's R-operator (``docs/theory.md``
    section 12): one R-forward and one R-backward pass, about two gradients.  For an MLP the
    forward pass, ``δ_l``, ``φ'(a_l)`` and ``φ''(a_l) ⊙ g_l`` are computed once here and every
    product costs only its matrix products.  Float32 models compute in float32; the operator
    returns float64.

    References
    ----------
    Pearlmutter, B. A. (1994). Fast exact multiplication by the Hessian. Neural Comp. 6(1).

    Examples
    --------
    >>> import numpy as np
    >>> from minadv.models import LogisticRegressionModel
    >>> model = LogisticRegressionModel(2)
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]]); y = np.array([0, 1])
    >>> H = hessian_operator(model, model.init_params(), X, y)
    >>> H @ np.array([1.0, 0.0, 0.0])  # c = 1/4 at w = 0: [X 1]ᵀ diag(c) [X 1] e_1 / n
    array([0.125, 0.   , 0.125])
    """
    return _checked_operator(model, params, X, y, l2, "hessian")


@thread_policy
def gauss_newton_operator(model: Model, params: Params, X: np.ndarray, y: Any = None,
                          l2: float = 0.0) -> LinearOperator:
    """The Gauss-Newton matrix ``G = Jᵀ F J / n`` (+ ``λ`` on weights) as a ``LinearOperator``.

    ``J`` is the Jacobian of the logits w.r.t. ``θ`` and ``F`` the Fisher matrix of the output
    distribution (``diag p - p pᵀ`` for softmax), so ``G`` is positive semi-definite for every
    ``θ``: the PSD cross-check of :func:`hessian_operator`.  It drops the terms of the Hessian
    with the loss gradient ``∂ℓ/∂z`` times the curvature of the network; for logistic regression
    (scores linear in ``θ``) it equals the Hessian exactly.  ``y`` is accepted for a uniform
    signature and otherwise ignored (``G`` does not depend on the labels).
    """
    return _checked_operator(model, params, X, y, l2, "gauss_newton")


@thread_policy
def hessian_at_adversarial(model: Model, params: Params, X: np.ndarray, y: np.ndarray, *,
                           attack: Callable | None = None, X_adv: np.ndarray | None = None,
                           l2: float = 0.0) -> LinearOperator:
    """Hessian of the loss at FIXED adversarial examples ``X_adv`` (held constant in ``θ``).

    Parameters
    ----------
    model, params, X, y
        As in :func:`hessian_operator`.
    attack : callable, optional
        ``attack(params, X, y) -> X_adv`` (shape and dtype of ``X``), e.g.
        ``lambda p, X, y: pgd(model, p, X, y, eps=0.3)`` (wrap library attacks this way).
    X_adv : ndarray of shape (n, n_features), optional
        Precomputed adversarial examples.  Give exactly one of ``attack`` and ``X_adv``.
    l2 : float, default 0

    Returns
    -------
    LinearOperator
        ``H_θθ = ∇²_θ (1/n) Σ ℓ(x_i + δ_i*, y_i; θ)`` at ``δ*`` fixed.

    Notes
    -----
    By the implicit-function theorem (``docs/theory.md`` eq. (3.2), L2 constraint active) the true Hessian
    of the adversarial loss ``L_adv(θ) = (1/n) Σ max_{‖δ‖≤ε} ℓ(x + δ; θ)`` is

    ``∇² L_adv = H_θθ + H_θx P (λI − P H_xx P)^{-1} P H_xθ``,

    with ``P = I − δ*δ*ᵀ/ε²`` and ``λ = ‖∇_x ℓ‖/ε``.  This function returns only the first term:
    the **attack-dependence term is missing** (so are the jumps of the L∞ case, section 3.4).
    For L2-adversarial logistic regression the missing term is exactly
    ``(ε · mean(s)/‖w‖)(I − u uᵀ)`` on the weight block (``u = w/‖w‖``, ``s_i = σ(−m_i)`` at the
    robust margin; term 2 of (1.3)), which the tests verify.
    """
    if (attack is None) == (X_adv is None):
        raise ValueError("attack, X_adv: give exactly one of them (an attack callable "
                         "attack(params, X, y) -> X_adv, or the precomputed X_adv).")
    params, X, y = model.check_inputs(params, X, y)
    if attack is not None:
        if not callable(attack):
            raise TypeError(f"attack: expected a callable, got {type(attack).__name__}.")
        X_adv = attack(params, X, y)
    X_adv = model.check_X(X_adv, "X_adv")
    if X_adv.shape != X.shape:
        raise ValueError(f"X_adv: expected shape {X.shape} (that of X), got {X_adv.shape}.")
    return _operator(model, params, X_adv, y, _check_l2(l2), "hessian")


# --------------------------------------------------------------------------------------------
# spectra and trace
# --------------------------------------------------------------------------------------------

def _start_vector(rng: Any, n: int) -> np.ndarray:
    v = as_generator(rng).standard_normal(n)
    return v / np.linalg.norm(v)


@thread_policy
def top_eigenvalues(model: Model, params: Params, X: np.ndarray, y: np.ndarray, k: int = 1,
                    *, rng: Any = None, which: str = "LA", tol: float = 1e-10,
                    maxiter: int | None = None, l2: float = 0.0, curvature: str = "hessian",
                    return_eigenvectors: bool = False):
    """``k`` extreme eigenvalues of the Hessian (or Gauss-Newton matrix) by Lanczos.

    Parameters
    ----------
    model, params, X, y, l2
        As in :func:`hessian_operator`.
    k : int, default 1
        Number of eigenvalues, ``1 <= k <= P - 1`` (ARPACK's limit; use :func:`dense_hessian`
        and ``numpy.linalg.eigh`` for all of them).
    rng : None, int or Generator
        Source of the Lanczos starting vector ``v0`` (so results are reproducible).
    which : {"LA", "SA", "LM"}
        Largest algebraic (sharpness), smallest algebraic (negative curvature), largest
        magnitude.
    tol : float, default 1e-10
        Relative accuracy passed to ``eigsh`` (0 means machine precision).
    maxiter : int, optional
        Maximum Arnoldi update iterations (``eigsh`` default when None).
    curvature : {"hessian", "gauss_newton"}
    return_eigenvectors : bool
        Also return the eigenvectors.

    Returns
    -------
    eigenvalues : ndarray of shape (k,)
        Descending for ``"LA"`` and ``"LM"`` (by magnitude for ``"LM"``), ascending for ``"SA"``.
    eigenvectors : ndarray of shape (P, k)
        Only with ``return_eigenvectors=True``; unit columns matching ``eigenvalues``.

    Notes
    -----
    Implicitly restarted Lanczos (``scipy.sparse.linalg.eigsh``) on the matrix-free operator;
    each iteration costs one exact HVP.  Agrees with dense ``eigh`` to ``~tol · |λ_max|``.

    References
    ----------
    Lanczos, C. (1950). J. Res. Nat. Bur. Standards 45.  Lehoucq, Sorensen & Yang (1998).
    """
    op = _checked_operator(model, params, X, y, l2, curvature)
    n = op.shape[0]
    if n < 2:
        raise ValueError(f"model: Lanczos needs at least 2 parameters, the model has {n}.")
    k = check_int(k, "k", low=1, high=n - 1)
    if which not in ("LA", "SA", "LM"):
        raise ValueError(f"which: expected 'LA', 'SA' or 'LM', got {which!r}.")
    tol = check_scalar(tol, "tol", low=0.0)
    vals, vecs = eigsh(op, k=k, which=which, v0=_start_vector(rng, n), tol=tol, maxiter=maxiter)
    key = {"LA": -vals, "SA": vals, "LM": -np.abs(vals)}[which]
    order = np.argsort(key, kind="stable")
    return (vals[order], vecs[:, order]) if return_eigenvectors else vals[order]


class PowerIterationResult(NamedTuple):
    """Result of :func:`power_iteration`.

    Attributes
    ----------
    eigenvalue : float
        Last Rayleigh quotient ``vᵀ H v`` (``‖v‖ = 1``).
    eigenvector : ndarray of shape (P,)
        Last unit iterate ``v``.
    trace : ndarray of shape (n_iter,)
        The Rayleigh quotient at every iteration (to plot the convergence).
    n_iter : int
        Number of HVPs done.
    converged : bool
        Whether successive estimates agreed to ``tol`` (relative).
    """

    eigenvalue: float
    eigenvector: np.ndarray
    trace: np.ndarray
    n_iter: int
    converged: bool


def _power_loop(matvec: Callable, v: np.ndarray, n_iter: int, tol: float):
    trace = []
    for _ in range(n_iter):
        w = matvec(v)
        trace.append(float(v @ w))                        # Rayleigh quotient, ‖v‖ = 1
        norm = np.linalg.norm(w)
        if norm == 0:
            break
        v = w / norm
        if len(trace) > 1 and abs(trace[-1] - trace[-2]) <= tol * abs(trace[-1]):
            return v, np.array(trace), True
    return v, np.array(trace), False


@thread_policy
def power_iteration(model: Model, params: Params, X: np.ndarray, y: np.ndarray, *,
                    n_iter: int = 100, tol: float = 1e-10, rng: Any = None, l2: float = 0.0,
                    curvature: str = "hessian") -> PowerIterationResult:
    """Dominant eigenvalue by power iteration ``v ← H v / ‖H v‖`` (for teaching).

    Parameters
    ----------
    model, params, X, y, l2, curvature
        As in :func:`top_eigenvalues`.
    n_iter : int, default 100
        Maximum number of HVPs.
    tol : float, default 1e-10
        Stop when successive Rayleigh quotients differ by at most ``tol · |λ|`` (0: never).
    rng : None, int or Generator
        Source of the starting vector.

    Returns
    -------
    PowerIterationResult

    Notes
    -----
    The iterate converges to the eigenvector of largest **magnitude** ``|λ|`` at the rate
    ``|λ_2/λ_1|`` per step; the Rayleigh quotient converges twice as fast (symmetric ``H``).
    Away from a minimum a negative eigenvalue can dominate: use :func:`top_eigenvalues` with
    ``which="LA"`` for the sharpness ``λ_max``.  Lanczos needs far fewer HVPs for the same
    accuracy; this function exists to show the idea and its convergence trace.
    """
    op = _checked_operator(model, params, X, y, l2, curvature)
    n_iter = check_int(n_iter, "n_iter", low=1)
    tol = check_scalar(tol, "tol", low=0.0)
    v, trace, converged = _power_loop(op.matvec, _start_vector(rng, op.shape[0]), n_iter, tol)
    return PowerIterationResult(trace[-1], v, trace, len(trace), converged)


@thread_policy
def dense_hessian(model: Model, params: Params, X: np.ndarray, y: np.ndarray, *,
                  l2: float = 0.0, curvature: str = "hessian",
                  max_params: int = 5000) -> np.ndarray:
    """The full ``(P, P)`` Hessian (or Gauss-Newton matrix) from ``P`` exact HVPs.

    Column ``j`` is ``H e_j``.  The result is returned **as computed, not symmetrised**, so its
    asymmetry ``max|H − Hᵀ|`` measures the rounding error of the HVP (tests assert it).
    ``max_params`` guards against accidentally forming a huge matrix (``P²`` floats).
    """
    op = _checked_operator(model, params, X, y, l2, curvature)
    n = op.shape[0]
    max_params = check_int(max_params, "max_params", low=1)
    if n > max_params:
        raise ValueError(f"model: has {n} parameters > max_params={max_params}; use "
                         "top_eigenvalues/hutchinson_trace, or raise max_params.")
    H = np.empty((n, n))
    e = np.zeros(n)
    for j in range(n):
        e[j] = 1.0
        H[:, j] = op.matvec(e)
        e[j] = 0.0
    return H


class HutchinsonResult(NamedTuple):
    """Result of :func:`hutchinson_trace`.

    Attributes
    ----------
    estimate : float
        Mean of the probe values ``zᵀ H z``.
    std_error : float
        Sample standard deviation of the probe values over ``sqrt(n_samples)``.
    samples : ndarray of shape (n_samples,)
        The probe values.
    """

    estimate: float
    std_error: float
    samples: np.ndarray


@thread_policy
def hutchinson_trace(model: Model, params: Params, X: np.ndarray, y: np.ndarray, *,
                     n_samples: int = 100, rng: Any = None, l2: float = 0.0,
                     curvature: str = "hessian") -> HutchinsonResult:
    """Unbiased stochastic estimate of ``tr H`` from Rademacher probes.

    Parameters
    ----------
    model, params, X, y, l2, curvature
        As in :func:`hessian_operator`.
    n_samples : int, default 100
        Number of probes (one HVP each).
    rng : None, int or Generator
        Source of the probes.

    Returns
    -------
    HutchinsonResult

    Notes
    -----
    With ``z`` having i.i.d. ``±1`` entries, ``E[zᵀ H z] = tr H`` and
    ``Var[zᵀ H z] = 2 (‖H‖_F² − Σ_i H_ii²)`` (Hutchinson 1989), the smallest variance of any
    i.i.d. probe distribution.  The mean of ``m`` probes has standard error
    ``sqrt(Var / m)``; ``std_error`` is its sample estimate.

    References
    ----------
    Hutchinson, M. F. (1989). Commun. Stat. Simul. Comput. 18(3), 1059-1076.
    """
    op = _checked_operator(model, params, X, y, l2, curvature)
    n_samples = check_int(n_samples, "n_samples", low=1)
    gen = as_generator(rng)
    samples = np.empty(n_samples)
    for i in range(n_samples):
        z = gen.integers(0, 2, size=op.shape[0]).astype(np.float64) * 2 - 1
        samples[i] = z @ op.matvec(z)
    se = float(np.std(samples, ddof=1) / np.sqrt(n_samples)) if n_samples > 1 else np.inf
    return HutchinsonResult(float(samples.mean()), se, samples)
