"""Which recipe makes each class's sounds, and the names of its variations.

The recipes themselves live in sfxstudio.demo.recipes_loops (ambiences, engines, steady
activities) and sfxstudio.demo.recipes_hits (one-shots and retriggered hits); both build on the
blocks of sfxstudio.demo.dsp. sfxstudio.demo.sounds turns them into the library's files.
"""

from __future__ import annotations

from collections.abc import Callable

from sfxstudio.demo import recipes_hits as hits
from sfxstudio.demo import recipes_loops as loops
from sfxstudio.demo.dsp import Rng, Signal

# A recipe takes a seeded generator and a variation index and returns float64 audio,
# shape (n,) mono or (n, 2) stereo, at any level: `synthesize` normalises it.
Recipe = Callable[[Rng, int], Signal]

RECIPES: dict[str, tuple[Recipe, tuple[str, ...]]] = {
    "train_passing": (loops.train_passing, ("horn", "clatter")),
    "water_drop": (hits.water_drop, ("plink", "plip", "bucket")),
    "river": (loops.river, ("river", "creek")),
    "stars_shining": (loops.stars_shining, ("sparkle", "shimmer")),
    "lightning": (hits.lightning, ("crack", "distant", "strike")),
    "writing": (loops.writing, ("pencil", "pen")),
    "screaming": (hits.screaming, ("scream", "shriek")),
    "high_heels": (hits.high_heels, ("tile", "wood", "marble")),
    "wave": (loops.wave, ("surf", "shore")),
    "typing": (loops.typing, ("mechanical", "laptop")),
    "ambulance": (loops.ambulance, ("two_tone", "wail")),
    "dog_barking": (hits.dog_barking, ("woof", "big_dog", "yap")),
    "cars": (loops.cars, ("engine", "traffic")),
    "door_opening": (hits.door_opening, ("creak", "squeak")),
    "glass_breaking": (hits.glass_breaking, ("pane", "bottle")),
    "cat_meowing": (hits.cat_meowing, ("meow", "mew", "mrrow")),
    "cheer": (loops.cheer, ("stadium", "applause")),
    "fire": (loops.fire, ("campfire", "fireplace")),
    "helicopter": (loops.helicopter, ("hover", "fast")),
    "blender": (loops.blender, ("ice", "smoothie")),
}
