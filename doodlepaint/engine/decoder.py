"""Decoders that turn VGG19 features back into pixels, and the weights shipped for them.

A decoder mirrors the encoder from one layer down (as in Li et al.'s WCT and Huang & Belongie's AdaIN):
3x3 convolutions with reflection padding, ReLU, nearest upsampling where VGG pools. `width` thins every
hidden layer (a CPU-trained decoder is half width); the input channels are VGG's and the output RGB.
The weights are trained here (`python -m doodlepaint.train.decoder`) and shipped in half precision
under resources/weights (engine/weights.py's format) with a record of how they were trained.
"""
from __future__ import annotations

import functools
import importlib.resources

import torch
import torch.nn as nn
import torch.nn.functional as F

from doodlepaint.engine.errors import DoodleError
from doodlepaint.engine.vgg import CHANNELS
from doodlepaint.engine.weights import load_network, weights_bytes, weights_metadata

# Per layer, the decoder's stages from the deepest up: (channels of each conv, upsample after the stage).
# relu4_1 -> the AdaIN decoder; relu3_1 -> the WCT/Chen & Schmidt decoder (its last three stages).
STAGES = {
    "relu4_1": ((256,), (256, 256, 256, 128), (128, 64), (64,)),
    "relu3_1": ((128,), (128, 64), (64,)),
    "relu5_1": ((512,), (512, 512, 512, 256), (256, 256, 256, 128), (128, 64), (64,)),
}


class Decoder(nn.Module):
    """VGG features at `layer` (B, C, H, W) -> RGB 0..255 (B, 3, H*f, W*f), f the layer's downsampling."""

    def __init__(self, layer: str = "relu3_1", width: float = 1.0):
        super().__init__()
        if layer not in STAGES:
            raise DoodleError(f"no decoder for layer {layer!r}: use one of {', '.join(STAGES)}")
        self.layer, self.width = layer, width
        # Features are scaled to unit spread before the first conv; set from data when training starts.
        self.register_buffer("input_scale", torch.ones(()))
        layers: list[nn.Module] = []
        channels = CHANNELS[int(layer[4])]
        stages = STAGES[layer]
        for index, stage in enumerate(stages):
            for out in stage:
                out = max(8, round(out * width))
                layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, out, 3), nn.ReLU(inplace=True)]
                channels = out
            if index < len(stages) - 1:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, 3, 3)]
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return 255.0 * (self.net(features / self.input_scale) + 0.5)

    @property
    def factor(self) -> int:
        return 2 ** (len(STAGES[self.layer]) - 1)


KIND = "decoder"
REMEDY = "reinstall doodlepaint, or use the Draft/Normal presets, which need no decoder"


def weights_file(layer: str) -> str:
    return f"decoder_{layer}.safetensors"


def save_weights(decoder: Decoder, record: dict) -> bytes:
    """The decoder's weights in half precision with its training record, as bytes for an atomic write."""
    return weights_bytes(decoder, KIND, {"layer": decoder.layer, "width": decoder.width}, record)


def decoder_from_bytes(data: bytes, where: str) -> Decoder:
    """A decoder from saved weights; anything unreadable or mismatched is a DoodleError naming `where`."""
    return load_network(data, KIND, where, REMEDY,
                        lambda settings: Decoder(settings["layer"], float(settings["width"])))


def decoder_record(data: bytes, where: str) -> dict:
    """How the decoder of saved weights was trained (command, data, steps, losses)."""
    return weights_metadata(data, KIND, where, REMEDY)["record"]


def shipped_record(layer: str) -> dict:
    """How the shipped decoder for `layer` was trained."""
    return decoder_record(_shipped_bytes(layer), f"for {layer}")


def _shipped_bytes(layer: str) -> bytes:
    resource = importlib.resources.files("doodlepaint") / "resources" / "weights" / weights_file(layer)
    try:
        return resource.read_bytes()
    except (FileNotFoundError, ModuleNotFoundError) as error:
        raise DoodleError(f"the instant-preview decoder for {layer} is not installed ({weights_file(layer)}): "
                          "reinstall doodlepaint, or use the Draft/Normal presets, which need no decoder") from error


@functools.lru_cache(maxsize=8)
def _cached_decoder(layer: str, device: str) -> Decoder:
    # channels-last convolutions: the decoder's pass is a good deal faster so on a CPU (BENCHMARKS.md, Figures
    # behind constants)
    return decoder_from_bytes(_shipped_bytes(layer), f"for {layer}").to(device, memory_format=torch.channels_last)


def get_decoder(layer: str, device: torch.device | str = "cpu") -> Decoder:
    """The shipped decoder for `layer` on `device`, loaded once per process."""
    return _cached_decoder(layer, str(torch.device(device)))


def reconstruction_loss(decoder: Decoder, encoder, features: torch.Tensor, images: torch.Tensor | None,
                        feature_layers: tuple[str, ...]) -> tuple[torch.Tensor, dict[str, float]]:
    """Pixel L1 (when the true images are known) + relative feature MSE at `feature_layers`.

    For swapped features there is no true image: only the decoder's own layer is compared, as in Chen &
    Schmidt's inverse network."""
    decoded = decoder(features)
    layers = feature_layers if images is not None else (decoder.layer,)
    decoded_features = encoder(decoded, layers)
    with torch.no_grad():
        targets = encoder(images, layers) if images is not None else {decoder.layer: features}
    parts = {}
    loss = decoded.new_zeros(())
    for layer in layers:
        term = F.mse_loss(decoded_features[layer], targets[layer]) / targets[layer].pow(2).mean().clamp_min(1e-6)
        parts[f"feature_{layer}"] = float(term.detach())
        loss = loss + term
    if images is not None:
        pixel = F.l1_loss(decoded, images) / 255.0
        parts["pixel"] = float(pixel.detach())
        loss = loss + pixel
    return loss, parts
