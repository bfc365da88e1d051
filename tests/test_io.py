"""save_model/load_model: exact round trips, atomic writes, clear errors on bad files."""

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

import minadv
from minadv.io import load_model, save_model
from minadv.models import MLP, LogisticRegressionModel
from minadv.params import tree_equal


def _mlp32():
    model = MLP([3, 5, 4], activation="tanh", dtype=np.float32)
    return model, model.init_params(rng=0)


@pytest.mark.parametrize("make", [
    _mlp32,
    lambda: (LogisticRegressionModel(4), LogisticRegressionModel(4).init_params(rng=1, scale=1.0)),
], ids=["mlp-float32", "logistic-float64"])
def test_round_trip_is_exact(tmp_path, make):
    model, params = make()
    path = save_model(tmp_path / "model", model, params, metadata={"eps": 0.1, "classes": [3, 7]})
    assert path.endswith(".npz")
    loaded = load_model(path)
    assert tree_equal(loaded.params, params)
    assert list(loaded.params) == list(params)
    assert all(loaded.params[k].dtype == params[k].dtype for k in params)
    assert loaded.model.config() == model.config()
    assert loaded.metadata == {"eps": 0.1, "classes": [3, 7]}
    assert loaded.minadv_version == minadv.__version__
    X = np.ones((2, model.n_features), dtype=model.dtype)
    np.testing.assert_array_equal(loaded.model.logits(loaded.params, X), model.logits(params, X))


def test_the_file_holds_no_pickles(tmp_path):
    model, params = _mlp32()
    path = save_model(tmp_path / "m.npz", model, params)
    with np.load(path, allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)


def test_truncated_file_raises_a_clear_value_error(tmp_path):
    model, params = _mlp32()
    path = save_model(tmp_path / "m.npz", model, params)
    blob = Path(path).read_bytes()
    for cut in (10, len(blob) // 2, len(blob) - 5):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(blob[:cut])
        with pytest.raises(ValueError, match="not a readable minadv model file"):
            load_model(bad)


@pytest.mark.parametrize("kind", ["text", "npy", "foreign-npz", "empty"])
def test_foreign_files_raise_a_clear_value_error(tmp_path, kind):
    path = tmp_path / "x.npz"
    if kind == "text":
        path.write_text("hello")
    elif kind == "npy":
        np.save(str(path).replace(".npz", ""), np.arange(3))
        os.replace(str(path).replace(".npz", ".npy"), path)
    elif kind == "foreign-npz":
        np.savez(path, a=np.arange(3))
    else:
        path.write_bytes(b"")
    with pytest.raises(ValueError, match="minadv model file"):
        load_model(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nope.npz")


def test_a_failed_save_never_overwrites_a_good_file(tmp_path, monkeypatch):
    model, params = _mlp32()
    path = save_model(tmp_path / "m.npz", model, params)
    good = Path(path).read_bytes()
    # invalid parameters, non-JSON metadata, and a crash in the middle of writing
    bad_params = dict(params, W1=params["W1"].astype(np.float64))
    with pytest.raises(TypeError):
        save_model(path, model, bad_params)
    with pytest.raises(TypeError, match="JSON"):
        save_model(path, model, params, metadata={"f": object()})

    def crash(fh, **arrays):
        fh.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save_model(path, model, params)
    assert Path(path).read_bytes() == good
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]       # no temporary file left behind
    assert tree_equal(load_model(path).params, params)


def test_save_replaces_an_existing_file_atomically(tmp_path):
    model, params = _mlp32()
    path = save_model(tmp_path / "m.npz", model, params)
    other = {k: v + np.float32(1) for k, v in params.items()}
    save_model(path, model, other)
    assert tree_equal(load_model(path).params, other)
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_inconsistent_or_newer_files_are_refused(tmp_path):
    import json

    model, params = _mlp32()
    path = save_model(tmp_path / "m.npz", model, params)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays["__minadv__"][()]))
    header["format_version"] = 99
    np.savez(tmp_path / "new.npz", **dict(arrays, __minadv__=np.array(json.dumps(header))))
    with pytest.raises(ValueError, match="newer"):
        load_model(tmp_path / "new.npz")
    del arrays["param:b2"]
    np.savez(tmp_path / "short.npz", **arrays)
    with pytest.raises(ValueError, match="inconsistent"):
        load_model(tmp_path / "short.npz")


def test_save_into_missing_folder_names_the_path(tmp_path):
    from minadv.io import save_model
    from minadv.models import LogisticRegressionModel

    model = LogisticRegressionModel(2)
    target = tmp_path / "nope" / "model.npz"
    with pytest.raises(FileNotFoundError, match="path: the folder .*nope"):
        save_model(str(target), model, model.init_params())


# ---------------------------------------------------------------------------- estimators, version
def test_a_fitted_estimator_saves_with_its_classes_and_loads_exactly(tmp_path):
    from minadv import MLPClassifier
    from minadv.datasets import make_moons

    X, y = make_moons(40, noise=0.1, rng=0)
    clf = MLPClassifier(hidden_layer_sizes=5, epochs=2, random_state=0).fit(X, 2 * y + 3)
    path = save_model(tmp_path / "clf", clf)
    loaded = load_model(tmp_path / "clf")                 # the .npz that save_model appended
    assert path.endswith("clf.npz") and tree_equal(loaded.params, clf.params_)
    assert loaded.metadata == {"estimator": "MLPClassifier", "classes": [3, 5]}
    proba = np.exp(loaded.model.output.log_proba(loaded.model.logits(loaded.params, X)))
    np.testing.assert_array_equal(np.array(loaded.metadata["classes"])[proba.argmax(axis=1)],
                                  clf.predict(X))


def test_estimator_saving_mistakes(tmp_path):
    from minadv import MLPClassifier
    from minadv.estimators import NotFittedError

    with pytest.raises(NotFittedError, match=r"^model: this MLPClassifier is not fitted"):
        save_model(tmp_path / "x", MLPClassifier())
    model, params = _mlp32()
    with pytest.raises(TypeError, match=r"^params: required with a model"):
        save_model(tmp_path / "x", model)
    with pytest.raises(TypeError, match=r"^path: expected a file name .*got int 3"):
        save_model(3, model, params)
    with pytest.raises(TypeError, match=r"^model: expected a minadv model .*got dict"):
        save_model(tmp_path / "x", params, model)
    assert os.listdir(tmp_path) == []


def test_the_version_comes_from_one_module_that_io_reads_directly():
    import minadv._version
    import minadv.io

    assert minadv.__version__ == minadv._version.__version__ == minadv.io.__version__
    source = Path(minadv.io.__file__).read_text()
    assert "from . import __version__" not in source and "import minadv" not in source


def test_packaging_reads_the_version_statically_without_importing_numpy():
    """``setup.cfg``'s ``version = attr: <module>.__version__`` must name a module that assigns
    the literal itself: setuptools then reads it with ``ast``; otherwise it imports the package,
    which needs NumPy inside pip's isolated build environment (and the install fails)."""
    import ast
    import configparser

    root = Path(__file__).resolve().parents[1]
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg")
    spec = cfg["metadata"]["version"].strip()
    assert spec.startswith("attr:"), spec
    module, _, attr = spec[len("attr:"):].strip().rpartition(".")
    source = root.joinpath(*module.split(".")).with_suffix(".py")
    if not source.exists():
        source = root.joinpath(*module.split("."), "__init__.py")
    literals = [node.value.value for node in ast.walk(ast.parse(source.read_text()))
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                and any(isinstance(t, ast.Name) and t.id == attr for t in node.targets)]
    assert literals == [minadv.__version__], (
        f"setup.cfg: version = {spec} is not a literal assignment in {source.name}; use "
        "'version = attr: minadv._version.__version__'")


def _npz_bytes(header, params):
    buf = io.BytesIO()
    np.savez(buf, __minadv__=np.array(json.dumps(header)),
             **{"param:" + k: v for k, v in params.items()})
    return buf.getvalue()


@pytest.mark.parametrize("field,value", [("format_version", "2"), ("format_version", None),
                                         ("format_version", 1.5), ("param_names", None),
                                         ("param_names", 5), ("param_names", [1, 2])])
def test_load_model_corrupt_header_fields_raise_a_clear_value_error(tmp_path, field, value):
    """BUG (fixed): a header with format_version "2" raised a bare TypeError
    ("'>' not supported between 'str' and 'int'"); param_names None raised
    "'NoneType' object is not iterable"."""
    model = MLP([3, 4, 2])
    params = model.init_params(rng=0)
    good = save_model(tmp_path / "good.npz", model, params)
    with np.load(good, allow_pickle=False) as data:
        header = json.loads(str(data["__minadv__"][()]))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(_npz_bytes({**header, field: value}, params))
    with pytest.raises(ValueError, match=rf"bad\.npz.*{field}"):
        load_model(bad)
    loaded = load_model(good)                                   # the good file is untouched
    assert all(np.array_equal(loaded.params[k], params[k]) for k in params)


def test_load_model_detects_a_flipped_bit_in_parameter_bytes(tmp_path):
    """A silent wrong answer would be worst: one flipped bit inside W1's data must be caught
    (the zip CRC-32), not loaded as a slightly different model."""
    model = MLP([3, 4, 2])
    params = model.init_params(rng=0)
    path = save_model(tmp_path / "m.npz", model, params)
    raw = bytearray(Path(path).read_bytes())
    at = bytes(raw).find(params["W1"].tobytes())
    assert at > 0
    raw[at + 3] ^= 0x10
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="flipped.npz.*(corrupt|CRC)"):
        load_model(bad)


@pytest.mark.parametrize("cut", [0, 1, 21, 0.25, 0.5, 0.75, -22, -1])
def test_load_model_truncated_anywhere_raises_a_clear_value_error(tmp_path, cut):
    model = LogisticRegressionModel(3)
    path = save_model(tmp_path / "m.npz", model, {"w": np.arange(3.0), "b": np.array(0.5)})
    raw = Path(path).read_bytes()
    n = int(cut * len(raw)) if isinstance(cut, float) else cut % len(raw) if cut < 0 else cut
    bad = tmp_path / "cut.npz"
    bad.write_bytes(raw[:n])
    with pytest.raises(ValueError, match="cut.npz: not a readable minadv model file"):
        load_model(bad)
    assert os.path.getsize(path) == len(raw)
