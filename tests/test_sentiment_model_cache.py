"""The decompressed copy of the language model kept in the user's cache (sentiment._language_arrays)."""

import hashlib
import json

import numpy as np
import pytest

from analytics import sentiment, usercache


@pytest.fixture(scope="module")
def decompressed():
    return sentiment._model_arrays(sentiment._language_model_file())


@pytest.fixture
def small():
    """Arrays shaped like the model's, small enough to write often."""
    rng = np.random.default_rng(3)
    return {"next_move": rng.integers(0, 2**32, 5000, dtype=np.uint32), "row_base": np.arange(70, dtype=np.int64) << 8,
            "output": rng.integers(-1, 50, 70).astype(np.int64), "weights": rng.random((50, 4), dtype=np.float32),
            "prior": rng.random(4, dtype=np.float32), "classes": np.array(["en", "de", "sr", "sr"])}


def _counting(monkeypatch, tmp_path, arrays):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls = []

    def counted(source):
        calls.append(source)
        return arrays

    monkeypatch.setattr(sentiment, "_model_arrays", counted)
    return calls


@pytest.fixture
def cache(tmp_path, monkeypatch, small):
    """An empty cache folder, and the number of times the (small) model is decompressed."""
    return _counting(monkeypatch, tmp_path, small)


@pytest.fixture
def real_cache(tmp_path, monkeypatch, decompressed):
    return _counting(monkeypatch, tmp_path, decompressed)


def _folder():
    digest = hashlib.sha256(sentiment._language_model_file().read_bytes()).hexdigest()[:32]
    return usercache.cache_dir() / f"langid-{digest}-{sentiment._LANGUAGE_CACHE_FORMAT}"


def _assert_same(arrays, expected):
    assert sorted(arrays) == sorted(expected)
    for name, array in expected.items():
        assert arrays[name].dtype == array.dtype, name
        np.testing.assert_array_equal(arrays[name], array)


def test_cached_arrays_equal_the_model_files(real_cache, decompressed):
    first = sentiment._language_arrays()
    assert len(real_cache) == 1
    second = sentiment._language_arrays()
    assert len(real_cache) == 1, "the second read must come from the cache"
    assert isinstance(second["weights"], np.memmap)
    _assert_same(second, decompressed)
    _assert_same(first, decompressed)


def test_the_cached_model_classifies_like_the_decompressed_one(real_cache, decompressed):
    sentiment._language_arrays()
    texts = ["Das ist wirklich eine sehr gute Nachricht für unsere Stadt", "This is really good news for our town",
             "Une très belle journée avec toute l'équipe", "ok", "Mañana vamos al parque con los niños 🙂"]
    expected = sentiment._LanguageModel(decompressed).classify(texts)
    labels, confidence = sentiment._LanguageModel(sentiment._language_arrays()).classify(texts)
    assert labels == expected[0]
    np.testing.assert_array_equal(confidence, expected[1])
    assert len(real_cache) == 1


def _flip_last_byte(path):
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [
    lambda folder: _flip_last_byte(folder / "weights.npy"),
    lambda folder: (folder / "next_move.npy").write_bytes((folder / "next_move.npy").read_bytes()[:1000]),
    lambda folder: (folder / "prior.npy").write_bytes(b"not an array"),
    lambda folder: (folder / "checksums.json").unlink(),
    lambda folder: (folder / "checksums.json").write_text("{"),
    lambda folder: (folder / "checksums.json").write_text(json.dumps({"weights": 1})),
    lambda folder: (folder / "classes.npy").unlink(),
], ids=["flipped byte", "truncated", "garbage", "no checksums", "bad json", "other arrays", "missing array"])
def test_a_damaged_cache_is_made_again(cache, small, damage):
    sentiment._language_arrays()
    damage(_folder())
    _assert_same(sentiment._language_arrays(), small)
    assert len(cache) == 2, "the damaged copy must not be read"
    _assert_same(usercache.read_arrays(_folder(), sentiment._LANGUAGE_ARRAYS), small)
    sentiment._language_arrays()
    assert len(cache) == 2, "the copy made again must be read"


def test_a_copy_under_another_key_is_not_read(cache, small, monkeypatch):
    sentiment._language_arrays()
    monkeypatch.setattr(sentiment, "_LANGUAGE_CACHE_FORMAT", "next")
    sentiment._language_arrays()
    assert len(cache) == 2
    assert _folder().name.endswith("-next")


def test_an_unwritable_cache_only_costs_time(cache, small, tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    _assert_same(sentiment._language_arrays(), small)
    _assert_same(sentiment._language_arrays(), small)
    assert len(cache) == 2


def test_the_checksum_sees_a_flipped_bit_anywhere_and_swapped_pages():
    array = np.random.default_rng(5).random(3 * 1024 + 7, dtype=np.float32)  # 3 pages and a partial one
    checksum = usercache.checksum(array)
    raw = array.view(np.uint8)
    for position in np.random.default_rng(6).choice(raw.size, 200, replace=False):
        damaged = raw.copy()
        damaged[position] ^= 1 << int(position % 8)
        assert usercache.checksum(damaged.view(np.float32)) != checksum, position
    swapped = raw.copy()
    swapped[:4096], swapped[4096:8192] = raw[4096:8192], raw[:4096]
    assert usercache.checksum(swapped.view(np.float32)) != checksum
    assert usercache.checksum(array[:-1]) != checksum
    assert usercache.checksum(array.copy()) == checksum
