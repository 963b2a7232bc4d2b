"""Training: image folders -> loadable bundles with honest training facts; bad data rejected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sfxstudio.core.errors import BadInputError, Cancelled
from sfxstudio.ml.bundle import ModelBundle
from sfxstudio.ml.train import scan_image_folder, split_stratified, train, train_arrays
from tests.fixtures.models import SOLID, solid_frames

COLOURS = {"fire": "red", "river": "blue", "otherwise": "green"}


def _noisy(colour: str, n: int, seed: int, size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.asarray(SOLID[colour], np.int16)
    noise = rng.integers(-30, 31, (n, size, size, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _image_folder(root: Path, per_class: int = 12) -> Path:
    for k, (cls, colour) in enumerate(COLOURS.items()):
        folder = root / cls
        folder.mkdir(parents=True)
        for i, img in enumerate(_noisy(colour, per_class, seed=k)):
            ext = "png" if i % 2 else "jpg"
            Image.fromarray(img).save(folder / f"{i:03d}.{ext}")
    (root / "fire" / "notes.txt").write_text("not an image, ignored")
    return root


def test_split_is_stratified_and_deterministic() -> None:
    labels = np.array([0] * 10 + [1] * 5 + [2] * 1)
    tr, va = split_stratified(labels, 0.2, seed=1)
    assert sorted(np.concatenate([tr, va]).tolist()) == list(range(16))
    assert [int((labels[va] == c).sum()) for c in range(3)] == [2, 1, 0]
    tr2, va2 = split_stratified(labels, 0.2, seed=1)
    assert np.array_equal(tr, tr2) and np.array_equal(va, va2)
    assert len(split_stratified(labels, 0.0)[1]) == 0


def test_train_on_an_image_folder_writes_a_loadable_bundle(tmp_path: Path) -> None:
    data = _image_folder(tmp_path / "data")
    seen: list[dict] = []
    out = train(
        data,
        "tiny",
        tmp_path / "model",
        weights="none",
        head_epochs=1,
        finetune_epochs=1,
        batch_size=8,
        progress=seen.append,
        echo=False,
    )
    bundle = ModelBundle.load(out)
    # class order follows the built-in class list (river=2, fire=17, otherwise=20)
    assert bundle.class_names == ["river", "fire", "otherwise"]
    assert bundle.input_size == (32, 32)
    facts = bundle.meta["training"]
    assert facts["images"] == {"river": 12, "fire": 12, "otherwise": 12}
    assert facts["val_images"] == {"river": 2, "fire": 2, "otherwise": 2}
    assert facts["train_images"] == {"river": 10, "fire": 10, "otherwise": 10}
    assert facts["epochs_run"] == {"head": 1, "finetune": 1}
    assert facts["interrupted"] is False
    assert 0.0 <= facts["best_val_accuracy"] <= 1.0
    assert facts["best_val_accuracy"] == max(h["val_accuracy"] for h in facts["history"])
    assert facts["recipe"]["augmentation"]["rotation_deg"] == 15.0
    assert "shear" in facts["recipe"]["augmentation"]  # keras 3.15 has RandomShear
    assert bundle.meta["backbone"] == "tiny" and bundle.meta["weights_source"] == "none"
    assert [(s["phase"], s["epoch"]) for s in seen] == [("head", 1), ("finetune", 1)]
    assert all(s["val_accuracy"] is not None for s in seen)
    probs, _ = bundle.predict(solid_frames("red", 2))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_train_arrays_learns_colours(tmp_path: Path) -> None:
    names = ["fire", "river", "otherwise"]
    x = np.concatenate([_noisy(COLOURS[n], 24, seed=i) for i, n in enumerate(names)])
    y = np.repeat(np.arange(3), 24)
    x_val = np.concatenate([_noisy(COLOURS[n], 4, seed=10 + i) for i, n in enumerate(names)])
    y_val = np.repeat(np.arange(3), 4)
    out = train_arrays(
        x, y, names, "tiny", tmp_path / "m", epochs=12, batch_size=16, x_val=x_val, y_val=y_val,
        augment=False, learning_rate=1e-2, echo=False, supported_classes=["fire", "otherwise"],
    )  # fmt: skip
    bundle = ModelBundle.load(out)
    facts = bundle.meta["training"]
    assert facts["best_val_accuracy"] == 1.0
    assert facts["epochs_run"] == {"train": 12}
    assert bundle.supported_classes == ["fire", "otherwise"]
    for colour, expected in [("red", "fire"), ("blue", "river"), ("green", "otherwise")]:
        probs, _ = bundle.predict(solid_frames(colour, 1))
        assert bundle.class_names[int(probs.argmax())] == expected


def test_train_arrays_with_augmentation_runs(tmp_path: Path) -> None:
    names = ["fire", "otherwise"]
    x = np.concatenate([_noisy("red", 8, 0), _noisy("green", 8, 1)])
    y = np.repeat(np.arange(2), 8)
    out = train_arrays(x, y, names, "tiny", tmp_path / "m", epochs=1, val_split=0.25, echo=False)
    facts = ModelBundle.load(out).meta["training"]
    assert facts["val_images"] == {"fire": 2, "otherwise": 2}
    assert set(facts["recipe"]["augmentation"]) >= {"rotation_deg", "shift", "zoom", "channel_shift"}


def test_ctrl_c_saves_the_best_model_so_far(tmp_path: Path) -> None:
    names = ["fire", "otherwise"]
    x = np.concatenate([_noisy("red", 8, 0), _noisy("green", 8, 1)])
    y = np.repeat(np.arange(2), 8)

    def progress(info: dict) -> None:
        if info["total_epoch"] == 2:
            raise KeyboardInterrupt

    out = train_arrays(
        x, y, names, "tiny", tmp_path / "m", epochs=50, augment=False, progress=progress, echo=False
    )
    facts = ModelBundle.load(out).meta["training"]
    assert facts["interrupted"] is True
    assert facts["epochs_run"] == {"train": 2}
    assert facts["epochs_planned"] == {"train": 50}


def test_cancel_stops_after_the_current_epoch(tmp_path: Path) -> None:
    names = ["fire", "otherwise"]
    x = np.concatenate([_noisy("red", 8, 0), _noisy("green", 8, 1)])
    y = np.repeat(np.arange(2), 8)
    out = train_arrays(
        x, y, names, "tiny", tmp_path / "m", epochs=50, augment=False, cancel=lambda: True, echo=False
    )
    facts = ModelBundle.load(out).meta["training"]
    assert facts["cancelled"] is True and facts["epochs_run"] == {"train": 1}


def test_stopping_before_the_first_epoch_saves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keras

    from sfxstudio.ml import train as train_mod

    names = ["fire", "otherwise"]
    x = np.concatenate([_noisy("red", 8, 0), _noisy("green", 8, 1)])
    y = np.repeat(np.arange(2), 8)

    class _CtrlCInFirstBatch(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch: int, logs: object = None) -> None:
            raise KeyboardInterrupt

    original = train_mod._Tracker.callback
    monkeypatch.setattr(
        train_mod._Tracker, "callback", lambda self, *a: (original(self, *a), _CtrlCInFirstBatch())[1]
    )
    with pytest.raises(Cancelled, match="no model was saved"):
        train_arrays(x, y, names, "tiny", tmp_path / "m", epochs=3, augment=False, echo=False)
    assert not (tmp_path / "m").exists()


def test_bad_training_folders_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="does not exist"):
        scan_image_folder(tmp_path / "missing")
    one = tmp_path / "one"
    (one / "otherwise").mkdir(parents=True)
    Image.fromarray(solid_frames("red")[0]).save(one / "otherwise" / "a.png")
    with pytest.raises(BadInputError, match="at least two classes; found 1"):
        scan_image_folder(one)
    no_other = tmp_path / "no_other"
    for c in ("fire", "river"):
        (no_other / c).mkdir(parents=True)
    with pytest.raises(BadInputError, match="'otherwise' sub-folder"):
        scan_image_folder(no_other)

    data = _image_folder(tmp_path / "data", per_class=2)
    (data / "cheer").mkdir()
    (data / "cheer" / "readme.txt").write_text("no images here")
    with pytest.raises(BadInputError, match="'cheer' has no images") as e:
        scan_image_folder(data)
    assert e.value.path == str(data / "cheer")
    (data / "cheer" / "readme.txt").unlink()
    (data / "cheer").rmdir()

    broken = data / "fire" / "broken.jpg"
    good = (data / "fire" / "000.jpg").read_bytes()
    broken.write_bytes(good[: len(good) // 3])
    with pytest.raises(BadInputError, match="cannot be read as an image") as e:
        scan_image_folder(data)
    assert e.value.path == str(broken)
    broken.write_text("hello")
    with pytest.raises(BadInputError, match="cannot be read as an image"):
        scan_image_folder(data)
    broken.unlink()

    (data / "river" / "x.webp").write_bytes(b"RIFF")
    with pytest.raises(BadInputError, match="convert it to JPEG or PNG") as e:
        scan_image_folder(data)
    assert e.value.path == str(data / "river" / "x.webp")
    (data / "river" / "x.webp").unlink()
    names, paths, labels = scan_image_folder(data)
    assert names == ["river", "fire", "otherwise"] and len(paths) == 6
    assert labels.tolist() == [0, 0, 1, 1, 2, 2]


def test_train_rejects_imagenet_for_a_scratch_backbone(tmp_path: Path) -> None:
    data = _image_folder(tmp_path / "data", per_class=2)
    with pytest.raises(BadInputError, match="no ImageNet weights"):
        train(data, "tiny", tmp_path / "m", weights="imagenet", head_epochs=1, finetune_epochs=0)
    assert not (tmp_path / "m").exists()
