"""Bad input at the public boundary: one test per case, each naming the argument."""

import numpy as np
import pytest

from minadv._validation import all_finite, as_generator, check_norm, check_scalar
from minadv.models import MLP, LogisticRegressionModel
from minadv.params import unflatten


@pytest.fixture
def net():
    return MLP([3, 4, 2], activation="tanh")


@pytest.fixture
def params(net):
    return net.init_params(rng=0)


X_OK = np.zeros((4, 3))
Y_OK = np.array([0, 1, 0, 1])


def test_X_not_2d(net, params):
    with pytest.raises(ValueError, match=r"X: expected a 2-D array, got shape \(3,\)"):
        net.loss(params, np.zeros(3), Y_OK[:1])


def test_X_wrong_width(net, params):
    with pytest.raises(ValueError, match=r"X: expected shape \(any, 3\), got \(4, 5\)"):
        net.loss(params, np.zeros((4, 5)), Y_OK)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_X_non_finite(net, params, bad):
    X = X_OK.copy()
    X[1, 2] = bad
    with pytest.raises(ValueError, match="X: contains"):
        net.loss_and_grads(params, X, Y_OK)


def test_label_out_of_range(net, params):
    with pytest.raises(ValueError, match=r"y: labels must lie in \{0, ..., 1\}"):
        net.loss(params, X_OK, np.array([0, 1, 2, 0]))


def test_label_minus_one_hint():
    model = LogisticRegressionModel(3)
    with pytest.raises(ValueError, match="Binary labels are 0/1, not -1/\\+1"):
        model.loss(model.init_params(), X_OK, np.array([-1, 1, -1, 1]))


def test_label_non_integer(net, params):
    with pytest.raises(ValueError, match="y: expected integer class labels"):
        net.loss(params, X_OK, np.array([0, 0.5, 1, 0]))


def test_label_wrong_dtype(net, params):
    with pytest.raises(TypeError, match="y: expected integer class labels"):
        net.loss(params, X_OK, np.array(["a", "b", "a", "b"]))


def test_length_mismatch(net, params):
    with pytest.raises(ValueError, match="y: has 3 labels but X has 4 rows"):
        net.loss(params, X_OK, np.array([0, 1, 0]))


def test_parameter_vector_wrong_size(params):
    with pytest.raises(ValueError, match=r"vector: expected a 1-D array of length 26"):
        unflatten(np.zeros(25), params)


def test_params_wrong_shape(net, params):
    bad = dict(params, W1=np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"params\['W1'\]: expected shape \(3, 4\)"):
        net.loss(bad, X_OK, Y_OK)


def test_params_missing_name(net, params):
    bad = {k: v for k, v in params.items() if k != "b2"}
    with pytest.raises(ValueError, match=r"params: expected the names .*missing \['b2'\]"):
        net.loss(bad, X_OK, Y_OK)


def test_params_nan(net, params):
    bad = dict(params, b1=np.array([0.0, np.nan, 0.0, 0.0]))
    with pytest.raises(ValueError, match=r"params\['b1'\]: contains 1 NaN"):
        net.loss(bad, X_OK, Y_OK)


def test_unknown_activation():
    with pytest.raises(ValueError, match="activation: expected one of"):
        MLP([3, 2], activation="gelu")


def test_unknown_output():
    with pytest.raises(ValueError, match="output: expected 'softmax' or 'sigsoftmax'"):
        MLP([3, 2], output="sparsemax")


def test_bad_sizes():
    with pytest.raises(ValueError, match="sizes"):
        MLP([3])
    with pytest.raises(ValueError, match=r"sizes\[1\]: expected an integer >= 1"):
        MLP([3, 0, 2])


@pytest.mark.parametrize("dtype", [np.int64, np.float16, object])
def test_wrong_model_dtype(dtype):
    with pytest.raises(TypeError, match="dtype: expected float32 or float64"):
        MLP([3, 2], dtype=dtype)


def test_X_integer_dtype(net, params):
    with pytest.raises(TypeError, match=r"X: expected a float32 or float64 array, got dtype int64"):
        net.loss(params, np.zeros((4, 3), dtype=np.int64), Y_OK)


def test_X_dtype_differs_from_model(net, params):
    with pytest.raises(TypeError, match="X: expected dtype float64 \\(the model's dtype\\), got float32"):
        net.loss(params, X_OK.astype(np.float32), Y_OK)


def test_params_dtype_differs_from_model(net, params):
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    with pytest.raises(TypeError, match=r"params\['W1'\]: expected dtype float64"):
        net.loss(p32, X_OK, Y_OK)


def test_X_not_an_array(net, params):
    with pytest.raises(TypeError, match="X: expected a NumPy array, got dict"):
        net.loss(params, {"a": 1}, Y_OK)


def test_hvp_direction_wrong_shape(net, params):
    bad = dict(params, W2=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"vector\['W2'\]: expected shape \(4, 2\)"):
        net.hvp(params, X_OK, Y_OK, bad)


def test_rng_validation():
    assert isinstance(as_generator(3), np.random.Generator)
    g = np.random.default_rng(0)
    assert as_generator(g) is g
    with pytest.raises(TypeError, match="rng: expected"):
        as_generator(np.random.RandomState(0))
    with pytest.raises(ValueError, match="rng: a seed must be a non-negative integer"):
        as_generator(-1)


def test_norm_and_scalar_validation():
    assert check_norm("Linf") == np.inf and check_norm(2) == 2 and check_norm("l1") == 1
    with pytest.raises(ValueError, match="norm: expected one of"):
        check_norm(3)
    with pytest.raises(ValueError, match="eps: expected eps >= 0"):
        check_scalar(-0.1, "eps", low=0)
    with pytest.raises(ValueError, match="eps: expected a finite number"):
        check_scalar(float("nan"), "eps", low=0)


def test_check_scalar_accepts_a_zero_d_array_and_read_idx_a_path(tmp_path):
    import struct

    from minadv._validation import check_scalar
    from minadv.mnist import read_idx

    assert check_scalar(np.array(0.25), "eps") == 0.25 and check_scalar(np.array(3), "n") == 3.0
    path = tmp_path / "x.idx"
    path.write_bytes(struct.pack(">BBBBI", 0, 0, 8, 1, 3) + bytes([1, 2, 3]))
    np.testing.assert_array_equal(read_idx(path), [1, 2, 3])          # a pathlib.Path


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_finite_agrees_with_isfinite(dtype):
    """The dot-product screen of ``all_finite`` decides exactly as ``isfinite(a).all()``, also
    where the dot overflows (large finite entries) and for NaN, ±inf, empty, 0-d and strided
    arrays."""
    big = np.sqrt(np.finfo(dtype).max)                   # big² overflows the dot: the fallback
    rng = np.random.default_rng(0)
    base = rng.standard_normal((6, 5)).astype(dtype)
    cases = [base, base[:, ::2], base.T, np.zeros((0, 3), dtype), np.asarray(2.0, dtype),
             np.full((3, 3), big, dtype), np.finfo(dtype).smallest_subnormal * base]
    for value in (np.nan, np.inf, -np.inf):
        bad = base.copy()
        bad[4, 1] = value
        cases += [bad, bad[:, ::2], bad.T]
    for a in cases:
        assert all_finite(a) is bool(np.isfinite(a).all())
