import json

import numpy as np
import pytest

from sfxstudio.cli import main
from sfxstudio.core.errors import BadInputError
from sfxstudio.ml.bundle import ModelBundle
from sfxstudio.ml.create import read_class_names


def test_model_create_writes_a_loadable_untrained_bundle(tmp_path, capsys):
    classes = tmp_path / "classes.json"
    classes.write_text(json.dumps(["fire", "river", "otherwise"]))
    out = tmp_path / "m"
    assert main(["model", "create", "--backbone", "tiny", "--weights", "none",
                 "--classes", str(classes), "--out", str(out)]) == 0
    b = ModelBundle.load(out)
    assert b.class_names == ["fire", "river", "otherwise"]
    probs, _emb = b.predict(np.zeros((2, 32, 32, 3), np.uint8))
    assert probs.shape == (2, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert "untrained" in b.meta["description"].lower()
    assert main(["model", "list", str(tmp_path)]) == 0
    assert "m\t" in capsys.readouterr().out.replace(str(tmp_path) + "/", "")


def test_imagenet_weights_without_cache_or_download_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))
    code = main(["model", "create", "--backbone", "mobilenetv3small", "--weights", "imagenet",
                 "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2 and "KERAS_HOME" in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(("content", "problem"), [
    ('["fire", "river"]', "otherwise"),
    ('["fire", "fire", "otherwise"]', "repeat"),
    ('{"a": 1}', "expected a JSON list"),
    ("not json", "not valid JSON"),
])
def test_bad_class_lists(tmp_path, content, problem):
    f = tmp_path / "c.json"
    f.write_text(content)
    with pytest.raises(BadInputError, match=problem):
        read_class_names(str(f))
