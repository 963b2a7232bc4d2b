"""The sound-effect classes and their default sound attributes (resources/classes.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from sfxstudio.core import validate
from sfxstudio.core.paths import RESOURCES

OTHERWISE = "otherwise"
SoundMode = Literal["loop", "one_shot", "retrigger"]
SOUND_MODES: tuple[str, ...] = ("loop", "one_shot", "retrigger")


_FIELDS: tuple[str, ...] = ("mode", "gain_db", "fade_in", "fade_out", "crossfade", "interval",
                             "jitter", "enabled", "auto_pan")


@dataclass(frozen=True)
class SoundAttributes:
    """How a class's sound is placed in a segment.

    Every value is checked when the attributes are built (from a file or in code, e.g. the
    GUI's spin boxes), so NaN, infinities and out-of-range numbers never reach a render:
    gain_db within +-MAX_GAIN_DB, fades and crossfade in [0, MAX_FADE], interval in
    [MIN_INTERVAL, MAX_INTERVAL], jitter in [0, interval], enabled and auto_pan real booleans.
    auto_pan: the class's effects pan with the horizontal centre of motion (False: centred).
    Raises ValueError naming the field and the value.
    """

    mode: SoundMode = "one_shot"
    gain_db: float = 0.0
    fade_in: float = 0.0  # seconds
    fade_out: float = 0.05  # seconds
    crossfade: float = 0.0  # seconds, loop seams
    interval: float = 1.0  # seconds between retriggers
    jitter: float = 0.0  # seconds, +- random offset of each retrigger
    enabled: bool = True
    auto_pan: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.mode, str) or self.mode not in SOUND_MODES:
            raise ValueError(f"mode must be one of {', '.join(SOUND_MODES)}, not {self.mode!r}")
        checked = {
            "gain_db": validate.number(self.gain_db, "gain_db", -validate.MAX_GAIN_DB, validate.MAX_GAIN_DB),
            "fade_in": validate.number(self.fade_in, "fade_in", 0.0, validate.MAX_FADE),
            "fade_out": validate.number(self.fade_out, "fade_out", 0.0, validate.MAX_FADE),
            "crossfade": validate.number(self.crossfade, "crossfade", 0.0, validate.MAX_FADE),
            "interval": validate.number(self.interval, "interval", validate.MIN_INTERVAL,
                                        validate.MAX_INTERVAL),
        }
        checked["jitter"] = validate.number(self.jitter, "jitter", 0.0, checked["interval"])
        validate.boolean(self.enabled, "enabled")
        validate.boolean(self.auto_pan, "auto_pan")
        for key, value in checked.items():  # ints become floats: one type in files and in code
            object.__setattr__(self, key, value)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "gain_db": self.gain_db,
            "fade_in": self.fade_in,
            "fade_out": self.fade_out,
            "crossfade": self.crossfade,
            "interval": self.interval,
            "jitter": self.jitter,
            "enabled": self.enabled,
            "auto_pan": self.auto_pan,
        }

    @classmethod
    def from_json(cls, data: Any, base: SoundAttributes | None = None) -> SoundAttributes:
        """Build from a (possibly partial) JSON object; missing keys come from `base`.

        Raises ValueError naming the field and the value: the entry must be an object, unknown
        keys and modes are refused, numbers must be finite and in range (see the class), and
        `enabled` and `auto_pan` must be true or false (the text "false" is not a boolean).
        """
        data = validate.obj(data, "sound attributes")
        base = base or cls()
        unknown = set(data) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown sound attribute(s): {', '.join(sorted(unknown))}")
        merged = base.to_json() | data
        return cls(**merged)

    def with_(self, **changes: Any) -> SoundAttributes:
        return replace(self, **changes)


@dataclass(frozen=True)
class SoundClass:
    id: int
    name: str
    display_name: str
    color: str
    sound: SoundAttributes | None  # None for `otherwise`
    # Text prompts that describe the class to a zero-shot (image-text) model; for `otherwise`,
    # what "no effect" looks like. Empty: the zero-shot layer derives them from the name.
    prompts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClassSet:
    """An ordered set of classes; the order is the model's output order."""

    classes: tuple[SoundClass, ...]
    otherwise: str = OTHERWISE
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({c.name: i for i, c in enumerate(self.classes)})

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.classes]

    @property
    def otherwise_id(self) -> int:
        return self._index[self.otherwise]

    def id_of(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"unknown class {name!r}") from None

    def __getitem__(self, key: int | str) -> SoundClass:
        return self.classes[self.id_of(key) if isinstance(key, str) else key]

    def get(self, name: str, default: SoundClass | None = None) -> SoundClass | None:
        return self.classes[self._index[name]] if name in self._index else default

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __len__(self) -> int:
        return len(self.classes)

    def effect_classes(self) -> list[SoundClass]:
        return [c for c in self.classes if c.name != self.otherwise]

    def subset(self, names: list[str]) -> ClassSet:
        """The classes named, in the given order (e.g. a model's output order)."""
        full = default_classes()
        out = []
        for i, n in enumerate(names):
            base = self[n] if n in self else (full.get(n, None))
            if base is None:
                base = SoundClass(i, n, n.replace("_", " ").capitalize(), "#888888", SoundAttributes())
            out.append(replace(base, id=i))
        return ClassSet(tuple(out), otherwise=self.otherwise)


MAX_PROMPTS = 32  # per class: each one is a text-encoder pass
MAX_PROMPT_CHARS = 200


def read_prompts(value: Any, field: str) -> tuple[str, ...]:
    """A class's text prompts: a list of non-empty, single-line texts (ValueError naming
    `field` otherwise). Whitespace is trimmed and repeats dropped, order kept."""
    items = validate.array(value, field, max_len=MAX_PROMPTS)
    out: list[str] = []
    for i, item in enumerate(items):
        text = " ".join(validate.text(item, f"{field}[{i}]", max_len=MAX_PROMPT_CHARS).split())
        if not text:
            raise ValueError(f"{field}[{i}] is empty")
        if text not in out:
            out.append(text)
    return tuple(out)


def load_classes(path: str | Path | None = None) -> ClassSet:
    path = Path(path) if path else RESOURCES / "classes.json"
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    items = []
    for i, c in enumerate(data["classes"]):
        if c["id"] != i:
            raise ValueError(f"{path}: class {c['name']} has id {c['id']}, expected {i}")
        sound = SoundAttributes.from_json(c["sound"]) if c.get("sound") else None
        prompts = read_prompts(c.get("prompts", []), f"{path}: class {c['name']}: prompts")
        items.append(SoundClass(i, c["name"], c["display_name"], c["color"], sound, prompts))
    return ClassSet(tuple(items), otherwise=data.get("otherwise", OTHERWISE))


@lru_cache(maxsize=1)
def default_classes() -> ClassSet:
    return load_classes()
