"""The editor's own sound library, indexed in place (nothing is copied).

Each sound file goes to one of our classes by, in this order of trust:
1. its UCS CatID at the start of the file name (`VEHCar_...`, `FIREBurn-Mine_...`), from the
   table in resources/ucs_map.json (an exact CatID: confidence 1.0; a known UCS category
   code only: that category's confidence);
2. its Broadcast WAV description (bext) or iXML metadata: a CatID there, else keywords;
3. keywords in its file name, then in its folder names.

The index is a reviewable table (file, class, confidence, why) written as JSON (the index
itself) and CSV beside it; files no rule places are listed as unassigned. A re-import reuses
the entries of files whose size and modification time are unchanged (they are not re-read).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sfxstudio.core.atomic import atomic_write_json, atomic_write_text
from sfxstudio.core.errors import BadInputError, warn
from sfxstudio.core.paths import RESOURCES

INDEX_FORMAT = "sfxstudio-library-index"
INDEX_VERSION = 1
DEFAULT_INDEX_NAME = "sfxstudio-index.json"
SOUND_SUFFIXES = frozenset({".wav", ".bwf", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".mp3", ".m4a", ".w64"})
_RIFF_SCAN_LIMIT = 64 << 20  # metadata chunks sit before or right after the audio

# Keyword -> (class, weight). Whole words of a name (camelCase and separators split), or the
# start/end of a compound word ("waterdrip"). The weight says how surely the word names the
# class; a bare "water" could be a river, waves or drops.
KEYWORDS: dict[str, tuple[str, float]] = {
    **{w: ("train_passing", 0.9) for w in ("train", "trains", "locomotive", "railway", "subway", "tram")},
    **{w: ("water_drop", 0.9) for w in ("drip", "drips", "drop", "drops", "droplet", "dripping")},
    **{w: ("river", 0.9) for w in ("river", "stream", "creek", "brook", "rapids")},
    "water": ("river", 0.4),
    **{w: ("stars_shining", 0.7) for w in ("sparkle", "shimmer", "twinkle", "stars")},
    **{w: ("lightning", 0.9) for w in ("thunder", "lightning", "thunderclap")},
    **{w: ("writing", 0.9) for w in ("writing", "write", "pencil", "pen", "chalk", "scribble")},
    **{w: ("screaming", 0.9) for w in ("scream", "screams", "screaming", "shriek", "yell")},
    **{w: ("high_heels", 0.9) for w in ("heels", "heel", "stiletto")},
    **{w: ("high_heels", 0.5) for w in ("footstep", "footsteps", "steps")},
    **{w: ("wave", 0.9) for w in ("wave", "waves", "surf", "ocean", "sea", "shore")},
    **{w: ("typing", 0.9) for w in ("typing", "keyboard", "typewriter", "keystrokes")},
    **{w: ("ambulance", 0.9) for w in ("ambulance", "siren", "sirens")},
    **{w: ("dog_barking", 0.9) for w in ("dog", "dogs", "bark", "barking", "woof", "puppy")},
    **{w: ("cars", 0.8) for w in ("car", "cars", "motor", "engine", "traffic", "vehicle")},
    **{w: ("door_opening", 0.9) for w in ("door", "doors")},
    "creak": ("door_opening", 0.5),
    **{w: ("glass_breaking", 0.7) for w in ("glass", "shatter", "smash")},
    **{w: ("cat_meowing", 0.9) for w in ("cat", "cats", "meow", "meowing", "kitten", "purr")},
    **{w: ("cheer", 0.9) for w in ("cheer", "cheering", "cheers", "applause", "clapping", "crowd")},
    **{w: ("fire", 0.9) for w in ("fire", "flame", "flames", "crackle", "bonfire", "campfire", "burning")},
    **{w: ("helicopter", 0.9) for w in ("helicopter", "heli", "chopper", "rotor")},
    **{w: ("blender", 0.9) for w in ("blender", "mixer", "smoothie")},
}
_COMPOUND_MIN = 4  # keywords this long also count at the start/end of a compound word


@dataclass(frozen=True)
class IndexEntry:
    file: str  # relative to the indexed folder, '/'-separated
    size: int
    mtime_ns: int
    class_name: str | None  # None: unassigned
    confidence: float
    why: str


@dataclass
class LibraryIndex:
    root: Path
    entries: list[IndexEntry]
    reused: int = 0  # entries taken from the previous index unchanged (not re-read)
    _hay: tuple[list[IndexEntry], list[str]] | None = field(default=None, init=False, repr=False,
                                                            compare=False)

    def assigned(self) -> list[IndexEntry]:
        return [e for e in self.entries if e.class_name is not None]

    def unassigned(self) -> list[IndexEntry]:
        return [e for e in self.entries if e.class_name is None]

    def by_class(self) -> dict[str, list[IndexEntry]]:
        out: dict[str, list[IndexEntry]] = {}
        for e in self.assigned():
            out.setdefault(e.class_name or "", []).append(e)
        return out

    def search(self, text: str, limit: int = 200) -> list[IndexEntry]:
        """Entries whose file path or class contains every word of `text` (case-insensitive).

        The lowercase text of every entry is made once (a search box asks per keystroke, over
        tens of thousands of files); entries replaced afterwards are noticed by identity."""
        words = [w for w in re.split(r"\s+", text.lower()) if w]
        if self._hay is None or self._hay[0] is not self.entries or len(self._hay[1]) != len(self.entries):
            lowered = [f"{e.file} {e.class_name or ''} {e.why}".lower() for e in self.entries]
            self._hay = (self.entries, lowered)
        texts = self._hay[1]
        rows: list[int] | range = range(len(texts))
        for w in words:  # one word at a time over the rows still left: a few ms for 10,000
            rows = [i for i in rows if w in texts[i]]
        return [self.entries[i] for i in rows[:limit]]

    def path(self, entry: IndexEntry) -> Path:
        return self.root / entry.file

    def to_json(self) -> dict[str, Any]:
        return {"format": INDEX_FORMAT, "version": INDEX_VERSION, "root": str(self.root),
                "files": [asdict(e) for e in self.entries],
                "unassigned": [e.file for e in self.unassigned()]}


@lru_cache(maxsize=1)
def ucs_map() -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, float, str]]]:
    """(CatID -> (class, why), category code -> (class, confidence, why)); CatIDs lower-cased."""
    data = json.loads((RESOURCES / "ucs_map.json").read_text(encoding="utf-8"))
    catids = {k.lower(): (v["class"], v["why"]) for k, v in data["catids"].items()}
    cats = {k.lower(): (v["class"], float(v["confidence"]), v["why"]) for k, v in data["categories"].items()}
    return catids, cats


_CATID = re.compile(r"^([A-Z]{2,5})([A-Z][A-Za-z]*)$")


def classify_catid(token: str) -> tuple[str, float, str] | None:
    """A UCS CatID (the part of a name before its first '_' or '-') -> (class, confidence, why)."""
    catids, cats = ucs_map()
    hit = catids.get(token.lower())
    if hit is not None:
        return hit[0], 1.0, f"UCS CatID {token} ({hit[1]})"
    m = _CATID.match(token)
    if m is not None:
        code = m.group(1)
        # The category code is the capitals before the subcategory's capital: try the longest.
        for cut in range(len(code), 1, -1):
            cat = cats.get(code[:cut].lower())
            if cat is not None:
                return cat[0], cat[1], f"UCS category {code[:cut]} ({cat[2]}) from CatID {token}"
    return None


def _words(text: str) -> list[str]:
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return [w for w in re.split(r"[^A-Za-z]+", text.lower()) if w]


def classify_words(text: str, where: str) -> tuple[str, float, str] | None:
    """Keywords in `text` -> the class of the surest keyword (ties: the first in the text)."""
    best: tuple[str, float, str] | None = None
    for word in _words(text):
        hit = KEYWORDS.get(word)
        key = word
        if hit is None:
            for kw, value in KEYWORDS.items():
                compound = len(kw) >= _COMPOUND_MIN and len(word) > len(kw) and (
                    word.startswith(kw) or word.endswith(kw))
                if compound and (hit is None or value[1] > hit[1]):
                    hit, key = (value[0], value[1] * 0.9), kw
        if hit is not None and (best is None or hit[1] > best[1]):
            best = (hit[0], hit[1], f"keyword '{key}' in {where}")
    return best


def _riff_chunks(path: Path, wanted: Iterable[bytes]) -> dict[bytes, bytes]:
    """The named chunks of a RIFF/RF64 WAVE file (empty when it is not one)."""
    want = set(wanted)
    found: dict[bytes, bytes] = {}
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64", b"BW64") or head[8:12] != b"WAVE":
            return found
        pos = 12
        while pos < _RIFF_SCAN_LIMIT and want - set(found):
            fh.seek(pos)
            hdr = fh.read(8)
            if len(hdr) < 8:
                break
            cid, size = hdr[:4], struct.unpack("<I", hdr[4:])[0]
            if cid in want:
                found[cid] = fh.read(min(size, 1 << 20))
            elif cid == b"data" and size == 0xFFFFFFFF:
                break  # RF64 data size lives in ds64; metadata after it is not worth the hunt
            pos += 8 + size + (size & 1)
    return found


def read_descriptions(path: Path) -> tuple[str, str]:
    """(bext description, iXML text) of a WAV file; empty strings when absent."""
    if path.suffix.lower() not in (".wav", ".bwf", ".w64"):
        return "", ""
    try:
        chunks = _riff_chunks(path, (b"bext", b"iXML"))
    except OSError:
        return "", ""
    desc = chunks.get(b"bext", b"")[:256].split(b"\0", 1)[0].decode("latin-1", "replace").strip()
    ixml = chunks.get(b"iXML", b"").split(b"\0", 1)[0].decode("utf-8", "replace")
    return desc, ixml


def _ixml_fields(ixml: str) -> tuple[str | None, str]:
    """(CatID, free text) from iXML's USER block (CATID, CATEGORY, SUBCATEGORY, DESCRIPTION...)."""
    def field(tag: str) -> str:
        m = re.search(rf"<{tag}>(.*?)</{tag}>", ixml, re.S | re.I)
        return m.group(1).strip() if m else ""

    text = " ".join(field(t) for t in ("CATEGORY", "SUBCATEGORY", "FXNAME", "DESCRIPTION", "KEYWORDS",
                                       "NOTE"))
    return field("CATID") or None, text


def classify_file(path: Path, rel: str, use_folders: bool = True) -> tuple[str | None, float, str]:
    """(class or None, confidence, why) for one sound file; see the module docstring."""
    stem = Path(rel).stem
    first = re.split(r"[_\-\s.]", stem, maxsplit=1)[0]
    hit = classify_catid(first)
    if hit is not None:
        return hit
    desc, ixml = read_descriptions(path)
    catid, ixml_text = _ixml_fields(ixml) if ixml else (None, "")
    if catid:
        hit = classify_catid(catid)
        if hit is not None:
            return hit[0], hit[1], f"iXML {hit[2]}"
    for text, where in ((desc, "the BWF description"), (ixml_text, "the iXML metadata"),
                        (stem, "the file name")):
        if text:
            hit = classify_words(text, where)
            if hit is not None:
                return hit
    if use_folders:
        for folder in reversed(Path(rel).parent.parts):
            hit = classify_words(folder, f"the folder '{folder}'")
            if hit is not None:
                return hit[0], hit[1] * 0.8, hit[2]
    return None, 0.0, "no UCS CatID, description or keyword"


def _previous(index_path: Path | None, root: Path) -> dict[str, IndexEntry]:
    if index_path is None or not index_path.is_file():
        return {}
    try:
        data = json.loads(index_path.read_text(encoding="utf-8"))
        if data.get("format") != INDEX_FORMAT or Path(data.get("root", "")) != root:
            return {}
        return {d["file"]: IndexEntry(**d) for d in data["files"]}
    except (OSError, ValueError, TypeError, KeyError) as exc:
        warn(index_path, f"previous index unreadable ({exc}); indexing everything again")
        return {}


def build_index(folder: str | Path, previous: str | Path | None = None, use_folders: bool = True,
                progress: Callable[[int, int], None] | None = None) -> LibraryIndex:
    """Index every sound under `folder` (recursively, symlinked folders not followed).

    previous: an index file from an earlier import; its entries for files whose size and
    modification time are unchanged are kept without reading the files.
    """
    root = Path(folder).resolve()
    if not root.is_dir():
        raise BadInputError(folder, "is not a folder of sounds")
    old = _previous(Path(previous) if previous else None, root)
    files: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if p.suffix.lower() in SOUND_SUFFIXES and not name.startswith("."):
                files.append((p.relative_to(root).as_posix(), p))
    entries: list[IndexEntry] = []
    reused = 0
    for i, (rel, p) in enumerate(files):
        try:
            st = p.stat()
        except OSError as exc:
            warn(p, f"skipped ({exc.strerror or exc})")
            continue
        prev = old.get(rel)
        if prev is not None and prev.size == st.st_size and prev.mtime_ns == st.st_mtime_ns:
            entries.append(prev)
            reused += 1
        else:
            cls, conf, why = classify_file(p, rel, use_folders)
            entries.append(IndexEntry(rel, st.st_size, st.st_mtime_ns, cls, round(conf, 3), why))
        if progress is not None:
            progress(i + 1, len(files))
    return LibraryIndex(root, entries, reused)


def table_csv(index: LibraryIndex) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["file", "class", "confidence", "why"])
    for e in index.entries:
        w.writerow([e.file, e.class_name or "(unassigned)", f"{e.confidence:.2f}", e.why])
    return buf.getvalue()


def write_index(index: LibraryIndex, path: str | Path) -> tuple[Path, Path]:
    """The index as JSON at `path` and its reviewable table as CSV beside it."""
    path = Path(path)
    atomic_write_json(path, index.to_json())
    table = path.with_suffix(".csv")
    atomic_write_text(table, table_csv(index))
    return path, table


def load_index(path: str | Path) -> LibraryIndex:
    """Read an index file; BadInputError names the file and the problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInputError(path, f"cannot be read as a library index ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
        raise BadInputError(path, "is not an SFX Studio library index")
    try:
        entries = [IndexEntry(**d) for d in data["files"]]
    except (KeyError, TypeError) as exc:
        raise BadInputError(path, f"has a malformed entry ({exc})") from exc
    return LibraryIndex(Path(data["root"]), entries)
