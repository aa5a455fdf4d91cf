"""GPU paths. The out-of-memory handling is also simulated on the CPU; the rest needs CUDA and skips without it."""
import math

import numpy as np
import pytest
import torch

from doodlepaint.engine import GPUMemoryError, TransferParams, TransferRequest, pick_device, render, run_transfer
from doodlepaint.engine.patch import PatchStyle
from engine_helpers import tiny_request
from fake_cuda import OneEvaluation

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
DEVICES = ["cpu", pytest.param("cuda", marks=needs_cuda)]


def two_label_request(size=64):
    rng = np.random.default_rng(0)
    style = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
    labels = np.zeros((64, 96), np.int64)
    labels[:, 48:] = 1
    palette = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
    return TransferRequest(style, labels, labels[:, ::-1].copy(), palette,
                           TransferParams(size=size, phases=2, iterations=4))


@needs_cuda
def test_auto_picks_cuda():
    assert pick_device("auto").type == "cuda"


@needs_cuda
def test_cuda_render_finishes_and_frees_memory():
    image, progress = render(two_label_request(), device="cuda")
    assert image.shape == (43, 64, 3) and image.dtype == np.uint8
    assert progress.peak_memory > 0
    assert torch.cuda.memory_allocated() < 64 * 2**20


@pytest.mark.parametrize("device", DEVICES)
def test_out_of_memory_in_matching_retries_with_smaller_chunks(monkeypatch, device):
    features = torch.rand(1, 8, 12, 12, device=device)
    labels = torch.rand(1, 2, 12, 12, device=device)
    style = PatchStyle(features, labels, 3, 50.0, chunk=1024)
    expected = style.match(features, labels)
    calls = {"n": 0}
    real_matmul = torch.Tensor.__matmul__

    def failing_once(a, b):
        calls["n"] += 1
        if calls["n"] == 1:
            raise torch.OutOfMemoryError("simulated")
        return real_matmul(a, b)

    monkeypatch.setattr(torch.Tensor, "__matmul__", failing_once)
    assert torch.equal(style.match(features, labels), expected)
    assert style.chunk == 256 and style.retries


@pytest.mark.parametrize("device", DEVICES)
def test_out_of_memory_everywhere_is_a_clear_error(monkeypatch, device):
    features = torch.rand(1, 8, 12, 12, device=device)
    labels = torch.rand(1, 2, 12, 12, device=device)
    style = PatchStyle(features, labels, 3, 50.0, chunk=64)

    def always_fails(a, b):
        raise torch.OutOfMemoryError("simulated")

    monkeypatch.setattr(torch.Tensor, "__matmul__", always_fails)
    with pytest.raises(GPUMemoryError, match="smaller --size"):
        style.match(features, labels)


@needs_cuda
def test_optimisation_rounds_without_a_frame_never_wait_for_the_gpu(monkeypatch):
    """What the fake-CUDA trace shows (test_engine_fake_cuda.py), on a real GPU: torch's sync debug mode
    raises at any synchronisation in the rounds between the first and the last (L-BFGS stood in by one
    evaluation a round: its own reads are torch's, listed in BENCHMARKS.md)."""
    monkeypatch.setattr(torch.optim, "LBFGS", OneEvaluation)
    request = tiny_request(96, 64, phases=1, iterations=4, match_every=1)
    rounds = run_transfer(request, device="cuda", preview_interval=math.inf)
    next(rounds)                                  # the set-up: uploads, the first loss read
    torch.cuda.set_sync_debug_mode("error")
    try:
        middle = [next(rounds), next(rounds)]
    finally:
        torch.cuda.set_sync_debug_mode("default")
    last = list(rounds)
    assert [p.frame is None for p in middle] == [True, True] and last[-1].done
