"""The public gradient checker and the `minadv gradcheck` command."""

import numpy as np
import pytest

from minadv import cli
from minadv.gradcheck import check_model, numerical_gradient, rel_error, suite_problem
from minadv.models import MLP


def test_rel_error_definition():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([0.0], [0.0]) == 0.0
    assert rel_error([1.0], [3.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="shapes differ"):
        rel_error([1.0], [1.0, 2.0])


def test_numerical_gradient_of_quadratic_is_exact():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = np.array([0.5, -1.0])
    numeric = numerical_gradient(lambda v: 0.5 * v @ A @ v, x)
    np.testing.assert_allclose(numeric, A @ x, rtol=0, atol=1e-9)  # A @ x = [0, -2.5]
    np.testing.assert_array_equal(x, [0.5, -1.0])          # input untouched


class _BrokenMLP(MLP):
    """An MLP whose backward pass forgets a factor 2 in the first layer's weight gradient."""

    def backward(self, params, cache, dlogits, **kw):
        grads, gx = super().backward(params, cache, dlogits, **kw)
        if grads is not None:
            grads["W1"] = 2 * grads["W1"]
        return grads, gx


def test_checker_catches_a_wrong_gradient():
    net = _BrokenMLP([3, 4, 2], activation="tanh")
    params, X, y = suite_problem(net, rng=0)
    report = check_model(net, params, X, y, rng=0)
    assert not report.passed
    assert report.param_grad > 1e-2
    assert "FAIL" in str(report)


def test_cli_gradcheck_passes(capsys):
    assert cli.main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    assert "all checks passed" in out
    for name in ("logistic", "mlp-relu/softmax", "mlp-tanh/sigsoftmax", "linear/softmax"):
        assert name in out


def test_cli_gradcheck_fails_on_broken_model(monkeypatch, capsys):
    import minadv.gradcheck as gc

    original = gc.suite_models
    monkeypatch.setattr(gc, "suite_models",
                        lambda dtype=np.float64: original(dtype) + [
                            ("broken", _BrokenMLP([4, 5, 3], activation="tanh"))])
    assert cli.main(["gradcheck"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_cli_without_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "gradcheck" in capsys.readouterr().out
