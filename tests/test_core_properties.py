"""Property-based tests (hypothesis) of the core numerics, parameter flattening, save/load
and the dataset scalers.

Deterministic by default (``derandomize=True``, no example database) with a modest number of
examples per property; set ``MINADV_HYPOTHESIS_MAX=<n>`` to run ``n`` examples per property.
Every property is an exact statement (bitwise equality or an exact bound), not a tolerance.
"""

import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from minadv import numerics  # noqa: E402
from minadv.datasets import minmax, standardize  # noqa: E402
from minadv.io import load_model, save_model  # noqa: E402
from minadv.models import MLP, LogisticRegressionModel  # noqa: E402
from minadv.params import flatten, unflatten  # noqa: E402

N_EXAMPLES = int(os.environ.get("MINADV_HYPOTHESIS_MAX", "30"))
SETTINGS = settings(max_examples=N_EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
DTYPES = st.sampled_from([np.float32, np.float64])


def _finite(dtype, bound):
    """Finite floats of ``dtype`` with ``|x| <= bound`` (subnormals included)."""
    width = 32 if dtype == np.float32 else 64
    bound = float(dtype(bound))                          # representable in the dtype
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=width)


def _logits(dtype, bound):
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
                      elements=_finite(dtype, bound))


# the largest logits whose pairwise differences cannot overflow (z - max(z) stays finite)
BIG = {np.float32: 1e38, np.float64: 1e307}
# a gap after which every other class underflows against the top one in ``1 + Σ e^{-gap}``
GAP = {np.float32: 20.0, np.float64: 40.0}


# ------------------------------------------------------------------------ numerics
@SETTINGS
@given(data=st.data(), dtype=DTYPES)
def test_logsumexp_and_log_softmax_are_finite_for_any_finite_logits(data, dtype):
    z = data.draw(_logits(dtype, BIG[dtype]))
    lse = numerics.logsumexp(z, axis=1)
    ls = numerics.log_softmax(z, axis=1)
    assert lse.dtype == dtype and ls.dtype == dtype
    assert np.all(np.isfinite(lse)) and np.all(np.isfinite(ls))
    assert np.all(lse >= z.max(axis=1))                      # log Σ e^z >= max z, exactly
    assert np.all(ls <= 0)                                   # log-probabilities
    top = np.argmax(z, axis=1)                               # subtracting one lse per row is
    np.testing.assert_array_equal(ls[np.arange(len(z)), top], ls.max(axis=1))   # monotone


@SETTINGS
@given(data=st.data(), dtype=DTYPES)
def test_a_dominant_logit_makes_log_softmax_exactly_z_minus_max(data, dtype):
    """With every other logit ``GAP`` below the top one, ``Σ e^{z - max} = 1`` in floating
    point, so ``logsumexp = max`` and ``log_softmax = z - max`` bitwise."""
    z = data.draw(_logits(dtype, 1e4))
    top = data.draw(st.integers(0, z.shape[1] - 1))
    z[:, top] = (z.max(axis=1) + dtype(GAP[dtype])).astype(dtype)
    # only rows where the gap survived rounding (huge logits absorb the added 40)
    rows = np.all((z[:, top:top + 1] - z >= GAP[dtype]) | (np.arange(z.shape[1]) == top),
                  axis=1)
    z = z[rows]
    np.testing.assert_array_equal(numerics.logsumexp(z, axis=1), z[:, top])
    np.testing.assert_array_equal(numerics.log_softmax(z, axis=1), z - z[:, top:top + 1])


@SETTINGS
@given(data=st.data(), dtype=DTYPES)
def test_softplus_and_log_sigmoid_at_extreme_arguments(data, dtype):
    t = data.draw(hnp.arrays(dtype, st.integers(1, 20), elements=_finite(dtype, BIG[dtype])))
    sp, ls = numerics.softplus(t), numerics.log_sigmoid(t)
    assert sp.dtype == dtype and ls.dtype == dtype
    assert np.all(np.isfinite(sp)) and np.all(np.isfinite(ls))
    assert np.all(sp >= np.maximum(t, 0)) and np.all(ls <= np.minimum(t, 0))
    np.testing.assert_array_equal(ls, -numerics.softplus(-t))          # log σ(t) = -softplus(-t)
    big = t >= GAP[dtype]                                              # e^{-t} below half an ulp
    np.testing.assert_array_equal(sp[big], t[big])
    np.testing.assert_array_equal(ls[-t >= GAP[dtype]], t[-t >= GAP[dtype]])


@SETTINGS
@given(data=st.data(), dtype=DTYPES)
def test_softplus_of_very_negative_arguments_is_exp(data, dtype):
    """For t <= -GAP, ``log(1 + e^t) = e^t`` up to rounding: ``logaddexp`` evaluates it as
    ``log1p(exp(t))`` with its own ``exp``, within 1 ulp of ``np.exp`` in float64 (found: 1 ulp
    at t = -171.17) and 2 ulp in float32 (1 ulp at t = -80); the claim is the ulp bound."""
    t = data.draw(hnp.arrays(dtype, st.integers(1, 20),
                             elements=st.floats(-700.0 if dtype == np.float64 else -80.0,
                                                -GAP[dtype], width=np.dtype(dtype).itemsize * 8)))
    maxulp = 1 if dtype == np.float64 else 2
    np.testing.assert_array_max_ulp(numerics.softplus(t), np.exp(t), maxulp=maxulp)


# ------------------------------------------------------------------------ flatten / unflatten
@st.composite
def _params(draw):
    dtype = draw(DTYPES)
    n = draw(st.integers(1, 4))
    names = draw(st.lists(st.text("abcdefgh", min_size=1, max_size=4), min_size=n, max_size=n,
                          unique=True))
    shapes = [draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
              for _ in names]
    return {k: draw(hnp.arrays(dtype, s, elements=_finite(dtype, 1e30)))
            for k, s in zip(names, shapes)}


@SETTINGS
@given(params=_params())
def test_unflatten_of_flatten_is_the_identity_in_order_shape_and_dtype(params):
    flat = flatten(params)
    back = unflatten(flat, params)
    assert list(back) == list(params)
    for k, v in params.items():
        assert back[k].shape == v.shape and back[k].dtype == v.dtype
        np.testing.assert_array_equal(back[k], v)
        assert back[k] is not v                                          # copies, not views
    np.testing.assert_array_equal(flatten(back), flat)
    assert flat.shape == (sum(v.size for v in params.values()),)


# ------------------------------------------------------------------------ save / load
@st.composite
def _model_and_params(draw):
    dtype = draw(DTYPES)
    if draw(st.booleans()):
        model = LogisticRegressionModel(draw(st.integers(1, 5)), dtype=dtype)
    else:
        sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
        model = MLP(sizes + [draw(st.integers(2, 4))], dtype=dtype,
                    activation=draw(st.sampled_from(["relu", "tanh", "sigmoid", "softplus"])),
                    output=draw(st.sampled_from(["softmax", "sigsoftmax"])))
    params = {k: draw(hnp.arrays(dtype, v.shape, elements=_finite(dtype, 1e30)))
              for k, v in model.param_template().items()}
    return model, params


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=8)
                     | st.floats(allow_nan=False, allow_infinity=False),
                     lambda kids: st.lists(kids, max_size=3)
                     | st.dictionaries(st.text(max_size=5), kids, max_size=3), max_leaves=8)


@SETTINGS
@given(mp=_model_and_params(), metadata=st.none() | st.dictionaries(st.text(max_size=5), _JSON,
                                                                       max_size=3))
def test_save_then_load_gives_back_every_bit(tmp_path, mp, metadata):
    model, params = mp
    path = save_model(tmp_path / "m", model, params, metadata=metadata)
    loaded = load_model(path)
    assert loaded.model.config() == model.config() and loaded.metadata == metadata
    assert list(loaded.params) == list(params)
    for k, v in params.items():
        assert loaded.params[k].dtype == v.dtype
        assert loaded.params[k].tobytes() == v.tobytes()                  # bitwise, incl. -0.0


# ------------------------------------------------------------------------ scalers
@SETTINGS
@given(data=st.data(), dtype=DTYPES)
def test_minmax_maps_each_column_onto_zero_one_exactly(data, dtype):
    X = data.draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1,
                                                     max_side=6),
                             elements=_finite(dtype, 1e30)))
    Z, lo, hi = minmax(X)
    assert Z.dtype == dtype and np.all((Z >= 0) & (Z <= 1))
    varying = hi > lo
    np.testing.assert_array_equal(Z.min(axis=0), np.zeros(X.shape[1], dtype))
    np.testing.assert_array_equal(Z.max(axis=0)[varying], np.ones(varying.sum(), dtype))
    Z2, _, _ = minmax(X, lo, hi)                                         # reusing the bounds
    np.testing.assert_array_equal(Z2, Z)


@SETTINGS
@given(data=st.data(), dtype=DTYPES)
def test_standardize_is_finite_and_reuses_its_statistics(data, dtype):
    X = data.draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1,
                                                     max_side=6),
                             elements=_finite(dtype, 1e3)))
    Z, mean, scale = standardize(X)
    assert Z.dtype == dtype and np.all(np.isfinite(Z)) and np.all(scale > 0)
    np.testing.assert_array_equal(standardize(X, mean, scale)[0], Z)


# ------------------------------------------------------------------------ estimator labels
_LABELS = st.sampled_from([
    st.integers(-10**6, 10**6), st.text("abcxyz", min_size=1, max_size=3),
    st.integers(-50, 50).map(float), st.booleans()])


@SETTINGS
@given(data=st.data())
def test_any_two_or_more_discrete_labels_round_trip_through_the_estimator(data):
    """``classes_`` is ``np.unique(y)``; the model trains on indices into it and ``predict``
    maps back, so predictions are always labels the user gave, in the user's type."""
    from minadv.estimators import MLPClassifier

    labels = data.draw(st.lists(data.draw(_LABELS), min_size=2, max_size=4, unique=True))
    idx = data.draw(hnp.arrays(np.int64, 12, elements=st.integers(0, len(labels) - 1)))
    idx[:len(labels)] = np.arange(len(labels))                   # every label appears
    y = np.array(labels)[idx]
    X = np.random.default_rng(0).normal(size=(12, 2)) + idx[:, None]
    clf = MLPClassifier(hidden_layer_sizes=(), epochs=2, batch_size=12, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    pred = clf.predict(X)
    assert pred.dtype == y.dtype and set(pred.tolist()) <= set(y.tolist())
    assert clf.score(X, y) == float(np.mean(pred == y))
