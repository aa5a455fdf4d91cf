"""Masked Gram matrices (gram.py) against explicit loops over labels and pixels."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from doodlepaint.engine.gram import GRAM_LAYERS, GramStyle, masked_grams


def _case(seed: int = 0, channels: int = 4, labels: int = 3, hw=(5, 6)):
    g = torch.Generator().manual_seed(seed)
    features = torch.rand(1, channels, *hw, generator=g, dtype=torch.float64)
    masks = torch.rand(1, labels, *hw, generator=g, dtype=torch.float64)   # soft masks, as at label borders
    return features, masks


def _loop_grams(features: torch.Tensor, masks: torch.Tensor) -> np.ndarray:
    f, m = features[0].numpy(), masks[0].numpy()
    channels, height, width = f.shape
    grams = np.zeros((m.shape[0], channels, channels))
    for k in range(m.shape[0]):
        area = 0.0
        for y in range(height):
            for x in range(width):
                weight = m[k, y, x]
                area += weight
                for a in range(channels):
                    for b in range(channels):
                        grams[k, a, b] += weight * f[a, y, x] * f[b, y, x]
        grams[k] /= max(area, 1e-8)
    return grams


def _loop_loss(out_grams: np.ndarray, style_grams: np.ndarray, used) -> float:
    terms = []
    for label in used:
        diff = sum((out_grams[label, a, b] - style_grams[label, a, b]) ** 2
                   for a in range(out_grams.shape[1]) for b in range(out_grams.shape[2]))
        scale = sum(style_grams[label, a, b] ** 2 for a in range(style_grams.shape[1]) for b in range(style_grams.shape[2]))
        terms.append(diff / max(scale, 1e-8))
    return float(np.mean(terms))


def test_layers_are_relu1_to_relu5():
    assert GRAM_LAYERS == ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def test_masked_grams_equal_loops():
    features, masks = _case()
    got = masked_grams(features, masks)
    assert got.shape == (3, 4, 4)
    np.testing.assert_allclose(got.numpy(), _loop_grams(features, masks), rtol=1e-12)


def test_hard_masks_give_per_region_grams():
    features, _ = _case(seed=1, hw=(6, 6))
    masks = torch.zeros(1, 2, 6, 6, dtype=torch.float64)
    masks[0, 0, :, :3] = 1
    masks[0, 1, :, 3:] = 1
    got = masked_grams(features, masks).numpy()
    left = features[0, :, :, :3].reshape(4, -1).numpy()
    right = features[0, :, :, 3:].reshape(4, -1).numpy()
    np.testing.assert_allclose(got[0], left @ left.T / left.shape[1], rtol=1e-12)
    np.testing.assert_allclose(got[1], right @ right.T / right.shape[1], rtol=1e-12)


def test_empty_mask_gives_zero_gram_not_nan():
    features, masks = _case(seed=2)
    masks[0, 1] = 0
    got = masked_grams(features, masks)
    assert torch.isfinite(got).all()
    assert float(got[1].abs().max()) == 0.0


@pytest.mark.parametrize("used", [[0, 1, 2], [2], [0, 2]])
def test_gram_style_loss_equals_loops(used):
    style_f, style_m = _case(seed=3, hw=(6, 5))
    out_f, out_m = _case(seed=4, hw=(4, 7))        # the output may be of another size than the style
    style = GramStyle(style_f, style_m, torch.tensor(used))
    got = float(style.loss(out_f, out_m))
    expected = _loop_loss(_loop_grams(out_f, out_m), _loop_grams(style_f, style_m), used)
    assert got == pytest.approx(expected, rel=1e-10)


def test_gram_style_loss_zero_for_the_style_itself_and_positive_otherwise():
    style_f, style_m = _case(seed=5)
    style = GramStyle(style_f, style_m, torch.tensor([0, 1, 2]))
    assert float(style.loss(style_f, style_m)) == pytest.approx(0.0, abs=1e-14)
    other_f, _ = _case(seed=6)
    assert float(style.loss(other_f, style_m)) > 1e-4


def test_gram_style_loss_has_a_gradient():
    style_f, style_m = _case(seed=7)
    out_f, out_m = _case(seed=8)
    x = out_f.clone().requires_grad_(True)
    GramStyle(style_f, style_m, torch.tensor([0, 2])).loss(x, out_m).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
