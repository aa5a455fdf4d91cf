"""The engine's CUDA path, traced without a GPU on fake tensors (tests/fake_cuda.py): every tensor the
engine makes or combines is on the device it asked for (a CPU tensor meeting a CUDA one raises), and the host
waits for the device only where the engine means it to (inputs in, a frame or a loss out), never in an
optimisation round without a frame.

The networks are the real ones (VGG19, the shipped instant decoder, the shipped SANet), loaded on the CPU
and converted to fake CUDA tensors: a fake tensor has no data, so a trace costs no arithmetic. Fake tensors
check devices, shapes and synchronisations, not values: the pictures are tested on the CPU.
"""
from __future__ import annotations

import copy
import warnings
from collections import Counter

import numpy as np
import pytest
import torch

import doodlepaint.engine.device as engine_device
import doodlepaint.engine.sanet as sanet
import doodlepaint.engine.swap as swap
from doodlepaint.engine.cache import style_cache
from doodlepaint.engine.decoder import get_decoder
from doodlepaint.engine.gram import GramStyle
from doodlepaint.engine.params import TransferRequest
from doodlepaint.engine.patch import PatchStyle
from doodlepaint.engine.sanet import get_sanet
from doodlepaint.engine.synthesis import SynthesisParams, synthesise
from doodlepaint.engine.transfer import run_transfer
from doodlepaint.engine.vgg import LAYER_ORDER, get_encoder
from engine_helpers import tiny_request
from fake_cuda import NO_MEMORY_STATS, OneEvaluation, backward_by_hand, fake_cuda_mode, recording, to_fake_cuda

WIDTH, HEIGHT = 128, 96


@pytest.fixture(scope="module")
def fake_networks():
    """One fake CUDA mode for the module, and in it the real networks (VGG19, the shipped relu3_1 decoder,
    the shipped SANet) as fake CUDA copies: loaded on the CPU first (loading reads the weights' bytes), the
    process-wide cached ones left real."""
    mode = fake_cuda_mode()
    copies = [copy.deepcopy(net) for net in (get_encoder("cpu"), get_decoder("relu3_1", "cpu"), get_sanet("cpu"))]
    with mode:
        return mode, *(to_fake_cuda(mode, net) for net in copies)


@pytest.fixture
def traced(monkeypatch, fake_networks):
    """Inside the fake CUDA mode: yields (encoder, decoder, SANet, the recorder of synchronisations). The
    memory statistics are stood in at the engine's seam, no cached painting state leaks in or out, and
    Tensor.backward walks the graph by hand (torch's autograd engine wants a real CUDA context)."""
    mode, encoder, decoder, model = fake_networks
    monkeypatch.setattr(engine_device, "cuda_memory", NO_MEMORY_STATS)
    monkeypatch.setattr(torch.Tensor, "backward", backward_by_hand)
    monkeypatch.setattr(torch.optim, "LBFGS", OneEvaluation)
    monkeypatch.setattr(swap, "get_decoder", lambda layer, device="cpu": decoder)
    monkeypatch.setattr(sanet, "get_sanet", lambda device="cpu": model)
    style_cache.clear()
    with warnings.catch_warnings():
        # .numpy() on the zeros that stand for a frame read back: torch notes the fake copy they replace
        warnings.filterwarnings("ignore", message="Accessing the data pointer of FakeTensor")
        with recording(mode) as recorder:
            yield encoder, decoder, model, recorder
    style_cache.clear()


def request(method: str, photo: bool = False, **params) -> TransferRequest:
    base = tiny_request(WIDTH, HEIGHT, method=method, **params)
    content = np.full((40, 60, 3), 200, np.uint8) if photo else None
    return TransferRequest(base.style, base.style_labels, base.target_labels, base.palette, base.params,
                           content=content)


def kinds(syncs) -> Counter:
    return Counter((sync.kind, sync.where.rsplit(":", 1)[0]) for sync in syncs)


def assert_on_cuda(*tensors):
    for tensor in tensors:
        assert tensor.device.type == "cuda", tensor.device


# --- the parts --------------------------------------------------------------------------------------------

def test_encoder_on_a_painting_and_a_doodle(traced):
    encoder, _, _, recorder = traced
    painting = torch.rand(1, 3, HEIGHT, WIDTH, device="cuda") * 255
    doodle = torch.zeros(1, 3, HEIGHT, WIDTH, device="cuda")
    for image in (painting, doodle):
        features = encoder(image, LAYER_ORDER)
        for name, value in features.items():
            scale = 2 ** (int(name[4]) - 1)
            assert value.shape[-2:] == (HEIGHT // scale, WIDTH // scale)
            assert_on_cuda(value)
    assert recorder.take() == []


def test_patch_match_swap_and_loss_with_its_gradient(traced):
    *_, recorder = traced
    style = PatchStyle(torch.rand(1, 16, 12, 16, device="cuda"), torch.rand(1, 2, 12, 16, device="cuda"), 3, 50.0,
                       key_channels=8)
    assert [sync.kind for sync in recorder.take()] == ["read"]     # the principal directions' eigh, once
    features = torch.rand(1, 16, 10, 14, device="cuda", requires_grad=True)
    labels = torch.rand(1, 2, 10, 14, device="cuda")
    index = style.match(features, labels)
    assert index.shape == (8 * 12,) and index.dtype == torch.int64
    swapped = style.swap(features, labels, stride=2)
    assert swapped.shape == features.shape
    style.loss(features, index).backward()
    assert features.grad.shape == features.shape
    assert_on_cuda(index, swapped, features.grad)
    assert recorder.take() == []


def test_gram_loss_with_its_gradient_finds_its_pixels_once(traced):
    *_, recorder = traced
    masks = torch.rand(1, 3, 12, 16, device="cuda")
    style = GramStyle(torch.rand(1, 8, 12, 16, device="cuda"), masks, torch.tensor([0, 2], device="cuda"))
    recorder.take()
    features = torch.rand(1, 8, 12, 16, device="cuda", requires_grad=True)
    style.loss(features, masks).backward()
    # the labels' pixels: a data-dependent shape, once per label the first time a phase's masks are seen
    assert [sync.kind for sync in recorder.take()] == ["shape", "shape"]
    features.grad = None
    style.loss(features, masks).backward()
    assert_on_cuda(features.grad)
    assert recorder.take() == []


def test_decoder_and_sanet(traced):
    encoder, decoder, model, recorder = traced
    features = encoder(torch.rand(1, 3, 64, 96, device="cuda"), ("relu3_1", "relu4_1", "relu5_1"))
    picture = decoder(features["relu3_1"].contiguous(memory_format=torch.channels_last))
    assert picture.shape == (1, 3, 64, 96)
    painting = encoder(torch.rand(1, 3, 48, 64, device="cuda"), ("relu4_1", "relu5_1"))
    stylised = model(features, painting)
    assert stylised.shape == (1, 3, 64, 96)
    assert_on_cuda(picture, stylised)
    assert recorder.take() == []


# --- whole renders ----------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("method, photo", [("patch", True), ("gram", False)])
def test_optimisation_rounds_without_a_frame_never_wait_for_the_device(traced, method, photo):
    """Every loss term (patch, colour, content, smoothness, range; Grams) evaluated with its gradient on
    CUDA, round after round; the host waits only for the phase's inputs, a phase's first loss, frames."""
    *_, recorder = traced
    rounds = []
    for progress in run_transfer(request(method, photo, phases=2, iterations=2, match_every=1), device="cuda",
                                 preview_interval=float("inf"), encoder=traced[0]):
        rounds.append((progress, kinds(recorder.take())))
    assert [progress.phase for progress, _ in rounds] == [1] * 4 + [2] * 2 and rounds[-1][0].done
    assert rounds[-1][0].frame.shape == (HEIGHT, WIDTH, 3)
    for number, (progress, syncs) in enumerate(rounds):
        first = number in (0, 4)
        inputs = {key for key in syncs if key[0] == "to device" or key[1].startswith("engine/gram.py")}
        if first:
            assert inputs and ("read", "engine/optimise.py:_phases") in syncs
        if progress.frame is not None:
            assert syncs[("to host", "engine/tensors.py:frame_array")] == 1
            assert syncs[("read", "engine/optimise.py:_phases")] == 1
        if not first and progress.frame is None:
            assert syncs == Counter(), f"round {number + 1} waits for the device: {syncs}"


def test_instant_render_waits_for_its_inputs_and_its_frame_only(traced):
    *_, recorder = traced
    for build in (True, False):       # the painting's patch bank is built once, then cached
        (progress,) = run_transfer(request("swap"), device="cuda", encoder=traced[0])
        assert progress.done and progress.frame.shape == (HEIGHT, WIDTH, 3)
        recorded = recorder.take()
        # the crisp vote along the swap's field (swap_field brings the field to the host, engine/synthesis.py
        # votes) comes after the network's pass: its waits are listed in BENCHMARKS.md; this checks the pass
        recorded = [sync for sync in recorded if not sync.where.startswith(("engine/synthesis.py",
                                                                            "engine/swap.py:swap_field"))]
        syncs = kinds(recorded)
        assert syncs.pop(("to host", "engine/tensors.py:frame_array")) == 1
        assert syncs.pop(("read", "engine/patch.py:principal_directions"), 0) == build
        assert all(kind == "to device" for kind, _ in syncs), syncs
        assert syncs
    # with the painting's bank cached (the app's state while the artist paints), every upload comes before
    # the network's first pass, so none waits for the device to finish one
    assert not [sync for sync in recorded if sync.kind == "to device" and sync.after_pass]


@pytest.mark.parametrize("photo", [True, False])
def test_sanet_render_waits_for_its_inputs_and_its_frame_only(traced, monkeypatch, photo):
    *_, recorder = traced
    # Without a photo the stand-in is built on the CPU, as a numpy picture: real tensors, no device in play.
    real = sanet.stand_in_photo

    def stand_in_on_the_cpu(*args):
        from torch._subclasses.fake_tensor import unset_fake_temporarily
        with unset_fake_temporarily():
            return real(*args)

    monkeypatch.setattr(sanet, "stand_in_photo", stand_in_on_the_cpu)
    for build in (True, False):       # the painting's features are encoded once, then cached
        (progress,) = run_transfer(request("sanet", photo), device="cuda", encoder=traced[0])
        assert progress.done and progress.frame.shape == (HEIGHT, WIDTH, 3)
        recorded = recorder.take()
        syncs = kinds(recorded)
        assert syncs.pop(("to host", "engine/sanet.py:decode")) == 1
        assert syncs and all(kind == "to device" for kind, _ in syncs), syncs
    assert not [sync for sync in recorded if sync.kind == "to device" and sync.after_pass]


def test_print_synthesis_step(traced):
    """The print pipeline's synthesis (engine/synthesis.py) on fake CUDA: the painting, its labels, the print's
    labels and the guide go up, the print comes down, and every tensor in between stays on the device."""
    *_, recorder = traced
    generator = np.random.default_rng(0)
    painting = generator.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    painting_labels = np.zeros((48, 64), np.int64)
    painting_labels[24:] = 1
    print_labels = np.zeros((96, 128), np.int64)
    print_labels[:, 64:] = 1
    guide = generator.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    steps = list(synthesise(painting, painting_labels, print_labels, guide, SynthesisParams(levels=2, tile=64),
                            device="cuda"))
    assert steps[-1].done and steps[-1].image.shape == (96, 128, 3)
    syncs = kinds(recorder.take())
    # the search's candidates are judged and taken without a wait (no boolean-mask copy, no offset uploaded)
    assert not [key for key in syncs if key[1] == "engine/synthesis.py:_search_tile" and key[0] != "to device"]
    assert syncs[("to device", "engine/synthesis.py:_search_tile")] <= 20
    assert syncs[("to host", "engine/synthesis.py:run")] <= 2
