"""A model holding keras-hub layers (a head taught on a zero-shot base) loads in a fresh process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_a_model_with_keras_hub_layers_loads_where_keras_hub_was_never_imported(tmp_path: Path) -> None:
    pytest.importorskip("keras_hub")
    import keras
    import keras_hub

    inp = keras.Input((4,), dtype="int32")
    x = keras_hub.layers.ReversibleEmbedding(10, 3)(inp)
    out = keras.layers.GlobalAveragePooling1D()(x)
    path = tmp_path / "model.keras"
    keras.Model(inp, out).save(path)
    code = ("import sys; from sfxstudio.ml.bundle import load_keras_model; "
            "m = load_keras_model(sys.argv[1]); print('LOADED', m.output.shape[-1])")
    res = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-1500:]
    assert "LOADED 3" in res.stdout
