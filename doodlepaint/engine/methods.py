"""The registry of rendering methods: what the app, the command line and the server know of each method,
readable without importing torch.

A method is one engine module holding an object with the `Method` interface (engine/method.py); its entry
here says where that object lives and what it offers: its name on the wire and the command line, its label
and tip in the app's Method box, whether it paints in one pass or refines by optimisation, the parameters
(knobs) it reads, and the smallest picture it can paint. Adding a method is that module and one `register`
call; the Method box, the CLI's --method choices and the server's schema all read this registry.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

# Every parameter a method may read; the app disables the sliders of those it does not.
KNOBS = frozenset({"alpha", "beta", "gamma", "patch_size", "phases", "iterations", "smoothness", "init",
                   "match_every", "style_stride"})


@dataclass(frozen=True)
class MemoryModel:
    """What a method's render holds at once, per phase, for engine/memory.py's estimate (fitted by
    bench/memory.py to peaks measured with the real VGG19; BENCHMARKS.md)."""

    runtime: float              # bytes a process holds before its first render (torch, the networks)
    fixed: float                # bytes a render takes whatever its size (buffers, the allocator's arenas)
    per_pixel: float            # bytes per output pixel of a phase
    per_style_pixel: float      # bytes per painting pixel of a phase (kept in the style cache afterwards)
    per_pixel_pair: float = 0.0  # bytes per (output pixel x painting pixel) of a phase
    per_match_score: float = 0.0  # bytes per patch-match score held at once (engine/memory.py: not fitted)


@dataclass(frozen=True)
class MethodInfo:
    name: str                 # on the wire, in project files and after --method
    label: str                # in the app's Method box
    tip: str                  # the Method box's tooltip
    one_pass: bool            # True: one feed-forward picture; False: an optimisation that can refine one
    knobs: frozenset[str]     # the parameters it reads, a subset of KNOBS
    implementation: str       # "module:attribute" of the object that renders (imported when first used)
    memory: MemoryModel       # what its render holds, for refusing what does not fit before it starts
    min_side: int = 16        # the smallest output or painting side it can paint
    cells_per_patch: int = 0  # its deepest layer's downscale: a k x k patch needs cells_per_patch * (k + 1) px

    def __post_init__(self):
        unknown = self.knobs - KNOBS
        if unknown:
            raise ValueError(f"method {self.name!r} names unknown parameters: {sorted(unknown)}")
        if ":" not in self.implementation:
            raise ValueError(f"method {self.name!r}: implementation must be 'module:attribute'")

    @property
    def refinable(self) -> bool:
        return not self.one_pass

    def minimum_side(self, patch_size: int) -> int:
        return max(self.min_side, self.cells_per_patch * (patch_size + 1))

    def load(self):
        """The object that renders (engine/method.py's `Method`), importing its module on first use."""
        module, attribute = self.implementation.split(":")
        return getattr(importlib.import_module(module), attribute)


_REGISTRY: dict[str, MethodInfo] = {}


def register(info: MethodInfo) -> MethodInfo:
    if info.name in _REGISTRY:
        raise ValueError(f"a method named {info.name!r} is already registered")
    _REGISTRY[info.name] = info
    return info


def unregister(name: str) -> None:
    """Take a method out again (tests that register one of their own)."""
    _REGISTRY.pop(name, None)


def method_info(name: str) -> MethodInfo:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"method must be one of {method_names()}, not {name!r}") from None


def method_names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def all_methods() -> tuple[MethodInfo, ...]:
    return tuple(_REGISTRY.values())


OPTIMISED = frozenset({"alpha", "beta", "gamma", "phases", "iterations", "smoothness", "init", "match_every"})

register(MethodInfo(
    "patch", "Patches (brush marks)",
    "Patches copies actual brush marks region by region, refined by optimisation (Champandard's neural "
    "doodle): the most faithful, and the slowest.",
    one_pass=False, knobs=OPTIMISED | {"patch_size", "style_stride"},
    implementation="doodlepaint.engine.terms:PATCH", cells_per_patch=8,
    memory=MemoryModel(runtime=848e6, fixed=231e6, per_pixel=3067.0, per_style_pixel=770.0, per_match_score=4.0)))
register(MethodInfo(
    "gram", "Gram (texture statistics)",
    "Gram matches the overall colours and textures per region (Gatys' style transfer, one Gram matrix per "
    "label): looser, and slower on the CPU; it has no patch size.",
    one_pass=False, knobs=OPTIMISED, implementation="doodlepaint.engine.terms:GRAM",
    memory=MemoryModel(runtime=848e6, fixed=225e6, per_pixel=4463.0, per_style_pixel=425.0)))
register(MethodInfo(
    "swap", "Instant (patch swap, one pass)",
    "Instant swaps in the painting's patches of each label and paints them in one pass of a trained "
    "network: a fraction of a second, softer; the style weight and the steps do not apply.",
    one_pass=True, knobs=frozenset({"gamma", "patch_size", "style_stride", "init"}),
    implementation="doodlepaint.engine.swap:METHOD", cells_per_patch=4,
    memory=MemoryModel(runtime=848e6, fixed=228e6, per_pixel=1286.0, per_style_pixel=852.0)))
register(MethodInfo(
    "sanet", "SANet (photo, instant)",
    "SANet repaints a photo under the doodle in one pass of a trained network (seconds on the CPU): α "
    "keeps the photo (0 full style, 100 the photo) and γ 50 or more keeps each region to its label.",
    one_pass=True, knobs=frozenset({"alpha", "gamma"}),
    implementation="doodlepaint.engine.sanet:METHOD", min_side=32,
    memory=MemoryModel(runtime=1060e6, fixed=63e6, per_pixel=253.0, per_style_pixel=154.0, per_pixel_pair=0.00661)))
