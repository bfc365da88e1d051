"""The shipped UCI digits: offline, checksummed, the right shape and range, and learnable."""

import gzip
import hashlib
from importlib import resources

import numpy as np
import pytest

from minadv.attacks import fgsm
from minadv.datasets import load_digits, train_test_split
from minadv.digits import DIGITS_SHA256, read_verified
from minadv.models import MLP
from minadv.optim import adam
from minadv.training import ERM, fit


def _raw() -> bytes:
    return resources.files("minadv").joinpath("data", "digits.csv.gz").read_bytes()


def test_shape_range_and_labels():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.dtype == np.int64 and y.shape == (1797,)
    np.testing.assert_array_equal(np.bincount(y),
                                  [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    # g / 16 is exact: every value is a multiple of 1/16
    np.testing.assert_array_equal(X * 16, np.round(X * 16))


def test_checksum_of_shipped_file_and_license_note():
    assert hashlib.sha256(_raw()).hexdigest() == DIGITS_SHA256
    note = resources.files("minadv").joinpath("data", "DIGITS_LICENSE.md").read_text("utf-8")
    assert "CC BY 4.0" in note and "Alpaydin" in note and DIGITS_SHA256 in note


def test_options_dtype_images_raw():
    X32, _ = load_digits(dtype=np.float32)
    X64, _ = load_digits()
    assert X32.dtype == np.float32
    np.testing.assert_array_equal(X32, X64.astype(np.float32))   # exact: k/16 in both dtypes
    imgs, _ = load_digits(images=True)
    assert imgs.shape == (1797, 8, 8)
    np.testing.assert_array_equal(imgs.reshape(1797, 64), X64)
    raw, _ = load_digits(scale=False)
    np.testing.assert_array_equal(raw, X64 * 16)
    # first image of the file, row by row (checked against the CSV's first line)
    assert raw[0, :8].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"dtype": np.int64}, TypeError, "dtype: expected float32 or float64"),
    ({"images": "yes"}, TypeError, "images: expected True or False"),
    ({"scale": 1}, TypeError, "scale: expected True or False"),
], ids=["int-dtype", "images-str", "scale-int"])
def test_bad_options(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        load_digits(**kwargs)


def test_damaged_file_is_refused():
    data = bytearray(_raw())
    data[100] ^= 0xFF
    with pytest.raises(OSError, match="SHA-256 .* does not match"):
        read_verified(bytes(data))
    # a well-formed gzip with the wrong table is refused even when its hash is "expected"
    bad = gzip.compress(b"1,2,3\n")
    with pytest.raises(OSError, match="unexpected contents"):
        read_verified(bad, sha256=hashlib.sha256(bad).hexdigest())


def test_small_mlp_learns_digits_and_fgsm_breaks_it():
    X, y = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, rng=0)
    net = MLP([64, 32, 10], activation="relu")
    res = fit(net, net.init_params(rng=0), ERM(), X_tr, y_tr, optimizer=adam(1e-2), epochs=30,
              batch_size=64, rng=0, verbose=0)
    clean = np.mean(net.predict(res.params, X_te) == y_te)
    X_adv = fgsm(net, res.params, X_te, y_te, 0.1, clip_min=0.0, clip_max=1.0)
    robust = np.mean(net.predict(res.params, X_adv) == y_te)
    # measured (seed 0): clean 0.963, FGSM at eps = 0.1 (1.6 grey levels of 16): 0.387
    assert clean > 0.9
    assert robust < 0.5
