"""The frozen values that cross the engine's boundary: parameters, a request, a progress frame."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

METHODS = ("patch", "gram", "sanet")
PATCH_SIZES = (3, 5, 7)
INITS = ("auto", "noise", "colours", "content", "image")


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
    match_every: int = 4         # re-match patches every N steps (matching every step is the reference)
    style_stride: int = 1        # stride of the style patches (2 = four times fewer, faster)

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        if self.patch_size not in PATCH_SIZES:
            raise ValueError(f"patch size must be one of {PATCH_SIZES}, not {self.patch_size}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, not {self.init!r}")
        for name in ("alpha", "beta", "gamma", "smoothness"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be zero or positive")
        if not 1 <= self.phases <= 6:
            raise ValueError("phases must be between 1 and 6")
        if self.iterations < 1 or self.match_every < 1 or self.style_stride < 1:
            raise ValueError("iterations, match_every and style_stride must be at least 1")
        if self.size is not None and not 16 <= self.size <= 8192:
            raise ValueError("size must be between 16 and 8192 pixels")

    def replace(self, **changes) -> "TransferParams":
        return dataclasses.replace(self, **changes)


PRESETS: dict[str, TransferParams] = {
    "Draft": TransferParams(iterations=6, match_every=6),
    "Normal": TransferParams(),
    "High": TransferParams(iterations=100, match_every=2),
}


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
    loss: float
    elapsed: float                # seconds since the render began
    eta: float                    # seconds left, estimated
    frame: np.ndarray | None = None
    done: bool = False
    message: str = ""             # e.g. an automatic retry with smaller chunks
    phase_seconds: tuple[float, ...] = ()
    peak_memory: int = 0          # bytes on the GPU (0 on the CPU)
    evaluations: int = 0          # loss-and-gradient evaluations so far (L-BFGS line searches add some)
    fraction: float = 0.0         # share of the render's estimated work done, 0..1 (fine phases weigh more)

    @property
    def eta_known(self) -> bool:
        """The ETA extrapolates from the work done; over the first tenth that is mostly set-up time."""
        return self.fraction >= 0.1 or self.done
