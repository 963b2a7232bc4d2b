"""SoundAttributes refuse every value a render cannot use, from a file or built in code."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from sfxstudio.core import validate
from sfxstudio.core.classes import SOUND_MODES, SoundAttributes, default_classes, load_classes
from sfxstudio.core.paths import RESOURCES

NAN, INF = math.nan, math.inf

# (entry as read from a file, the field the one-line message must name)
BAD_ENTRIES: list[tuple[Any, str]] = [
    # types
    ([], "sound attributes"),
    ("loop", "sound attributes"),
    (None, "sound attributes"),
    (3, "sound attributes"),
    ({"gain_db": "-3"}, "gain_db"),
    ({"gain_db": None}, "gain_db"),
    ({"gain_db": True}, "gain_db"),
    ({"gain_db": [1]}, "gain_db"),
    ({"fade_in": "0.1"}, "fade_in"),
    ({"fade_out": {}}, "fade_out"),
    ({"crossfade": False}, "crossfade"),
    ({"interval": "1"}, "interval"),
    ({"jitter": None}, "jitter"),
    ({"enabled": "false"}, "enabled"),
    ({"enabled": "true"}, "enabled"),
    ({"enabled": 0}, "enabled"),
    ({"enabled": 1}, "enabled"),
    ({"enabled": None}, "enabled"),
    ({"mode": 1}, "mode"),
    ({"mode": None}, "mode"),
    ({"mode": ["loop"]}, "mode"),
    # unknown modes and keys
    ({"mode": "sometimes"}, "mode"),
    ({"mode": "LOOP"}, "mode"),
    ({"mode": ""}, "mode"),
    ({"volume": 3}, "unknown"),
    ({"Gain_db": 3}, "unknown"),
    # not finite
    ({"gain_db": NAN}, "gain_db"),
    ({"gain_db": INF}, "gain_db"),
    ({"gain_db": -INF}, "gain_db"),
    ({"fade_in": NAN}, "fade_in"),
    ({"fade_out": INF}, "fade_out"),
    ({"crossfade": NAN}, "crossfade"),
    ({"interval": NAN}, "interval"),
    ({"interval": INF}, "interval"),
    ({"jitter": NAN}, "jitter"),
    # out of range
    ({"gain_db": validate.MAX_GAIN_DB + 0.5}, "gain_db"),
    ({"gain_db": -validate.MAX_GAIN_DB - 0.5}, "gain_db"),
    ({"gain_db": 1e308}, "gain_db"),
    ({"fade_in": -0.001}, "fade_in"),
    ({"fade_in": validate.MAX_FADE * 2}, "fade_in"),
    ({"fade_out": -1}, "fade_out"),
    ({"fade_out": 1e300}, "fade_out"),
    ({"crossfade": -0.5}, "crossfade"),
    ({"crossfade": validate.MAX_FADE + 1}, "crossfade"),
    ({"interval": 0}, "interval"),
    ({"interval": -1}, "interval"),
    ({"interval": 1e-7}, "interval"),  # the retrigger-hang reproduction
    ({"interval": validate.MIN_INTERVAL / 2}, "interval"),
    ({"interval": validate.MAX_INTERVAL * 10}, "interval"),
    ({"jitter": -0.1}, "jitter"),
    ({"jitter": 1.5}, "jitter"),  # more than the (default 1 s) interval
    ({"interval": 0.2, "jitter": 0.3}, "jitter"),
]


@pytest.mark.parametrize(("entry", "field"), BAD_ENTRIES)
def test_bad_entry_is_refused_naming_the_field(entry: Any, field: str) -> None:
    with pytest.raises(ValueError) as err:
        SoundAttributes.from_json(entry)
    message = str(err.value)
    assert field in message and "\n" not in message
    if isinstance(entry, dict) and field != "unknown":
        assert repr(entry[field])[:20] in message  # the value itself is named


BAD_KWARGS: list[dict[str, Any]] = [
    {"gain_db": NAN}, {"gain_db": INF}, {"gain_db": 60.0}, {"fade_in": NAN}, {"fade_in": -1.0},
    {"fade_out": INF}, {"crossfade": -0.1}, {"interval": 0.0}, {"interval": 1e-7},
    {"interval": NAN}, {"jitter": 2.0}, {"jitter": NAN}, {"enabled": "false"}, {"enabled": 1},
    {"mode": "reverse"}, {"gain_db": "0"},
]


@pytest.mark.parametrize("kwargs", BAD_KWARGS)
def test_attributes_built_in_code_are_checked_too(kwargs: dict[str, Any]) -> None:
    """The GUI's spin boxes build attributes in code: they can never hold NaN or out-of-range values."""
    (field,) = kwargs
    with pytest.raises(ValueError, match=field):
        SoundAttributes(**kwargs)
    with pytest.raises(ValueError, match=field):
        SoundAttributes().with_(**kwargs)


def test_bounds_themselves_are_accepted() -> None:
    edge = SoundAttributes(mode="retrigger", gain_db=-validate.MAX_GAIN_DB, fade_in=0,
                           fade_out=validate.MAX_FADE, crossfade=0, interval=validate.MIN_INTERVAL,
                           jitter=validate.MIN_INTERVAL, enabled=False)
    assert edge.interval == validate.MIN_INTERVAL and edge.jitter == edge.interval
    top = SoundAttributes(gain_db=validate.MAX_GAIN_DB, interval=validate.MAX_INTERVAL)
    assert top.gain_db == validate.MAX_GAIN_DB


def test_whole_numbers_become_floats_and_round_trip() -> None:
    a = SoundAttributes.from_json({"mode": "retrigger", "gain_db": -3, "interval": 2, "jitter": 1,
                                   "enabled": False})
    assert a.gain_db == -3.0 and isinstance(a.gain_db, float) and isinstance(a.interval, float)
    assert a.enabled is False  # a real false, not bool("false")
    assert SoundAttributes.from_json(json.loads(json.dumps(a.to_json()))) == a


def test_partial_entries_take_the_rest_from_the_base() -> None:
    base = SoundAttributes(mode="loop", gain_db=-6.0, fade_in=0.5)
    a = SoundAttributes.from_json({"gain_db": -3.0}, base=base)
    assert a == SoundAttributes(mode="loop", gain_db=-3.0, fade_in=0.5)
    # The merged result is checked, not only the entry: a base interval below the entry's jitter.
    with pytest.raises(ValueError, match="jitter"):
        SoundAttributes.from_json({"jitter": 0.5}, base=SoundAttributes(interval=0.3))


def test_every_mode_is_accepted() -> None:
    for mode in SOUND_MODES:
        assert SoundAttributes.from_json({"mode": mode}).mode == mode


def test_the_shipped_classes_are_valid() -> None:
    """resources/classes.json (and so every default the GUI starts from) passes the checks."""
    classes = load_classes(RESOURCES / "classes.json")
    assert classes == default_classes()
    sounds = [c.sound for c in classes.effect_classes()]
    assert sounds and all(isinstance(s, SoundAttributes) for s in sounds)
