"""MNIST download and parsing, tested against a server on 127.0.0.1 that the test starts."""

import gzip
import hashlib
import http.server
import os
import struct
import threading

import numpy as np
import pytest

from minadv.mnist import fetch_file, load_mnist, read_idx

N = 30


def _idx_bytes(array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", s) for s in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture(scope="module")
def fake_files(tmp_path_factory):
    """Tiny gzipped IDX files with the MNIST names, and their MD5s."""
    root = tmp_path_factory.mktemp("served")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, 28, 28))
    labels = np.arange(N) % 10
    sums = {}
    for prefix in ("train", "t10k"):
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte.gz"
            data = gzip.compress(_idx_bytes(arr), mtime=0)
            (root / name).write_bytes(data)
            sums[name] = hashlib.md5(data).hexdigest()
    (root / "truncated.gz").write_bytes((root / "train-images-idx3-ubyte.gz").read_bytes()[:50])
    return root, sums, images, labels


@pytest.fixture
def server(fake_files):
    root = fake_files[0]

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_download_parse_and_cache(server, fake_files, tmp_path):
    _, sums, images, labels = fake_files
    X, y = load_mnist("train", data_home=str(tmp_path), base_url=server, checksums=sums)
    assert X.shape == (N, 784) and X.dtype == np.float32
    np.testing.assert_array_equal(X, images.reshape(N, 784).astype(np.float32) / 255)
    np.testing.assert_array_equal(y, labels)
    assert sorted(os.listdir(tmp_path)) == ["train-images-idx3-ubyte.gz",
                                            "train-labels-idx1-ubyte.gz"]
    # cached: works with download disabled (no server needed)
    X2, _ = load_mnist("train", data_home=str(tmp_path), download=False, checksums=sums)
    np.testing.assert_array_equal(X, X2)


def test_digits_filter_and_relabel(server, fake_files, tmp_path):
    _, sums, images, labels = fake_files
    X, y = load_mnist("test", digits=(7, 3), data_home=str(tmp_path), base_url=server,
                      checksums=sums, dtype=np.float64)
    keep = np.isin(labels, (3, 7))
    np.testing.assert_array_equal(y, np.where(labels[keep] == 7, 0, 1))
    assert X.dtype == np.float64 and X.shape == (keep.sum(), 784)
    X3, _ = load_mnist("test", n_samples=4, data_home=str(tmp_path), base_url=server,
                       checksums=sums)
    assert X3.shape == (4, 784)


def test_bad_checksum_download_writes_nothing(server, fake_files, tmp_path):
    sums = dict(fake_files[1], **{"train-images-idx3-ubyte.gz": "0" * 32})
    with pytest.raises(ValueError, match="expected 0{32}"):
        load_mnist("train", data_home=str(tmp_path), base_url=server, checksums=sums)
    assert os.listdir(tmp_path) == []                     # no partial or temporary file left


def test_corrupt_cached_file_is_reported_not_deleted(fake_files, tmp_path):
    _, sums, _, _ = fake_files
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"my own notes")
    with pytest.raises(ValueError, match="checksum mismatch .* Delete it"):
        load_mnist("train", data_home=str(tmp_path), download=False, checksums=sums)
    assert path.read_bytes() == b"my own notes"


def test_good_cached_file_survives_a_failed_download(server, fake_files, tmp_path):
    root, sums, _, _ = fake_files
    good = (root / "train-labels-idx1-ubyte.gz").read_bytes()
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(good)
    bad = dict(sums, **{"train-images-idx3-ubyte.gz": "f" * 32})
    with pytest.raises(ValueError):
        load_mnist("train", data_home=str(tmp_path), base_url=server, checksums=bad)
    assert (tmp_path / "train-labels-idx1-ubyte.gz").read_bytes() == good


def test_http_error_is_clear(server, tmp_path):
    with pytest.raises(OSError, match="could not download .*missing.gz"):
        fetch_file(server + "missing.gz", str(tmp_path / "missing.gz"), "0" * 32)
    assert os.listdir(tmp_path) == []


def test_truncated_idx_file(server, fake_files, tmp_path):
    data = (fake_files[0] / "truncated.gz").read_bytes()
    path = str(tmp_path / "truncated.gz")
    fetch_file(server + "truncated.gz", path, hashlib.md5(data).hexdigest())
    with pytest.raises(ValueError, match="truncated.gz: not a readable"):
        read_idx(path)


def test_idx_header_mismatch(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(_idx_bytes(np.zeros((3, 4)))[:-2])
    with pytest.raises(ValueError, match=r"announces shape \(3, 4\)"):
        read_idx(str(path))
    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(ValueError, match="bad IDX magic"):
        read_idx(str(tmp_path / "bad.idx"))


def test_missing_without_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_mnist("train", data_home=str(tmp_path), download=False)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="subset"):
        load_mnist("validation", data_home=str(tmp_path))
    with pytest.raises(ValueError, match="digits"):
        load_mnist("train", digits=(3, 3), data_home=str(tmp_path), download=False,
                   checksums={})


# ---------------------------------------------------------------------------- local files
def test_offline_error_names_every_missing_file_and_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist("test", data_home=str(tmp_path), download=False)
    msg = str(info.value)
    assert str(tmp_path) in msg and "MINADV_DATA" in msg and "2 file(s) missing" in msg
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte", "t10k-labels.idx1-ubyte"):
        assert name in msg


def test_offline_error_names_only_the_file_that_is_missing(fake_files, tmp_path):
    root, sums, _, _ = fake_files
    name = "train-images-idx3-ubyte.gz"
    (tmp_path / name).write_bytes((root / name).read_bytes())
    with pytest.raises(FileNotFoundError, match="1 file") as info:
        load_mnist("train", data_home=str(tmp_path), download=False, checksums=sums)
    assert "train-labels-idx1-ubyte.gz" in str(info.value)
    assert "looked for: train-images" not in str(info.value)


def test_a_failed_download_names_every_missing_file(tmp_path):
    # port 9 of 127.0.0.1 (discard) is closed here: the connection is refused at once
    with pytest.raises(OSError, match=r"2 file\(s\) missing .*train-labels-idx1-ubyte"):
        load_mnist("train", data_home=str(tmp_path), base_url="http://127.0.0.1:9/",
                   timeout=2.0)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("style", ["gunzip", "dotted"])
def test_uncompressed_idx_files_in_data_home_are_used_offline(fake_files, tmp_path, style):
    _, _, images, labels = fake_files
    for prefix, kind, arr in (("t10k", "images-idx3", images), ("t10k", "labels-idx1", labels)):
        name = f"{prefix}-{kind}-ubyte"
        if style == "dotted":
            name = name.replace("-idx", ".idx", 1)
        (tmp_path / name).write_bytes(_idx_bytes(arr))
    X, y = load_mnist("test", data_home=str(tmp_path), download=False, dtype=np.float64)
    np.testing.assert_array_equal(X, images.reshape(N, 784) / 255.0)
    np.testing.assert_array_equal(y, labels)


def test_minadv_data_environment_variable_is_the_default_folder(fake_files, tmp_path,
                                                                monkeypatch):
    root, sums, images, _ = fake_files
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (tmp_path / name).write_bytes((root / name).read_bytes())
    monkeypatch.setenv("MINADV_DATA", str(tmp_path))
    X, _ = load_mnist("train", download=False, checksums=sums, n_samples=3)
    np.testing.assert_array_equal(X, images[:3].reshape(3, 784).astype(np.float32) / 255)


def test_the_docstrings_document_the_local_file_options():
    import minadv.mnist as mnist

    for text in (mnist.__doc__, mnist.load_mnist.__doc__):
        assert "MINADV_DATA" in text and "data_home" in text
    assert "uncompressed" in mnist.__doc__ and "train-images-idx3-ubyte" in mnist.__doc__
