"""A sound library: `root/<class_name>/*` audio variations plus optional `root/library.json` attributes.

Loading only lists files (a library may hold gigabytes of audio); each sound is decoded to
float32 stereo 48 kHz the first time it is used and then cached. `validate()` decodes everything
up front for the cases where an editor wants to know now which files are broken.

library.json:
    {"format": "sfxstudio-library", "version": 1,
     "classes": {"dog_barking": {"mode": "retrigger", "gain_db": -3, "variation_policy": "random"}}}
Any SoundAttributes field may be given; the rest come from resources/classes.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sfxstudio.core import validate
from sfxstudio.core.atomic import atomic_path
from sfxstudio.core.classes import OTHERWISE, SoundAttributes, default_classes
from sfxstudio.core.errors import BadInputError, SfxError, warn
from sfxstudio.media.audio_io import SAMPLE_RATE, decode_audio

VariationPolicy = Literal["round_robin", "random", "first"]
VARIATION_POLICIES: tuple[str, ...] = ("round_robin", "random", "first")
DEFAULT_POLICY: VariationPolicy = "round_robin"
AUDIO_SUFFIXES: frozenset[str] = frozenset(
    {".wav", ".flac", ".ogg", ".mp3", ".oga", ".opus", ".m4a", ".aiff", ".aif"}
)
LIBRARY_FILE = "library.json"
LIBRARY_FORMAT = "sfxstudio-library"
LIBRARY_VERSION = 1


def _default_attributes(class_name: str) -> SoundAttributes:
    classes = default_classes()
    if class_name in classes:
        sound = classes[class_name].sound
        if sound is not None:
            return sound
    if class_name == classes.otherwise or class_name == OTHERWISE:
        # `otherwise` means "no effect": its folder may hold negatives, never a sound to play.
        return SoundAttributes(enabled=False)
    return SoundAttributes()


def _read_config(path: Path) -> tuple[dict[str, SoundAttributes], dict[str, VariationPolicy]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(path, f"cannot be read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise BadInputError(path, f"is not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(data, dict) or data.get("format") != LIBRARY_FORMAT:
        raise BadInputError(path, f'is not a sound library file (expected "format": "{LIBRARY_FORMAT}")')
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise BadInputError(path, f"has an invalid version {version!r}")
    if version > LIBRARY_VERSION:
        raise BadInputError(path, f"was written by a newer SFX Studio (version {version})")
    classes = data.get("classes", {})
    if not isinstance(classes, dict):
        raise BadInputError(path, '"classes" must be an object of class name -> attributes,'
                                  f" not {_kind(classes)}")
    attributes: dict[str, SoundAttributes] = {}
    policies: dict[str, VariationPolicy] = {}
    for name, entry in classes.items():
        try:
            validate.safe_name(name, "class name")
        except ValueError as exc:
            raise BadInputError(path, str(exc)) from None
        if not isinstance(entry, dict):
            raise BadInputError(path, f"class {name!r}: attributes must be an object, not {_kind(entry)}")
        entry = dict(entry)
        policy = entry.pop("variation_policy", None)
        if policy is not None:
            if not isinstance(policy, str) or policy not in VARIATION_POLICIES:
                raise BadInputError(
                    path,
                    f"class {name!r}: variation_policy must be one of {', '.join(VARIATION_POLICIES)},"
                    f" not {policy!r}",
                )
            policies[name] = policy  # type: ignore[assignment]
        try:
            attributes[name] = SoundAttributes.from_json(entry, base=_default_attributes(name))
        except (ValueError, TypeError) as exc:
            raise BadInputError(path, f"class {name!r}: {exc}") from None
    return attributes, policies


def _kind(value: Any) -> str:
    """A JSON value's kind for a message (never the value itself: it may be huge)."""
    return {dict: "an object", list: "a list", str: "text", bool: "true/false",
            type(None): "null"}.get(type(value), "a number")


class OutsideLibraryError(BadInputError):
    """A variation path (from a project or library.json) that would reach outside the library."""


class SoundLibrary:
    """Variations and attributes per class. Thread-safe: workers may call samples() concurrently."""

    def __init__(
        self,
        root: Path,
        variations: dict[str, list[str]],
        attributes: dict[str, SoundAttributes] | None = None,
        policies: dict[str, VariationPolicy] | None = None,
        problems: list[str] | None = None,
    ) -> None:
        self.root = root
        self._variations = {name: sorted(files) for name, files in variations.items()}
        self._attributes = dict(attributes or {})
        self._policies = dict(policies or {})
        self.problems: list[str] = list(problems or [])
        self._cache: dict[Path, np.ndarray] = {}
        self._lock = threading.Lock()
        self._file_locks: dict[Path, threading.Lock] = {}

    @classmethod
    def load(cls, root: str | Path) -> SoundLibrary:
        """List `root/<class>/*` audio files and read `root/library.json`; decodes nothing.

        Unreadable or empty files are skipped and reported in `.problems`; a bad library.json
        or a missing root raises BadInputError. Folders named after classes the app does not
        know are kept as extra classes (a user library may be made for another model).
        """
        root = Path(root)
        if not root.exists():
            raise BadInputError(root, "sound library folder not found")
        if not root.is_dir():
            raise BadInputError(root, "a sound library must be a folder")
        config = root / LIBRARY_FILE
        attributes, policies = _read_config(config) if config.is_file() else ({}, {})
        problems: list[str] = []
        variations: dict[str, list[str]] = {}
        try:
            folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError as exc:
            raise BadInputError(root, f"cannot list the folder ({exc.strerror or exc})") from exc
        for folder in folders:
            files: list[str] = []
            try:
                entries = sorted(folder.iterdir())
            except OSError as exc:
                problems.append(f"{folder}: cannot list the folder ({exc.strerror or exc})")
                continue
            for entry in entries:
                if entry.name.startswith(".") or entry.suffix.lower() not in AUDIO_SUFFIXES:
                    continue  # READMEs, licences, .DS_Store: not sounds, not problems
                problem = _file_problem(entry)
                if problem:
                    problems.append(f"{entry}: {problem}")
                    continue
                files.append(entry.relative_to(root).as_posix())
            variations[folder.name] = files
        for name in attributes:
            variations.setdefault(name, [])
        library = cls(root, variations, attributes, policies, problems)
        library.warn_problems(problems)
        return library

    def warn_problems(self, problems: list[str] | None = None) -> None:
        """One warning line per problem (each names its file), and one for a library without any
        usable sound (naming the folder). With --strict the first of them is an error."""
        for line in self.problems if problems is None else problems:
            path, sep, problem = line.partition(": ")
            warn(path if sep else None, problem if sep else line)
        if not any(self._variations.get(n) for n in self._variations if n != OTHERWISE):
            warn(self.root, "the sound library has no usable sound; effects will be silent")

    # -- classes and attributes --------------------------------------------------------------

    def class_names(self) -> list[str]:
        """Classes with a folder or a library.json entry: the app's class order, then extras A-Z."""
        known = default_classes().names
        present = set(self._variations)
        return [n for n in known if n in present] + sorted(present - set(known))

    def attributes(self, class_name: str) -> SoundAttributes:
        """library.json's attributes, else the class defaults (classes.json), else plain defaults."""
        return self._attributes.get(class_name) or _default_attributes(class_name)

    def policy(self, class_name: str) -> VariationPolicy:
        return self._policies.get(class_name, DEFAULT_POLICY)

    def variations(self, class_name: str) -> list[str]:
        """The class's sound files as posix paths relative to root, sorted; [] when it has none."""
        return list(self._variations.get(class_name, []))

    def pick_variation(self, class_name: str, index: int, seed: int = 0) -> str | None:
        """The variation for the index-th effect of a class, following the class's policy.

        The renderer always passes its seed (render.SoundSource); the default only serves
        callers that want the policy's first choice.

        round_robin: index mod count; first: always the first; random: chosen from seed and index
        only, so the same project renders the same sounds every time. None when the class has none.
        """
        files = self._variations.get(class_name) or []
        if not files:
            return None
        policy = self.policy(class_name)
        if policy == "first":
            return files[0]
        if policy == "random":
            digest = hashlib.blake2b(f"{seed}:{index}".encode(), digest_size=8).digest()
            return files[int.from_bytes(digest, "little") % len(files)]
        return files[index % len(files)]

    # -- audio ---------------------------------------------------------------------------------

    def resolve(self, path: str | Path) -> Path:
        """The file of a variation given relative to root, never outside the library folder.

        A variation comes from a project, a segment or library.json, none of which we wrote,
        so absolute paths, '..' parts and anything whose normalised path leaves the root
        are refused (OutsideLibraryError, a BadInputError naming the path). An absolute path
        that already lies inside the root is accepted as is.
        """
        try:
            text = validate.text(os.fspath(path), "sound path")
        except (TypeError, ValueError):
            raise OutsideLibraryError(None, f"{path!r} is not a usable sound path") from None
        if not text:
            raise OutsideLibraryError(None, "an empty sound path is not usable")
        p = Path(text)
        root = Path(os.path.normpath(os.path.abspath(self.root)))
        if p.is_absolute():
            full = Path(os.path.normpath(p))
            if ".." in p.parts or not full.is_relative_to(root) or full == root:
                raise OutsideLibraryError(text, f"is outside the sound library folder {root}")
            return full
        # '\\' separators and drive letters count as separators too: a project may come from Windows.
        parts = text.replace("\\", "/").split("/")
        drive = len(parts[0]) >= 2 and parts[0][1] == ":" and parts[0][0].isalpha()  # C:, c:x
        if ".." in parts or drive or text.startswith(("/", "\\")):
            raise OutsideLibraryError(text, f"is outside the sound library folder {root}")
        full = Path(os.path.normpath(root / p))
        if not full.is_relative_to(root) or full == root:
            raise OutsideLibraryError(text, f"is outside the sound library folder {root}")
        return self.root / p

    def samples(self, path: str | Path) -> np.ndarray:
        """(n, 2) float32 at 48 kHz, decoded on first use and cached; read-only (shared by all).

        Raises BadInputError naming the file when it cannot be decoded.
        """
        full = self.resolve(path)
        with self._lock:
            cached = self._cache.get(full)
            if cached is not None:
                return cached
            file_lock = self._file_locks.setdefault(full, threading.Lock())
        # Decode outside the library lock so different files decode in parallel, while two
        # threads asking for the same file wait for one decode.
        with file_lock:
            with self._lock:
                cached = self._cache.get(full)
            if cached is not None:
                return cached
            data = _decode(full)
            gain = self.variation_gain(full, data)
            if gain != 1.0:
                data = data * np.float32(gain)
            data.setflags(write=False)
            with self._lock:
                self._cache[full] = data
            return data

    # -- matched loudness ----------------------------------------------------------------------

    match_loudness = True  # variations of a class play at the class's median loudness

    def loudness(self, full: Path, data: np.ndarray | None = None) -> float:
        """The sound's loudness (LUFS, media.loudness.sound_loudness), measured once per file
        version and kept in the user cache (sound_loudness.json, keyed by path, size, mtime)."""
        from sfxstudio.media import loudness_cache

        return loudness_cache.lookup(full, lambda: _decode(full) if data is None else data)

    def variation_gain(self, full: Path, data: np.ndarray) -> float:
        """Linear gain that brings this variation to its class's median loudness (1.0 for a class
        with one sound, an unmeasurable one, or match_loudness off); at most +-12 dB, and never
        more boost than the sound's headroom to full scale."""
        if not self.match_loudness:
            return 1.0
        rel = self._relative(full)
        cls = next((c for c, files in self._variations.items() if rel in files), None)
        files = self._variations.get(cls or "", [])
        if len(files) < 2:
            return 1.0
        own = self.loudness(full, data)
        levels = [own if f == rel else self.loudness(self.resolve(f)) for f in files]
        finite = [v for v in levels if np.isfinite(v)]
        if not np.isfinite(own) or len(finite) < 2:
            return 1.0
        db = float(np.clip(np.median(finite) - own, -12.0, 12.0))
        peak = max(float(data.max()), -float(data.min())) if data.size else 0.0
        if peak > 0 and db > 0:
            db = min(db, -20.0 * float(np.log10(peak)))
        return float(10.0 ** (db / 20.0))

    def _relative(self, full: Path) -> str:
        try:
            return full.relative_to(self.root).as_posix()
        except ValueError:
            return full.as_posix()

    def validate(self) -> list[str]:
        """Decode every variation; broken ones are dropped from their class and added to `.problems`.

        Returns the new problems. Decoded audio is not kept (a library can be larger than memory).
        """
        new: list[str] = []
        for name, files in self._variations.items():
            keep = []
            for rel in files:
                full = self.resolve(rel)
                try:
                    with self._lock:
                        cached = full in self._cache
                    if not cached:
                        _decode(full)
                    keep.append(rel)
                except SfxError as exc:
                    new.append(str(exc))
            self._variations[name] = keep
        self.problems.extend(new)
        self.warn_problems(new)
        return new

    def add_variation(self, class_name: str, source: str | Path) -> str:
        """Copy an audio file into `root/<class_name>/` and return its relative path.

        The file is decoded first, so a broken file never enters the library (BadInputError).
        An existing file with the same name is not overwritten: the copy gets a numbered name.
        """
        try:
            validate.safe_name(class_name, "class name")
        except ValueError as exc:
            raise BadInputError(self.root, str(exc)) from None
        source = Path(source)
        data = _decode(source)
        folder = self.root / class_name
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / source.name
        counter = 2
        while target.exists():
            target = folder / f"{source.stem} ({counter}){source.suffix}"
            counter += 1
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
        rel = target.relative_to(self.root).as_posix()
        data.setflags(write=False)
        with self._lock:
            self._cache[target] = data
            self._variations[class_name] = sorted([*self._variations.get(class_name, []), rel])
        return rel

    def __repr__(self) -> str:
        count = sum(len(v) for v in self._variations.values())
        return f"SoundLibrary({str(self.root)!r}, {len(self._variations)} classes, {count} sounds)"


def _decode(path: Path) -> np.ndarray:
    """decode_audio, and a sound holding NaN or infinite samples is unusable (it would poison
    the whole mix): BadInputError naming the file."""
    data = decode_audio(path, SAMPLE_RATE)
    # min/max propagate NaN and show infinities without a temporary the size of the sound.
    if data.size and not (np.isfinite(data.min()) and np.isfinite(data.max())):
        raise BadInputError(path, "holds samples that are not finite numbers (NaN or infinity); not usable")
    return data


def _file_problem(path: Path) -> str | None:
    """Cheap checks that need no decoding: the file is readable and not empty."""
    try:
        if not path.is_file():
            return "is not a file"
        if path.stat().st_size == 0:
            return "file is empty (0 bytes)"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return None


def library_json(
    attributes: dict[str, SoundAttributes],
    policies: dict[str, str] | None = None,
    with_enabled: bool = True,
) -> dict[str, Any]:
    """The library.json document for the given attributes (for writing a user library).

    with_enabled=False leaves out each class's on/off switch: a shipped library (the demo's
    default one) leaves that to the editor's project.
    """
    classes: dict[str, Any] = {}
    for name, attrs in attributes.items():
        entry = attrs.to_json()
        if not with_enabled:
            entry.pop("enabled", None)
        if policies and name in policies:
            entry["variation_policy"] = policies[name]
        classes[name] = entry
    return {"format": LIBRARY_FORMAT, "version": LIBRARY_VERSION, "classes": classes}
