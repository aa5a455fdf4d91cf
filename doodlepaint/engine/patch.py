"""Semantic patch matching (Champandard 2016, after Li & Wand's CNNMRF).

Every k x k patch of the output's augmented layer [features | gamma * labels] is matched with the
style patch of highest normalised cross-correlation; the loss pulls the output's *feature* patch
towards the matched style feature patch (labels choose, they carry no gradient). The match is one
matrix product of normalised patch vectors, done in chunks of output patches so the full score
matrix never exists.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from doodlepaint.engine.device import release_memory
from doodlepaint.engine.errors import GPUMemoryError
from doodlepaint.engine.stopping import check_stop

GAMMA_PER_WEIGHT = 5.0   # gamma 50 (the paper's default) = semantic cosine weighted 10 x the feature one
EPS = 1e-8


def patches(x: torch.Tensor, k: int, stride: int = 1) -> torch.Tensor:
    """(1, C, H, W) -> (N, C*k*k), row per patch, in unfold's (row-major) position order."""
    return F.unfold(x, k, stride=stride)[0].transpose(0, 1)


def semantic_weight(gamma: float) -> float:
    return gamma / GAMMA_PER_WEIGHT


def principal_directions(features: torch.Tensor, count: int) -> torch.Tensor:
    """(count, C): the directions that carry most of the features' energy (uncentred PCA), for matching
    in fewer channels."""
    flat = features[0].flatten(1)
    second_moment = flat @ flat.t() / flat.shape[1]
    _, vectors = torch.linalg.eigh(second_moment.double())
    return vectors[:, -count:].t().to(features.dtype).contiguous()


def match_keys(features: torch.Tensor, labels: torch.Tensor, k: int, gamma: float, stride: int = 1,
               projection: torch.Tensor | None = None):
    """Unit-norm feature part concatenated with sqrt(w) * unit-norm label part, one row per patch; with a
    projection, the feature part is matched in its principal directions only."""
    if projection is not None:
        features = F.conv2d(features, projection[:, :, None, None])
    f = F.normalize(patches(features, k, stride), dim=1, eps=EPS)
    if gamma <= 0:
        return f
    s = F.normalize(patches(labels, k, stride), dim=1, eps=EPS) * math.sqrt(semantic_weight(gamma))
    return torch.cat([f, s.to(f.dtype)], 1)


class PatchStyle:
    """One layer's style patches, built once per phase; matches output patches against them."""

    def __init__(self, features: torch.Tensor, labels: torch.Tensor, k: int, gamma: float, stride: int = 1,
                 chunk: int = 4096, match_dtype: torch.dtype | None = None, key_channels: int | None = None):
        self.k, self.gamma, self.chunk = k, gamma, chunk
        self.targets = patches(features, k, stride).contiguous()           # feature patches to copy
        self.projection = (principal_directions(features, key_channels)
                           if key_channels is not None and key_channels < features.shape[1] else None)
        keys = match_keys(features, labels, k, gamma, stride, self.projection)
        self.match_dtype = match_dtype or keys.dtype
        self.keys_t = keys.to(self.match_dtype).t().contiguous()            # (D, N)
        self.retries: list[str] = []
        self._field: _MatchedField | None = None

    @torch.no_grad()
    def match(self, features: torch.Tensor, labels: torch.Tensor, stride: int = 1) -> torch.Tensor:
        """Index of the best style patch for every output patch (every `stride`-th position), (L,) int64."""
        queries = match_keys(features, labels, self.k, self.gamma, stride, self.projection).to(self.match_dtype)
        while True:
            try:
                best = []
                for block in queries.split(self.chunk):
                    check_stop()            # a print-size match is thousands of chunks: minutes on a CPU
                    best.append((block @ self.keys_t).argmax(1))
                return torch.cat(best)
            except torch.OutOfMemoryError:
                if self.chunk <= 64:
                    raise GPUMemoryError(
                        f"out of GPU memory matching {queries.shape[0]} x {self.keys_t.shape[1]} patches even in "
                        "chunks of 64: render at a smaller --size, use --style-stride 2, or use --device cpu")
                self.chunk //= 4
                release_memory(queries.device)
                self.retries.append(f"out of GPU memory: retrying the patch match in chunks of {self.chunk}")

    @torch.no_grad()
    def swap(self, features: torch.Tensor, labels: torch.Tensor, stride: int = 1,
             index: torch.Tensor | None = None) -> torch.Tensor:
        """Chen & Schmidt's style swap: every patch of `features` (every `stride`-th one; below the patch
        size they still cover every position) replaced by its best style patch, the overlaps averaged.
        Same shape as `features`. `index`: the match, if the caller made it already (at stride 1)."""
        height, width = features.shape[-2:]
        # the last row and column of patches must reach the border: pad by what the stride leaves over
        pad_h, pad_w = (-(height - self.k)) % stride, (-(width - self.k)) % stride
        if pad_h or pad_w:
            features = F.pad(features, (0, pad_w, 0, pad_h), mode="replicate")
            labels = None if labels is None else F.pad(labels, (0, pad_w, 0, pad_h), mode="replicate")
        if index is None:
            index = self.match(features, labels, stride)
        field = _MatchedField.build(self.targets, index, tuple(features.shape[-2:]), self.k, stride)
        return (field.folded / field.cover)[..., :height, :width]

    def loss(self, features: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """mean over patches i of |P_i f - t_i|^2, computed on the feature map, not on the patch matrix.

        Expanding the square: sum_i |P_i f|^2 = sum_pixels cover * f^2 (cover: how many patches hold a
        pixel), and sum_i <P_i f, t_i> = <f, fold(t)>. fold(t) and sum_i |t_i|^2 are fixed per match, so
        each evaluation is a few elementwise ops on the map, quicker than unfolding every patch (which is what
        the reference does; BENCHMARKS.md, What made it faster or better)."""
        field = self._matched_field(index, features.shape[-2:])
        energy = ((field.cover * features - 2 * field.folded) * features).sum() + field.constant
        return energy / field.count

    def _matched_field(self, index: torch.Tensor, size) -> "_MatchedField":
        if self._field is None or self._field.index is not index or self._field.size != tuple(size):
            self._field = _MatchedField.build(self.targets, index, tuple(size), self.k)
        return self._field


class _MatchedField:
    """The matched style patches of one match, folded back onto the output's feature map."""

    def __init__(self, index, size, folded, cover, constant, count):
        self.index, self.size, self.folded, self.cover = index, size, folded, cover
        self.constant, self.count = constant, count

    @classmethod
    @torch.no_grad()
    def build(cls, targets: torch.Tensor, index: torch.Tensor, size: tuple[int, int], k: int,
              stride: int = 1) -> "_MatchedField":
        matched = targets[index]                                            # (L, C*k*k)
        folded = F.fold(matched.t()[None], size, k, stride=stride)          # (1, C, H, W)
        ones = torch.ones(1, k * k, matched.shape[0], device=matched.device, dtype=matched.dtype)
        cover = F.fold(ones, size, k, stride=stride)                        # (1, 1, H, W)
        return cls(index, size, folded, cover, matched.pow(2).sum(), matched.numel())
