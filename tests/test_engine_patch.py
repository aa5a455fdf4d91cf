"""Semantic patch matching and loss (patch.py) against a plain, loop-by-loop re-implementation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from doodlepaint.engine.patch import GAMMA_PER_WEIGHT, PatchStyle, match_keys, semantic_weight


def _random_case(seed: int = 0, channels: int = 5, labels: int = 3, style_hw=(9, 8), out_hw=(8, 7)):
    g = torch.Generator().manual_seed(seed)
    style_f = torch.rand(1, channels, *style_hw, generator=g, dtype=torch.float64)
    out_f = torch.rand(1, channels, *out_hw, generator=g, dtype=torch.float64)
    style_ids = torch.randint(0, labels, style_hw, generator=g)
    out_ids = torch.randint(0, labels, out_hw, generator=g)
    one_hot = lambda ids: torch.nn.functional.one_hot(ids, labels).permute(2, 0, 1)[None].to(torch.float64)
    return style_f, one_hot(style_ids), out_f, one_hot(out_ids)


def _positions(h: int, w: int, k: int, stride: int = 1):
    return [(y, x) for y in range(0, h - k + 1, stride) for x in range(0, w - k + 1, stride)]


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _brute_scores(style_f, style_l, out_f, out_l, k, gamma, stride=1) -> np.ndarray:
    """scores[i, j] = cos(features) + gamma/5 * cos(labels) of output patch i and style patch j."""
    sf, sl, of, ol = (t[0].numpy() for t in (style_f, style_l, out_f, out_l))
    style_pos = _positions(*sf.shape[1:], k, stride)
    out_pos = _positions(*of.shape[1:], k)
    w = gamma / 5.0
    scores = np.zeros((len(out_pos), len(style_pos)))
    for i, (y, x) in enumerate(out_pos):
        qf = of[:, y:y + k, x:x + k].ravel()
        ql = ol[:, y:y + k, x:x + k].ravel()
        for j, (v, u) in enumerate(style_pos):
            score = _cos(qf, sf[:, v:v + k, u:u + k].ravel())
            if gamma > 0:
                score += w * _cos(ql, sl[:, v:v + k, u:u + k].ravel())
            scores[i, j] = score
    return scores


def _brute_loss(style_f, out_f, index, k, stride=1) -> float:
    sf, of = style_f[0].numpy(), out_f[0].numpy()
    style_pos = _positions(*sf.shape[1:], k, stride)
    out_pos = _positions(*of.shape[1:], k)
    total, count = 0.0, 0
    for i, (y, x) in enumerate(out_pos):
        v, u = style_pos[int(index[i])]
        for c in range(of.shape[0]):
            for dy in range(k):
                for dx in range(k):
                    total += (of[c, y + dy, x + dx] - sf[c, v + dy, u + dx]) ** 2
                    count += 1
    return total / count


def test_gamma_scale_is_documented_one():
    assert GAMMA_PER_WEIGHT == 5.0
    assert semantic_weight(50.0) == pytest.approx(10.0)
    assert semantic_weight(0.0) == 0.0


@pytest.mark.parametrize("gamma", [0.0, 5.0, 50.0, 250.0])
@pytest.mark.parametrize("k", [3, 5])
def test_match_equals_brute_force_argmax(gamma, k):
    style_f, style_l, out_f, out_l = _random_case(seed=int(gamma) + k)
    style = PatchStyle(style_f, style_l, k=k, gamma=gamma)
    got = style.match(out_f, out_l)
    scores = _brute_scores(style_f, style_l, out_f, out_l, k, gamma)
    assert got.dtype == torch.int64 and got.shape == (scores.shape[0],)
    np.testing.assert_array_equal(got.numpy(), scores.argmax(1))


def test_match_with_style_stride_two():
    style_f, style_l, out_f, out_l = _random_case(seed=11, style_hw=(11, 10))
    style = PatchStyle(style_f, style_l, k=3, gamma=50.0, stride=2)
    assert style.targets.shape[0] == len(_positions(11, 10, 3, 2)) == 20
    got = style.match(out_f, out_l)
    scores = _brute_scores(style_f, style_l, out_f, out_l, 3, 50.0, stride=2)
    np.testing.assert_array_equal(got.numpy(), scores.argmax(1))
    expected = _brute_loss(style_f, out_f, got, 3, stride=2)
    assert float(style.loss(out_f, got)) == pytest.approx(expected, rel=1e-10)


def test_match_in_float32_picks_a_best_scoring_patch():
    style_f, style_l, out_f, out_l = _random_case(seed=3)
    style = PatchStyle(style_f.float(), style_l.float(), k=3, gamma=50.0)
    got = style.match(out_f.float(), out_l.float()).numpy()
    scores = _brute_scores(style_f, style_l, out_f, out_l, 3, 50.0)
    chosen = scores[np.arange(len(got)), got]
    np.testing.assert_allclose(chosen, scores.max(1), atol=1e-5)


def test_keys_score_is_feature_cosine_plus_weighted_label_cosine():
    style_f, style_l, out_f, out_l = _random_case(seed=5)
    keys_s = match_keys(style_f, style_l, 3, 50.0)
    keys_o = match_keys(out_f, out_l, 3, 50.0)
    scores = _brute_scores(style_f, style_l, out_f, out_l, 3, 50.0)
    np.testing.assert_allclose((keys_o @ keys_s.t()).numpy(), scores, rtol=1e-10, atol=1e-12)
    # the maximum possible score: both cosines 1
    assert float((keys_s * keys_s).sum(1).max()) == pytest.approx(1 + 50.0 / 5.0)


@pytest.mark.parametrize("gamma", [0.0, 50.0])
def test_loss_equals_brute_force(gamma):
    style_f, style_l, out_f, out_l = _random_case(seed=21)
    style = PatchStyle(style_f, style_l, k=3, gamma=gamma)
    index = style.match(out_f, out_l)
    expected = _brute_loss(style_f, out_f, index, 3)
    assert float(style.loss(out_f, index)) == pytest.approx(expected, rel=1e-10)
    # any index, not only the matched one
    other = torch.randint(0, style.targets.shape[0], index.shape, generator=torch.Generator().manual_seed(1))
    assert float(style.loss(out_f, other)) == pytest.approx(_brute_loss(style_f, out_f, other, 3), rel=1e-10)


def test_loss_has_a_gradient_and_ignores_labels_once_matched():
    style_f, style_l, out_f, out_l = _random_case(seed=8)
    style = PatchStyle(style_f, style_l, k=3, gamma=50.0)
    x = out_f.clone().requires_grad_(True)
    index = style.match(x, out_l)
    style.loss(x, index).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    # the loss does not depend on the labels once matched (labels choose, they carry no gradient)
    assert float(style.loss(out_f, index)) == float(PatchStyle(style_f, style_l.roll(1, 1), 3, 50.0).loss(out_f, index))


def test_self_match_is_identity_and_zero_loss():
    style_f, style_l, _, _ = _random_case(seed=2)
    style = PatchStyle(style_f, style_l, k=3, gamma=50.0)
    index = style.match(style_f, style_l)
    np.testing.assert_array_equal(index.numpy(), np.arange(style.targets.shape[0]))
    assert float(style.loss(style_f, index)) == 0.0


@pytest.mark.parametrize("gamma", [0.0, 50.0])
def test_chunked_match_equals_unchunked(gamma):
    style_f, style_l, out_f, out_l = _random_case(seed=13, out_hw=(9, 9))
    whole = PatchStyle(style_f, style_l, k=3, gamma=gamma).match(out_f, out_l)
    for chunk in (1, 2, 5):
        chunked = PatchStyle(style_f, style_l, k=3, gamma=gamma, chunk=chunk).match(out_f, out_l)
        np.testing.assert_array_equal(chunked.numpy(), whole.numpy())


def test_gamma_zero_ignores_labels():
    style_f, style_l, out_f, out_l = _random_case(seed=17)
    style = PatchStyle(style_f, style_l, k=3, gamma=0.0)
    a = style.match(out_f, out_l)
    b = style.match(out_f, out_l.roll(1, 1))              # other labels for the output
    c = PatchStyle(style_f, style_l.roll(2, 1), k=3, gamma=0.0).match(out_f, out_l)   # and for the style
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a.numpy(), c.numpy())
    feature_only = _brute_scores(style_f, style_l, out_f, out_l, 3, 0.0).argmax(1)
    np.testing.assert_array_equal(a.numpy(), feature_only)


def test_semantic_weight_makes_matches_respect_labels():
    """Two regions: with the default gamma every interior output patch takes a style patch of its label."""
    g = torch.Generator().manual_seed(4)
    style_f = torch.rand(1, 6, 10, 12, generator=g, dtype=torch.float64)
    out_f = torch.rand(1, 6, 10, 12, generator=g, dtype=torch.float64)
    style_ids = torch.zeros(10, 12, dtype=torch.int64)
    style_ids[:, 6:] = 1
    out_ids = 1 - style_ids                                 # the doodle swaps the halves
    hot = lambda ids: torch.nn.functional.one_hot(ids, 2).permute(2, 0, 1)[None].to(torch.float64)
    style_pos = _positions(10, 12, 3)
    out_pos = _positions(10, 12, 3)
    pure_style = {j: int(style_ids[v, u]) for j, (v, u) in enumerate(style_pos) if u + 2 < 6 or u >= 6}
    pure_out = {i: int(out_ids[y, x]) for i, (y, x) in enumerate(out_pos) if x + 2 < 6 or x >= 6}

    def agreement(gamma):
        index = PatchStyle(style_f, hot(style_ids), 3, gamma).match(out_f, hot(out_ids)).numpy()
        hits = [pure_style.get(int(index[i])) == label for i, label in pure_out.items()]
        return float(np.mean(hits))

    assert agreement(50.0) == 1.0
    assert agreement(0.0) < 0.8
