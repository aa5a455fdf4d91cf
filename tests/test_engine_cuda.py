"""CUDA paths: run on a machine with an NVIDIA GPU, skipped cleanly everywhere else (CI has none)."""
import numpy as np
import pytest
import torch

from doodlepaint.engine import GPUMemoryError, TransferParams, TransferRequest, pick_device, render
from doodlepaint.engine.patch import PatchStyle

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def two_label_request(size=64):
    rng = np.random.default_rng(0)
    style = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
    labels = np.zeros((64, 96), np.int64)
    labels[:, 48:] = 1
    palette = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
    return TransferRequest(style, labels, labels[:, ::-1].copy(), palette,
                           TransferParams(size=size, phases=2, iterations=4))


def test_auto_picks_cuda():
    assert pick_device("auto").type == "cuda"


def test_cuda_render_finishes_and_frees_memory():
    image, progress = render(two_label_request(), device="cuda")
    assert image.shape == (43, 64, 3) and image.dtype == np.uint8
    assert progress.peak_memory > 0
    assert torch.cuda.memory_allocated() < 64 * 2**20


def test_out_of_memory_in_matching_retries_with_smaller_chunks(monkeypatch):
    features = torch.rand(1, 8, 12, 12, device="cuda")
    labels = torch.rand(1, 2, 12, 12, device="cuda")
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


def test_out_of_memory_everywhere_is_a_clear_error(monkeypatch):
    features = torch.rand(1, 8, 12, 12, device="cuda")
    labels = torch.rand(1, 2, 12, 12, device="cuda")
    style = PatchStyle(features, labels, 3, 50.0, chunk=64)

    def always_fails(a, b):
        raise torch.OutOfMemoryError("simulated")

    monkeypatch.setattr(torch.Tensor, "__matmul__", always_fails)
    with pytest.raises(GPUMemoryError, match="smaller --size"):
        style.match(features, labels)
