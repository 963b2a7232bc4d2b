"""Training a frame classifier: the paper's transfer-learning recipe as the default.

Recipe (DESIGN.md section 1): a new dense head on an ImageNet backbone; train the head with the
backbone frozen (100 epochs), then fine-tune everything (100 epochs); Adam; stratified 80/20
split; augmentation: rotation 15 deg, shift 15 %, shear 15 %, zoom 15 %, channel shift 10 %,
horizontal flip. The model with the best validation accuracy is the one saved.

Augmentation runs in the tf.data input pipeline (Keras preprocessing layers + plain TF ops),
never inside the saved model: model.keras stays free of random layers and loads with
safe_mode=True. Ctrl+C (KeyboardInterrupt) or cancel() stops training and still saves the best
model so far.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.classes import OTHERWISE, default_classes
from sfxstudio.core.errors import BadInputError, Cancelled
from sfxstudio.ml.backbones import backbone_spec, build_classifier, count_params
from sfxstudio.ml.bundle import precompile, save_bundle

ProgressFn = Callable[[dict[str, Any]], None]

# Formats tf.io.decode_image reads; anything else would fail inside the pipeline, mid-epoch.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
_OTHER_IMAGES = (".webp", ".tif", ".tiff", ".heic", ".avif", ".jp2")

AUGMENTATION = {
    "rotation_deg": 15.0,
    "shift": 0.15,
    "shear": 0.15,
    "zoom": 0.15,
    "channel_shift": 0.10,
    "horizontal_flip": True,
}


# --- data ------------------------------------------------------------------------------------


def scan_image_folder(data_dir: str | Path) -> tuple[list[str], list[Path], np.ndarray]:
    """data_dir/<class name>/*.jpg|png|... -> (class names, image paths, labels).

    Class order: the default class order for known names (so models line up with the built-in
    class list), then other names alphabetically. Every image is decoded once here so that a
    broken file is named now, not as a TensorFlow error in the middle of epoch 37.
    """
    from PIL import Image

    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise BadInputError(data_dir, "training data folder does not exist")
    folders = sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(folders) < 2:
        raise BadInputError(
            data_dir, f"needs one sub-folder per class and at least two classes; found {len(folders)}"
        )
    names = [p.name for p in folders]
    if OTHERWISE not in names:
        raise BadInputError(
            data_dir, f"needs an {OTHERWISE!r} sub-folder with frames that have no sound effect"
        )
    known = default_classes()
    order = sorted(names, key=lambda n: (0, known.id_of(n), n) if n in known else (1, 0, n))
    paths: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(order):
        folder = data_dir / name
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        images = [p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS]
        odd = [p for p in files if p.suffix.lower() in _OTHER_IMAGES]
        if odd:
            raise BadInputError(odd[0], "image format not supported for training; convert it to JPEG or PNG")
        if not images:
            raise BadInputError(folder, f"class folder {name!r} has no images (JPEG, PNG, BMP or GIF)")
        for p in images:
            try:
                with Image.open(p) as im:
                    im.draft("RGB", (256, 256))  # JPEG: decode at reduced size, still reads all data
                    im.load()
            except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError... for bad files
                raise BadInputError(p, f"cannot be read as an image ({exc})") from exc
            paths.append(p)
            labels.append(label)
    return order, paths, np.asarray(labels, np.int64)


def split_stratified(labels: np.ndarray, val_split: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val): val_split of every class goes to validation (at least one image
    when the class has two or more), so rare classes are measured too."""
    if not 0.0 <= val_split < 1.0:
        raise ValueError("val_split must be in [0, 1)")
    rng = np.random.default_rng(seed)
    train_idx: list[np.ndarray] = []
    val_idx: list[np.ndarray] = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        n_val = 0 if val_split == 0 or len(idx) < 2 else max(1, round(len(idx) * val_split))
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    tr = np.concatenate(train_idx)
    va = np.concatenate(val_idx)
    rng.shuffle(tr)
    return tr, np.sort(va)


def _has_shear() -> bool:
    import keras

    return hasattr(keras.layers, "RandomShear")


def _augmenter(seed: int) -> tuple[Any, bool]:
    """Keras preprocessing layers for the paper's augmentation -> (layer, has_shear)."""
    import keras
    from keras import layers

    a = AUGMENTATION
    stack = [
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomRotation(a["rotation_deg"] / 360.0, fill_mode="reflect", seed=seed + 1),
        layers.RandomTranslation(a["shift"], a["shift"], fill_mode="reflect", seed=seed + 2),
        layers.RandomZoom(a["zoom"], a["zoom"], fill_mode="reflect", seed=seed + 3),
    ]
    has_shear = hasattr(layers, "RandomShear")
    if has_shear:
        stack.append(layers.RandomShear(a["shear"], a["shear"], fill_mode="reflect", seed=seed + 4))
    return keras.Sequential(stack, name="augment"), has_shear


def _make_datasets(
    train_source: Any,
    val_source: Any | None,
    batch_size: int,
    augment: bool,
    seed: int,
    n_train: int,
) -> tuple[Any, Any | None]:
    """tf.data pipelines from (images-or-paths, labels) datasets of uint8 frames."""
    from sfxstudio.ml import tf_setup

    tf = tf_setup.tf()
    autotune = tf.data.AUTOTUNE
    train = train_source.cache().shuffle(max(1, n_train), seed=seed, reshuffle_each_iteration=True)
    train = train.batch(batch_size)
    if augment:
        aug, _ = _augmenter(seed)
        shift = AUGMENTATION["channel_shift"] * 255.0

        def _augment(x: Any, y: Any) -> Any:
            x = tf.cast(x, tf.float32)
            x = aug(x, training=True)
            # Channel shift (Keras ImageDataGenerator's channel_shift_range), per image and
            # channel: a plain TF op, no layer needed.
            x = x + tf.random.uniform((tf.shape(x)[0], 1, 1, 3), -shift, shift)
            return tf.clip_by_value(x, 0.0, 255.0), y

        train = train.map(_augment, num_parallel_calls=autotune)
    else:
        train = train.map(lambda x, y: (tf.cast(x, tf.float32), y))
    train = train.prefetch(autotune)
    val = None
    if val_source is not None:
        val = val_source.cache().batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32), y))
        val = val.prefetch(autotune)
    return train, val


def _file_source(paths: Sequence[Path], labels: np.ndarray, input_size: tuple[int, int]) -> Any:
    from sfxstudio.ml import tf_setup

    tf = tf_setup.tf()
    w, h = input_size

    def _load(path: Any, label: Any) -> Any:
        img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        img = tf.image.resize(img, (h, w), method="area")
        img = tf.cast(tf.clip_by_value(tf.round(img), 0, 255), tf.uint8)
        img.set_shape((h, w, 3))
        return img, label

    ds = tf.data.Dataset.from_tensor_slices(([str(p) for p in paths], labels.astype(np.int32)))
    return ds.map(_load, num_parallel_calls=tf.data.AUTOTUNE)


# --- the training loop ----------------------------------------------------------------------


class _Tracker:
    """Keras callback factory state: best weights by validation accuracy, progress, cancel."""

    def __init__(self, progress: ProgressFn | None, cancel: Callable[[], bool] | None, echo: bool) -> None:
        self.progress = progress
        self.cancel = cancel
        self.echo = echo
        self.best_weights: list[np.ndarray] | None = None
        self.best_acc = -1.0
        self.best_loss = float("inf")
        self.best_epoch = 0
        self.total_epochs = 0
        self.history: list[dict[str, Any]] = []
        self.cancelled = False

    def callback(self, model: Any, phase: str, epochs: int, total_planned: int) -> Any:
        import keras

        tracker = self

        class _Cb(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                self._t0 = time.perf_counter()

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                logs = dict(logs or {})
                tracker.total_epochs += 1
                has_val = "val_accuracy" in logs
                acc = float(logs["val_accuracy"] if has_val else logs.get("accuracy", 0.0))
                loss = float(logs["val_loss"] if has_val else logs.get("loss", 0.0))
                if acc > tracker.best_acc or (acc == tracker.best_acc and loss < tracker.best_loss):
                    tracker.best_acc, tracker.best_loss = acc, loss
                    tracker.best_epoch = tracker.total_epochs
                    tracker.best_weights = model.get_weights()
                info = {
                    "phase": phase,
                    "epoch": epoch + 1,
                    "epochs": epochs,
                    "total_epoch": tracker.total_epochs,
                    "total_epochs": total_planned,
                    "loss": float(logs.get("loss", float("nan"))),
                    "accuracy": float(logs.get("accuracy", float("nan"))),
                    "val_loss": float(logs["val_loss"]) if has_val else None,
                    "val_accuracy": float(logs["val_accuracy"]) if has_val else None,
                    "best_val_accuracy": tracker.best_acc if has_val else None,
                    "seconds": time.perf_counter() - self._t0,
                }
                tracker.history.append(info)
                if tracker.echo:
                    val = (
                        f" val_loss {info['val_loss']:.4f} val_acc {info['val_accuracy']:.3f}"
                        f" (best {tracker.best_acc:.3f})"
                        if has_val
                        else ""
                    )
                    print(
                        f"[{phase} {epoch + 1}/{epochs}] loss {info['loss']:.4f} acc {info['accuracy']:.3f}"
                        f"{val} {info['seconds']:.1f}s",
                        flush=True,
                    )
                if tracker.progress is not None:
                    tracker.progress(info)
                if tracker.cancel is not None and tracker.cancel():
                    tracker.cancelled = True
                    model.stop_training = True

        return _Cb()


def _run_phases(
    model: Any,
    info: dict[str, Any],
    train_ds: Any,
    val_ds: Any | None,
    phases: list[tuple[str, int, float, bool]],
    tracker: _Tracker,
) -> tuple[dict[str, int], bool]:
    """phases: (name, epochs, learning rate, backbone trainable). -> (epochs run per phase, interrupted)."""
    import keras

    from sfxstudio.ml import tf_setup
    from sfxstudio.ml.backbones import set_backbone_trainable

    planned = sum(p[1] for p in phases)
    run: dict[str, int] = {}
    interrupted = False
    backbone = model.get_layer(info["backbone_layer"])
    for name, epochs, lr, trainable in phases:
        if epochs <= 0:
            continue
        # Pretrained BatchNorm stays in inference mode while fine-tuning (see backbones).
        set_backbone_trainable(model, info, trainable)
        model.compile(
            optimizer=keras.optimizers.Adam(lr),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=["accuracy"],
            # XLA on CPU costs a long compile for little gain on these small batches.
            jit_compile=tf_setup.using_gpu(),
        )
        before = tracker.total_epochs
        try:
            model.fit(
                train_ds,
                validation_data=val_ds,
                epochs=epochs,
                shuffle=False,  # the dataset shuffles itself (Keras would ignore it and warn)
                verbose=0,
                callbacks=[tracker.callback(model, name, epochs, planned)],
            )
        except KeyboardInterrupt:
            interrupted = True
        run[name] = tracker.total_epochs - before
        if interrupted or tracker.cancelled:
            break
    backbone.trainable = True
    return run, interrupted


def _finish(
    model: Any,
    info: dict[str, Any],
    tracker: _Tracker,
    out_dir: Path,
    class_names: list[str],
    facts: dict[str, Any],
    description: str,
    overwrite: bool,
    parent: dict[str, Any] | str | None,
    supported_classes: Sequence[str] | None = None,
) -> Path:
    if tracker.best_weights is None:
        # Stopped before one epoch finished: there is no "best model so far", and saving the
        # random initial weights as a bundle would pass noise off as a trained model.
        raise Cancelled("training stopped before the first epoch finished; no model was saved")
    model.set_weights(tracker.best_weights)
    facts = facts | {
        "best_val_accuracy": round(tracker.best_acc, 6) if facts.get("val_images") else None,
        "best_epoch": tracker.best_epoch,
        "history": [
            {k: (round(v, 6) if isinstance(v, float) else v) for k, v in h.items()} for h in tracker.history
        ],
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "parameters": count_params(model),
    }
    written = save_bundle(
        model,
        out_dir,
        class_names,
        backbone=info["backbone"],
        preprocessing=info["preprocessing"],
        input_size=tuple(info["input_size"]),
        weights_source=info["weights_source"],
        embedding_layer=info["embedding_layer"],
        description=description,
        training=facts,
        parent=parent,
        supported_classes=supported_classes,
        overwrite=overwrite,
    )
    precompile(written)  # the first analysis with it converts nothing
    return written


def _phases(
    pretrained: bool, head_epochs: int, finetune_epochs: int, lr: float, ft_lr: float
) -> list[tuple[str, int, float, bool]]:
    if pretrained:
        return [("head", head_epochs, lr, False), ("finetune", finetune_epochs, ft_lr, True)]
    # A randomly initialised backbone has nothing to protect: both phases train everything,
    # the second at the fine-tuning rate.
    return [("head", head_epochs, lr, True), ("finetune", finetune_epochs, ft_lr, True)]


def _recipe(
    batch_size: int,
    lr: float,
    ft_lr: float,
    seed: int,
    augment: bool,
    has_shear: bool,
    val_split: float | None,
) -> dict[str, Any]:
    aug = dict(AUGMENTATION) if augment else {}
    if augment and not has_shear:
        aug.pop("shear")
    return {
        "optimizer": "adam",
        "learning_rate": lr,
        "finetune_learning_rate": ft_lr,
        "batch_size": batch_size,
        "seed": seed,
        "val_split": val_split,
        "augmentation": aug,
        "selection": "best validation accuracy",
    }


def _counts(labels: np.ndarray, names: list[str]) -> dict[str, int]:
    return {n: int((labels == i).sum()) for i, n in enumerate(names)}


def train(
    data_dir: str | Path,
    backbone: str,
    out_dir: str | Path,
    weights: str | Path | None = "imagenet",
    head_epochs: int = 100,
    finetune_epochs: int = 100,
    batch_size: int = 32,
    input_size: tuple[int, int] | None = None,
    val_split: float = 0.2,
    seed: int = 0,
    learning_rate: float = 1e-3,
    finetune_learning_rate: float = 1e-5,
    progress: ProgressFn | None = None,
    allow_download: bool = False,
    cancel: Callable[[], bool] | None = None,
    augment: bool = True,
    description: str = "",
    overwrite: bool = False,
    echo: bool = True,
) -> Path:
    """Train on data_dir/<class>/*.jpg (must include 'otherwise') and write a bundle to out_dir.

    Returns the bundle folder. weights: "imagenet" (Keras cache, or download when
    allow_download), "none", or a local weights file. Ctrl+C or cancel() saves the best model so
    far (training facts say "interrupted").
    """
    import keras

    from sfxstudio.ml import tf_setup

    tf_setup.configure()
    spec = backbone_spec(backbone)
    size: tuple[int, int] = (
        (int(input_size[0]), int(input_size[1])) if input_size is not None else spec.default_input
    )
    class_names, paths, labels = scan_image_folder(data_dir)
    tr, va = split_stratified(labels, val_split, seed)
    keras.utils.set_random_seed(seed)
    model, info = build_classifier(spec.name, len(class_names), size, weights, allow_download=allow_download)
    tr_src = _file_source([paths[i] for i in tr], labels[tr], size)
    va_src = _file_source([paths[i] for i in va], labels[va], size) if len(va) else None
    train_ds, val_ds = _make_datasets(tr_src, va_src, batch_size, augment, seed, len(tr))
    tracker = _Tracker(progress, cancel, echo)
    t0 = time.perf_counter()
    phases = _phases(info["pretrained"], head_epochs, finetune_epochs, learning_rate, finetune_learning_rate)
    run, interrupted = _run_phases(model, info, train_ds, val_ds, phases, tracker)
    facts = {
        "data": str(Path(data_dir).resolve()),
        "images": _counts(labels, class_names),
        "train_images": _counts(labels[tr], class_names),
        "val_images": _counts(labels[va], class_names) if len(va) else {},
        "epochs_planned": {"head": head_epochs, "finetune": finetune_epochs},
        "epochs_run": run,
        "interrupted": interrupted,
        "cancelled": tracker.cancelled,
        "seconds": round(time.perf_counter() - t0, 1),
        "recipe": _recipe(
            batch_size, learning_rate, finetune_learning_rate, seed, augment, _has_shear(), val_split
        ),
        "device": tf_setup.describe_device(),
    }
    desc = description or (
        f"{spec.name} classifier for {len(class_names)} classes, trained on {len(labels)} images "
        f"from {Path(data_dir).name}"
    )
    return _finish(model, info, tracker, Path(out_dir), class_names, facts, desc, overwrite, None)


def train_arrays(
    x: np.ndarray,
    y: np.ndarray,
    class_names: Sequence[str],
    backbone: str,
    out_dir: str | Path,
    weights: str | Path | None = "none",
    epochs: int = 10,
    finetune_epochs: int = 0,
    batch_size: int = 32,
    x_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    val_split: float = 0.0,
    augment: bool = True,
    learning_rate: float = 1e-3,
    finetune_learning_rate: float = 1e-5,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
    allow_download: bool = False,
    description: str = "",
    supported_classes: Sequence[str] | None = None,
    overwrite: bool = False,
    echo: bool = True,
    dropout: float = 0.2,
) -> Path:
    """Train on in-memory frames and write a bundle; returns the bundle folder.

    x: uint8 (N, H, W, 3) RGB at the model's input size (H, W); y: int class ids (N,) into
    class_names (which must include 'otherwise'). Validation: x_val/y_val when given, else a
    stratified val_split of x (0 = none: the epoch with the best training accuracy is kept).
    `epochs` is the first phase (head, or everything for a from-scratch backbone);
    `finetune_epochs` a second phase at finetune_learning_rate with everything trainable.
    """
    import keras

    from sfxstudio.ml import tf_setup

    tf = tf_setup.tf()
    tf_setup.configure()
    class_names = list(class_names)
    x = np.asarray(x)
    y = np.asarray(y).astype(np.int64)
    if x.ndim != 4 or x.shape[-1] != 3 or x.dtype != np.uint8:
        raise ValueError(f"x must be uint8 (N, H, W, 3), got {x.dtype} {x.shape}")
    if y.shape != (len(x),):
        raise ValueError(f"y must have shape ({len(x)},), got {y.shape}")
    if OTHERWISE not in class_names:
        raise ValueError(f"class_names must include {OTHERWISE!r}")
    if len(x) == 0 or y.min() < 0 or y.max() >= len(class_names):
        raise ValueError("y must hold class ids in range(len(class_names)) for at least one frame")
    if x_val is None:
        tr, va = split_stratified(y, val_split, seed)
        x_tr, y_tr, x_va, y_va = x[tr], y[tr], (x[va] if len(va) else None), (y[va] if len(va) else None)
    else:
        x_tr, y_tr, x_va = x, y, np.asarray(x_val)
        y_va = np.asarray(y_val).astype(np.int64)
    size = (int(x.shape[2]), int(x.shape[1]))
    keras.utils.set_random_seed(seed)
    model, info = build_classifier(
        backbone, len(class_names), size, weights, dropout=dropout, allow_download=allow_download
    )
    tr_src = tf.data.Dataset.from_tensor_slices((x_tr, y_tr.astype(np.int32)))
    va_src = (tf.data.Dataset.from_tensor_slices((x_va, y_va.astype(np.int32)))
              if x_va is not None and y_va is not None else None)
    train_ds, val_ds = _make_datasets(tr_src, va_src, batch_size, augment, seed, len(x_tr))
    tracker = _Tracker(progress, cancel, echo)
    t0 = time.perf_counter()
    phases = _phases(info["pretrained"], epochs, finetune_epochs, learning_rate, finetune_learning_rate)
    if not info["pretrained"] and finetune_epochs <= 0:
        phases = [("train", epochs, learning_rate, True)]
    run, interrupted = _run_phases(model, info, train_ds, val_ds, phases, tracker)
    facts = {
        "data": "arrays",
        "images": _counts(
            np.concatenate([y, y_va]) if x_val is not None and y_va is not None else y, class_names
        ),
        "train_images": _counts(y_tr, class_names),
        "val_images": _counts(y_va, class_names) if y_va is not None else {},
        "epochs_planned": {p[0]: p[1] for p in phases},
        "epochs_run": run,
        "interrupted": interrupted,
        "cancelled": tracker.cancelled,
        "seconds": round(time.perf_counter() - t0, 1),
        "recipe": _recipe(
            batch_size,
            learning_rate,
            finetune_learning_rate,
            seed,
            augment,
            _has_shear(),
            val_split if x_val is None else None,
        ),
        "device": tf_setup.describe_device(),
    }
    desc = description or f"{info['backbone']} classifier for {len(class_names)} classes"
    return _finish(
        model, info, tracker, Path(out_dir), class_names, facts, desc, overwrite, None, supported_classes
    )
