import os

import pytest

from sfxstudio.core.atomic import atomic_write_text
from sfxstudio.core.classes import OTHERWISE, SoundAttributes, default_classes
from sfxstudio.core.errors import ExportError

PAPER_ORDER = [
    "train_passing", "water_drop", "river", "stars_shining", "lightning", "writing", "screaming",
    "high_heels", "wave", "typing", "ambulance", "dog_barking", "cars", "door_opening",
    "glass_breaking", "cat_meowing", "cheer", "fire", "helicopter", "blender", "otherwise",
]


def test_classes_json_has_the_21_classes_in_paper_order():
    cs = default_classes()
    assert cs.names == PAPER_ORDER
    assert cs.otherwise_id == 20 and cs[20].name == OTHERWISE and cs[OTHERWISE].sound is None
    assert all(c.sound is not None for c in cs.effect_classes())
    # The paper's future work: rivers, waves, cheers loop; screams and glass must not.
    assert cs["river"].sound.mode == "loop" and cs["wave"].sound.mode == "loop"
    assert cs["cheer"].sound.mode == "loop"
    assert cs["screaming"].sound.mode == "one_shot" and cs["glass_breaking"].sound.mode == "one_shot"
    assert len({c.color for c in cs.classes}) == 21


def test_sound_attributes_validation():
    with pytest.raises(ValueError, match="mode"):
        SoundAttributes.from_json({"mode": "sometimes"})
    with pytest.raises(ValueError, match="unknown"):
        SoundAttributes.from_json({"volume": 3})
    with pytest.raises(ValueError, match="interval"):
        SoundAttributes.from_json({"interval": 0})
    with pytest.raises(ValueError, match="gain_db"):
        SoundAttributes.from_json({"gain_db": "-3"})  # a number in quotes is text, not a gain
    a = SoundAttributes.from_json({"gain_db": -3}, base=SoundAttributes(mode="loop"))
    assert a.mode == "loop" and a.gain_db == -3.0


def test_atomic_write_replaces_and_reports_unwritable_folders(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert os.listdir(tmp_path) == ["out.txt"]
    with pytest.raises(ExportError, match="does not exist"):
        atomic_write_text(tmp_path / "missing" / "x.txt", "x")
    # /proc refuses new files even for root, so this holds on every machine.
    with pytest.raises(ExportError) as err:
        atomic_write_text("/proc/self/sfx-test.txt", "x")
    assert "/proc/self/sfx-test.txt" in str(err.value)


def test_subset_keeps_model_order_and_invents_unknown_classes():
    cs = default_classes().subset(["fire", "otherwise", "kazoo"])
    assert cs.names == ["fire", "otherwise", "kazoo"]
    assert [c.id for c in cs.classes] == [0, 1, 2]
    assert cs["fire"].color == default_classes()["fire"].color
    assert cs["kazoo"].sound is not None and cs.otherwise_id == 1
