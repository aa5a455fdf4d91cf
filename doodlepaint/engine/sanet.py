"""SANet, the style-attentional network (Park & Lee, CVPR 2019), with label masks on its attention.

A feed-forward method for a photo under the doodle. VGG19 encodes the photo (content) and the painting
(style) to relu4_1 and relu5_1. At each level a style-attention module lets every content position take a
softmax-weighted mix of the style features:

    F_cs = F_c + W_o · Σ_j softmax_j( (W_f N(F_c))_i · (W_g N(F_s))_j ) · (W_h F_s)_j

(N: mean-variance normalisation per channel, W: 1x1 convolutions). The two levels are merged,
F_csc = conv3x3(F_cs(relu4_1) + upsample(F_cs(relu5_1))), and a decoder that mirrors VGG19 from relu4_1
paints the result. The weights are trained here (`python -m doodlepaint.train.sanet`).

Label masks, which the paper only sketches: each content position's attention is biased towards style
positions of its own label (the doodle's label at the photo, the style map's at the painting). The bias is
log q per foreign position, with q = 10^(-γ/10): γ 0 is the paper's unmasked SANet, γ 10 weighs another
label's style position a tenth of an own-label one, and from γ = STRICT_GAMMA (the default, 50) up, other
labels' logits are -inf: a position never attends to another label's style.

A decoder regresses to the mean: what it paints is washed out, a region's colours drift towards the
photo's and its strokes are fainter than the painting's. So, as the instant preview does, each label's
broad colour is then moved towards the painting's colour mean and spread for that label, and its brush
marks to the painting's contrast (`match_label_colours_and_detail`), by a strength that follows the mask and the
photo weight: none at γ 0 (the paper's SANet, no labels in play) or at α 100, all of it at strict γ and α 0
(`label_colour_strength`). bench/sanet.py reports the fidelity with and without this step.

α, the doodlepaint "photo weight" slider (0..100), is the paper's content-style trade-off: the decoder sees
F = (1 - α/100)·F_csc + (α/100)·F_ccc, F_ccc being the photo attended with itself. α 0 is full style,
α 100 the photo as the network reproduces it; the default 10 keeps a tenth of the photo's own features.
"""
from __future__ import annotations

import functools
import importlib.resources
import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from doodlepaint.engine.cache import fingerprint, style_cache
from doodlepaint.engine.decoder import Decoder
from doodlepaint.engine.errors import DoodleError, LabelMapError
from doodlepaint.engine.label_colours import LabelColours, match_label_colours_and_detail
from doodlepaint.engine.method import OnePassMethod, RenderContext
from doodlepaint.engine.params import Progress, TransferRequest
from doodlepaint.engine.plan import PhasePlan, plan_phases
from doodlepaint.engine.tensors import ids_tensor, image_tensor, label_masks, label_mean_colours
from doodlepaint.engine.vgg import CHANNELS, get_encoder
from doodlepaint.engine.weights import load_network, weights_bytes, weights_metadata

LEVELS = ("relu4_1", "relu5_1")
STRICT_GAMMA = 50.0     # from here up, other labels' style positions are masked out (-inf)
ALPHA_RANGE = 100.0     # the photo-weight slider's range: α / ALPHA_RANGE is the content share
MULTIPLE = 16           # relu5_1 is 1/16 of the image: inputs are padded to a multiple of it
# The photo is rendered with a reflected margin this wide on every side, then cropped: at the image's own
# edge, VGG's zero padding gives features no painting position resembles, and the network painted a few
# pixels' stripe of stray colour there (a yellow band down the dusk photo's sky, measured at 512 px).
MARGIN = 16
COLOUR_NOISE = 48.0     # amplitude of the noise over the label colours when there is no photo
WEIGHTS_FILE = "sanet.safetensors"
EPS = 1e-5


def mean_variance_norm(features: torch.Tensor) -> torch.Tensor:
    """Per image and channel: zero mean, unit standard deviation over the positions."""
    mean = features.mean((2, 3), keepdim=True)
    std = (features.var((2, 3), keepdim=True, unbiased=False) + EPS).sqrt()
    return (features - mean) / std


class StyleAttention(nn.Module):
    """One style-attention module: content (B, C, Hc, Wc), style (B, C, Hs, Ws) -> (B, C, Hc, Wc)."""

    def __init__(self, channels: int):
        super().__init__()
        self.f = nn.Conv2d(channels, channels, 1)
        self.g = nn.Conv2d(channels, channels, 1)
        self.h = nn.Conv2d(channels, channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def attention(self, content: torch.Tensor, style: torch.Tensor, bias: torch.Tensor | None = None):
        """Softmax weights (B, Hc*Wc, Hs*Ws): row i says how much content position i takes from each style
        position. `bias` (B or 1, Hc*Wc, Hs*Ws) is added to the logits (-inf masks a position out)."""
        query = self.f(mean_variance_norm(content)).flatten(2).transpose(1, 2)     # (B, Nc, C)
        key = self.g(mean_variance_norm(style)).flatten(2)                         # (B, C, Ns)
        logits = torch.bmm(query, key)
        if bias is not None:
            logits = logits + bias
        return torch.softmax(logits, dim=-1)

    def forward(self, content: torch.Tensor, style: torch.Tensor, bias: torch.Tensor | None = None):
        weights = self.attention(content, style, bias)
        value = self.h(style).flatten(2)                                            # (B, C, Ns)
        attended = torch.bmm(value, weights.transpose(1, 2)).view_as(content)
        return content + self.out(attended)


class SANet(nn.Module):
    """The style-attention transform and its decoder: features in, RGB 0..255 out."""

    def __init__(self, width: float = 1.0):
        super().__init__()
        self.width = width
        self.attend4 = StyleAttention(CHANNELS[4])
        self.attend5 = StyleAttention(CHANNELS[5])
        self.merge = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(CHANNELS[4], CHANNELS[4], 3))
        self.decoder = Decoder("relu4_1", width)
        # The Caffe VGG's activations are in the hundreds: the modules see each level divided by its spread
        # (set from data when training starts), else Adam's first steps dwarf the 1x1 convolutions' weights.
        self.register_buffer("scale4", torch.ones(()))
        self.register_buffer("scale5", torch.ones(()))

    def transform(self, content: dict[str, torch.Tensor], style: dict[str, torch.Tensor],
                  biases: dict[str, torch.Tensor | None] | None = None) -> torch.Tensor:
        """F_csc from VGG features at relu4_1 and relu5_1 of the content and the style."""
        biases = biases or {}
        level4 = self.attend4(content["relu4_1"] / self.scale4, style["relu4_1"] / self.scale4,
                              biases.get("relu4_1"))
        level5 = self.attend5(content["relu5_1"] / self.scale5, style["relu5_1"] / self.scale5,
                              biases.get("relu5_1"))
        return self.merge(level4 + F.interpolate(level5, size=level4.shape[-2:], mode="nearest"))

    def forward(self, content, style, biases=None) -> torch.Tensor:
        return self.decoder(self.transform(content, style, biases))


# --- label masks ---------------------------------------------------------------------------------------

def foreign_weight(gamma: float) -> float:
    """How much a style position of another label counts against one of the same label (1: unmasked)."""
    return 0.0 if gamma >= STRICT_GAMMA else 10.0 ** (-gamma / 10.0)


def label_shares(ids: torch.Tensor, labels: int, size: tuple[int, int]) -> torch.Tensor:
    """Each label's share of every position of a (size) feature map, from an ([B,] H, W) id map:
    ([B,] labels, h, w)."""
    return F.adaptive_avg_pool2d(F.one_hot(ids.long(), labels).movedim(-1, -3).float(), size)


def position_labels(ids: torch.Tensor, labels: int, size: tuple[int, int]) -> torch.Tensor:
    """The dominant label of each position of a (size) feature map, from an (H, W) id map, flattened."""
    return label_shares(ids, labels, size).argmax(0).flatten()


def label_bias(content_ids: torch.Tensor, style_ids: torch.Tensor, labels: int, content_size, style_size,
               gamma: float) -> torch.Tensor | None:
    """Logit bias (1, Nc, Ns) keeping content positions to style positions of their own label; None at γ 0.

    A content label that no style position holds at this resolution (a sliver of the style map that
    pooling lost) keeps the unmasked attention rather than a row of -inf."""
    if gamma <= 0:
        return None
    own = position_labels(content_ids, labels, content_size)[:, None] == \
        position_labels(style_ids, labels, style_size)[None, :]
    own |= ~own.any(1, keepdim=True)
    weight = foreign_weight(gamma)
    foreign = -math.inf if weight == 0.0 else math.log(weight)
    return torch.zeros(own.shape, device=own.device).masked_fill(~own, foreign)[None]


# --- shipped weights -----------------------------------------------------------------------------------

KIND = "sanet"
REMEDY = "reinstall doodlepaint, or use the patch method, which needs no trained network"


def save_weights(model: SANet, record: dict) -> bytes:
    """The model in half precision with its training record, as bytes for an atomic write."""
    return weights_bytes(model, KIND, {"width": model.width}, record)


def sanet_from_bytes(data: bytes, where: str) -> SANet:
    """A model from saved weights; anything unreadable or mismatched is a DoodleError naming `where`."""
    return load_network(data, KIND, where, REMEDY, lambda settings: SANet(float(settings["width"])))


def _shipped_bytes() -> bytes:
    resource = importlib.resources.files("doodlepaint") / "resources" / "weights" / WEIGHTS_FILE
    try:
        return resource.read_bytes()
    except (FileNotFoundError, ModuleNotFoundError) as error:
        raise DoodleError(f"the SANet weights are not installed ({WEIGHTS_FILE}): {REMEDY}") from error


def weights_record(data: bytes, where: str = "given") -> dict:
    """How the SANet of saved weights was trained (command, data, steps, losses)."""
    return weights_metadata(data, KIND, where, REMEDY)["record"]


def shipped_record() -> dict:
    """How the shipped SANet was trained."""
    return weights_record(_shipped_bytes(), "in resources/weights")


@functools.lru_cache(maxsize=4)
def _cached_model(device: str) -> SANet:
    return sanet_from_bytes(_shipped_bytes(), "in resources/weights").to(device)


def get_sanet(device: torch.device | str = "cpu") -> SANet:
    """The shipped SANet on `device`, loaded once per process."""
    return _cached_model(str(torch.device(device)))


# --- inference -----------------------------------------------------------------------------------------

def content_share(alpha: float) -> float:
    """The photo-weight slider (0..100) as the share of F_ccc in the decoder's input, 0..1."""
    return min(1.0, max(0.0, alpha / ALPHA_RANGE))


def label_colour_strength(gamma: float, alpha: float) -> float:
    """How far the picture moves to the painting's per-label colours, 0..1: as strong as the label mask
    (none unmasked) and as the style's share (none at α 100, the photo as the network paints it)."""
    return (1.0 - foreign_weight(gamma)) * (1.0 - content_share(alpha))


def _pads(shape, margin: int) -> tuple[int, int, int, int]:
    """F.pad's (left, right, top, bottom): `margin` on every side, then bottom and right to a multiple of
    MULTIPLE."""
    height, width = shape[-2] + 2 * margin, shape[-1] + 2 * margin
    return margin, margin + (-width % MULTIPLE), margin, margin + (-height % MULTIPLE)


def _padded(x: torch.Tensor, margin: int = 0) -> torch.Tensor:
    """Reflection-pad (B, C, H, W) by `margin` on every side and on the bottom and right to a multiple of
    MULTIPLE."""
    pads = _pads(x.shape, margin)
    return F.pad(x, pads, mode="reflect") if any(pads) else x


def _padded_ids(ids: torch.Tensor, margin: int = 0) -> torch.Tensor:
    """An (H, W) id map padded as `_padded` pads its image, each border label carried outwards."""
    return F.pad(ids[None, None].float(), _pads(ids.shape, margin), mode="replicate")[0, 0].long()


def stand_in_photo(request: TransferRequest, width: int, height: int, seed: int) -> np.ndarray:
    """Without a photo: each label painted in its mean style colour, plus noise for texture to grow on."""
    target = ids_tensor(request.target_labels, width, height, "cpu")
    colours = label_mean_colours(request)[target].float()
    noise = torch.rand(colours.shape, generator=torch.Generator().manual_seed(seed)) - 0.5
    return (colours + noise * COLOUR_NOISE).clamp(0, 255).round().to(torch.uint8).numpy()


class _Scene:
    """The photo, its labels and the decoder-ready features of one render, on a device."""

    def __init__(self, request: TransferRequest, model: SANet, encoder, device):
        self.request, self.model, self.encoder, self.device = request, model, encoder, device
        plan = plan_phases(request)[-1]
        self.width, self.height = plan.width, plan.height
        photo = request.content if request.content is not None else \
            stand_in_photo(request, self.width, self.height, request.params.seed)
        # every upload before the first pass is queued: on a GPU a copy from the host waits for the work before it
        self.content_ids = _padded_ids(ids_tensor(request.target_labels, self.width, self.height, device), MARGIN)
        self.target_masks = label_masks(request.target_labels, len(request.palette), self.width, self.height, device)
        self.content = self.encode(_padded(image_tensor(photo, self.width, self.height, device), MARGIN))
        self.colours: list[tuple[float, LabelColours]] = []   # (weight, colours) per painting

    def encode(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.encoder(image, LEVELS)

    def biases(self, style_features, style_ids, labels: int, gamma: float) -> dict[str, torch.Tensor | None]:
        return {level: label_bias(self.content_ids, style_ids, labels, self.content[level].shape[-2:],
                                  style_features[level].shape[-2:], gamma) for level in LEVELS}

    def stylised(self, request: TransferRequest) -> torch.Tensor:
        """F_csc for the painting of `request` (its own style, map and γ; the scene's doodle and size)."""
        plan = plan_phases(request)[-1]
        style_w, style_h = plan.style_width, plan.style_height
        key = ("sanet", fingerprint(request.style, request.style_labels, request.palette), style_w, style_h,
               str(self.device), self.encoder)
        # the painting's features are the same for every stroke: encoded once, kept in the engine's cache
        style, style_ids, colours = style_cache.get(key, lambda: self._encode_painting(request, style_w, style_h))
        self.colours = [(1.0, colours)]
        biases = self.biases(style, style_ids, len(request.palette), request.params.gamma)
        return self.model.transform(self.content, style, biases)

    def _encode_painting(self, request: TransferRequest, width: int, height: int):
        """The painting's features, its position labels, and its colours per label."""
        image = image_tensor(request.style, width, height, self.device)
        masks = label_masks(request.style_labels, len(request.palette), width, height, self.device)
        ids = _padded_ids(ids_tensor(request.style_labels, width, height, self.device))
        return self.encode(_padded(image)), ids, LabelColours.of(image, masks)

    def content_only(self) -> torch.Tensor:
        """F_ccc: the photo attending to itself, under the same label masks."""
        biases = self.biases(self.content, self.content_ids, len(self.request.palette), self.request.params.gamma)
        return self.model.transform(self.content, self.content, biases)

    def decode(self, features: torch.Tensor, colour_strength: float = 0.0) -> np.ndarray:
        """The decoder's picture, moved by `colour_strength` towards the paintings' per-label colours (the
        colours of `stylised`'s paintings, weighted alike)."""
        image = self.model.decoder(features)[:, :, MARGIN:MARGIN + self.height, MARGIN:MARGIN + self.width]
        if colour_strength > 0 and self.colours:
            matched = match_label_colours_and_detail(image, self.target_masks, LabelColours.blend(self.colours))
            image = torch.lerp(image, matched, colour_strength)
        return image[0].clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).contiguous().cpu().numpy()


def _mixed(scene: _Scene, stylised: torch.Tensor, alpha: float) -> torch.Tensor:
    share = content_share(alpha)
    return stylised if share == 0 else (1 - share) * stylised + share * scene.content_only()


class StyleAttentionMethod(OnePassMethod):
    """SANet as a method; a model of the caller's (tests, the bench) replaces the shipped one, and
    `label_colours` False leaves the decoder's own colours (what the network alone paints)."""

    name = "sanet"

    def __init__(self, model: SANet | None = None, label_colours: bool = True):
        self.model, self.label_colours = model, label_colours

    def picture(self, request: TransferRequest, plan: PhasePlan, context: RenderContext) -> np.ndarray:
        with torch.no_grad():
            scene = _Scene(request, self.model or get_sanet(context.device), context.encoder(), context.device)
            params = request.params
            strength = label_colour_strength(params.gamma, params.alpha) if self.label_colours else 0.0
            return scene.decode(_mixed(scene, scene.stylised(request), params.alpha), strength)


METHOD = StyleAttentionMethod()


def run_sanet(request: TransferRequest, should_stop: Callable[[], bool] | None = None,
              device: torch.device | str = "cpu", preview_interval: float = 0.5, encoder=None,
              model: SANet | None = None, label_colours: bool = True) -> Iterator[Progress]:
    """Render `request` with SANet in one feed-forward pass; yields one Progress, done, with the frame."""
    method = StyleAttentionMethod(model, label_colours)
    method.validate(request)
    device = torch.device(device)
    context = RenderContext(should_stop or (lambda: False), device, preview_interval,
                            lambda: encoder or get_encoder(device))
    yield from method.render(request, context)


def interpolate_styles(requests: Sequence[TransferRequest], weights: Sequence[float],
                       device: torch.device | str = "cpu", encoder=None, model: SANet | None = None) -> np.ndarray:
    """The paper's style interpolation: one photo, several paintings, F = Σ w_k F_csc(k) / Σ w_k, decoded.

    The photo, the target map, the size, α and the seed are those of the first request; each request
    brings its own painting, style map and γ (their palettes must agree, as one doodle is shared)."""
    if not requests or len(requests) != len(weights):
        raise DoodleError("style interpolation needs one weight per painting, and at least one painting")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise DoodleError("style interpolation weights must be zero or positive, and not all zero")
    first = requests[0]
    # each painting over the first request's doodle, size and photo
    paintings = [request.__class__(request.style, request.style_labels, first.target_labels, request.palette,
                                   first.params.replace(gamma=request.params.gamma), first.content)
                 for request in requests]
    for request in paintings:
        if request.palette.shape != first.palette.shape or not np.array_equal(request.palette, first.palette):
            raise LabelMapError("the paintings to interpolate must share one label palette")
        METHOD.validate(request)
    device = torch.device(device)
    encoder = encoder or get_encoder(device)
    model = model or get_sanet(device)
    with torch.no_grad():
        scene = _Scene(first, model, encoder, device)
        total = sum(weights)
        stylised, colours = 0.0, []
        for request, weight in zip(paintings, weights):
            if weight > 0:
                stylised = stylised + (weight / total) * scene.stylised(request)
                colours += [(weight * w, painting) for w, painting in scene.colours]
        scene.colours = colours
        params = first.params
        return scene.decode(_mixed(scene, stylised, params.alpha), label_colour_strength(params.gamma, params.alpha))
