"""Motion per analysed frame, from low-resolution frame differences (numpy only).

"Visual to Sound" (Zhou et al.) found motion is what makes sound land in sync with the
picture. Two numbers per analysed frame, cheap enough to compute in the analysis's own
decode pass:
- energy: the regional motion, in [0, 1]: the picture is cut into a GRID x GRID grid of
  cells (fewer on small pictures: cells of at least MIN_CELL pixels) and energy is the
  largest per-cell mean absolute grey-level difference to the previous analysed frame
  (differences below a small noise floor count as none: compression noise is not motion).
  A whole-frame mean would drown a small event (a drop, a key press in a corner covers a
  few per cent of the picture) in the still rest of the frame; the busiest cell sees it at
  full strength, while a cut or a camera move still lights every cell. (Analyses saved
  before issue 13 hold the whole-frame mean in this column; they load and work as before,
  re-analysing gives the regional value.)
- centre_x: the mean horizontal position of the whole-frame difference, weighted by it, in
  [-1, 1] (-1 the left edge, +1 the right edge; 0 when nothing moved), for auto pan.
The first frame of a stream has no previous frame: energy 0, centre 0.

Frames are first shrunk to about `width` pixels wide by averaging whole blocks of pixels
(area resampling without a library), so the cost per frame is a few microseconds of numpy
on ~64 x 36 pixels after the block mean.
"""

from __future__ import annotations

import numpy as np

DEFAULT_WIDTH = 64  # pixels across after shrinking
NOISE_FLOOR = 3.0 / 255.0  # grey-level difference that still counts as no motion
# Cells per side for the regional energy: at 1/16 of the picture a side, an event covering
# ~0.4 % of the frame fills a cell (a drop's splash in a 96 x 96 analysis frame is a few
# pixels: in a cell four times bigger the still water's shimmer around it weighs as much as
# the splash), but never cells under MIN_CELL shrunk pixels a side, so that one noisy pixel
# does not make a cell "move" (a 64 x 36 frame gets 16 x 9 cells).
GRID = 16
MIN_CELL = 4


def shrink(frames: np.ndarray, width: int = DEFAULT_WIDTH) -> np.ndarray:
    """(N, h, w) or (N, h, w, 3) uint8/float frames -> (N, h', w') float32 grey in [0, 1].

    Blocks of an integer factor so that w' is about `width` (never upscaled), each averaged
    (exactly up to a factor of 4, over 4 x 4 evenly spaced pixels beyond); rows and columns
    that do not fill a whole block are dropped.
    """
    f = np.asarray(frames)
    if width < 1:
        raise ValueError(f"width must be at least 1, not {width!r}")
    colour = f.ndim == 4 and f.shape[-1] in (3, 4)
    if not (colour or f.ndim == 3):
        raise ValueError(f"frames must be (N, h, w) or (N, h, w, 3), got shape {f.shape}")
    n, h, w = f.shape[:3]
    factor = max(1, w // width)
    if factor > 1 and h >= factor:
        # Mean of up to 4 x 4 evenly spaced pixels of each block (the exact block mean up to a
        # factor of 4): a few strided slices instead of a pass over a full HD frame.
        h2, w2 = h // factor, w // factor
        offsets = sorted({round(i * (factor - 1) / 3) for i in range(4)}) if factor > 4 else range(factor)
        small = np.zeros((n, h2, w2, *f.shape[3:]), dtype=np.float32)
        for dy in offsets:
            for dx in offsets:
                small += f[:, dy: dy + h2 * factor: factor, dx: dx + w2 * factor: factor]
        small /= np.float32(len(offsets) ** 2)
    else:
        small = f.astype(np.float32, copy=False)
    if colour:
        # Rec. 601 luma: what an eye (and a grey frame) sees as brightness
        small = small[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if f.dtype == np.uint8:
        small = small / np.float32(255.0)
    return np.ascontiguousarray(small, dtype=np.float32)


def _features(small: np.ndarray, previous: np.ndarray | None, noise_floor: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """energy, centre for shrunk frames, the first compared with `previous` (None: no motion)."""
    n = small.shape[0]
    energy = np.zeros(n, dtype=np.float32)
    centre = np.zeros(n, dtype=np.float32)
    if n == 0:
        return energy, centre
    if previous is not None and previous.shape != small.shape[1:]:
        previous = None  # a new picture size: a cut, not motion
    if previous is None:
        if n == 1:
            return energy, centre
        diff = np.abs(small[1:] - small[:-1])
        first = 1
    else:
        diff = np.abs(small - np.concatenate((previous[None], small[:-1])))
        first = 0
    diff[diff < noise_floor] = 0.0
    w = diff.shape[2]
    columns = diff.sum(axis=1)  # (n', w): motion per column
    total = columns.sum(axis=1)
    energy[first:] = _regional(diff)
    xs = np.linspace(-1.0, 1.0, w, dtype=np.float32) if w > 1 else np.zeros(1, np.float32)
    moved = total > 0
    weighted = columns @ xs
    centre[first:] = np.where(moved, weighted / np.where(moved, total, 1), 0.0)
    return energy, centre


def _cell_edges(size: int, grid: int) -> np.ndarray:
    """Start index of each of min(grid, size // MIN_CELL) (at least 1) near-equal cells along an
    axis of `size` pixels."""
    cells = max(1, min(grid, size // MIN_CELL))
    return np.unique(np.linspace(0, size, cells + 1).astype(np.int64)[:-1])


def _regional(diff: np.ndarray, grid: int = GRID) -> np.ndarray:
    """(n, h, w) differences -> (n,) the largest per-cell mean over a grid x grid grid."""
    n, h, w = diff.shape
    if n == 0 or h == 0 or w == 0:
        return np.zeros(n, dtype=np.float32)
    rows, cols = _cell_edges(h, grid), _cell_edges(w, grid)
    sums = np.add.reduceat(np.add.reduceat(diff, rows, axis=1), cols, axis=2)  # (n, gr, gc)
    heights = np.diff(np.append(rows, h)).astype(np.float32)
    widths = np.diff(np.append(cols, w)).astype(np.float32)
    means = sums / (heights[:, None] * widths[None, :])
    return np.clip(means.reshape(n, -1).max(axis=1), 0.0, 1.0).astype(np.float32)


def motion_features(frames: np.ndarray, width: int = DEFAULT_WIDTH, noise_floor: float = NOISE_FLOOR
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(energy (N,), centre_x (N,)) for a run of analysed frames; see the module doc."""
    return _features(shrink(frames, width), None, noise_floor)


class MotionTracker:
    """The streaming form for a decoder: feed batches in order, it keeps the previous frame.

    >>> tracker = MotionTracker()
    >>> for batch in batches:                      # (n, h, w[, 3]) frames at the analysis rate
    ...     energy, centre = tracker.update(batch)
    Concatenating the outputs equals `motion_features` of all frames at once.
    """

    def __init__(self, width: int = DEFAULT_WIDTH, noise_floor: float = NOISE_FLOOR) -> None:
        self.width = width
        self.noise_floor = noise_floor
        self._previous: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the previous frame (after a seek: the next frame is compared with nothing)."""
        self._previous = None

    def update(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        small = shrink(frames, self.width)
        energy, centre = _features(small, self._previous, self.noise_floor)
        if small.shape[0]:
            self._previous = small[-1].copy()
        return energy, centre
