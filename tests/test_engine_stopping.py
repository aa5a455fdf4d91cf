"""Cancel reaches inside long steps: an encoder pass, a backward pass and a patch match stop at their next
check point, and the render ends quietly as if it had stopped between rounds."""
from __future__ import annotations

import torch

from doodlepaint.engine.patch import PatchStyle
from doodlepaint.engine.stopping import check_stop, stoppable
from doodlepaint.engine.vgg import LAYER_ORDER, VGG19


class StopAfter:
    """should_stop that says stop once `count()` reaches `limit`."""

    def __init__(self, count, limit: int):
        self.count, self.limit = count, limit

    def __call__(self) -> bool:
        return self.count() >= self.limit


def _one_step(work):
    yield work()


def test_an_encoder_pass_stops_at_the_next_layer():
    encoder = VGG19()
    ran = []
    for conv in encoder.convs.values():
        conv.register_forward_hook(lambda *_: ran.append(1))
    image = torch.full((1, 3, 32, 32), 128.0)
    steps = stoppable(_one_step(lambda: encoder(image, ("relu4_1",))), StopAfter(lambda: len(ran), 2))
    assert list(steps) == [] and len(ran) == 2 < LAYER_ORDER.index("relu4_1") + 1


def test_a_backward_pass_stops_before_it_reaches_the_image():
    encoder = VGG19()
    image = torch.full((1, 3, 32, 32), 128.0, requires_grad=True)
    stop = []

    def forward_then_backward():
        loss = encoder(image, ("relu3_1",))["relu3_1"].square().mean()
        stop.append(True)                      # cancelled after the forward pass
        loss.backward()

    assert list(stoppable(_one_step(forward_then_backward), lambda: bool(stop))) == []
    assert image.grad is None


def test_a_patch_match_stops_between_chunks():
    generator = torch.Generator().manual_seed(0)
    features = torch.rand(1, 4, 16, 16, generator=generator)
    labels = torch.ones(1, 1, 16, 16)
    bank = PatchStyle(features, labels, 3, 50.0, chunk=8)
    checks = []
    counted = StopAfter(lambda: checks.append(1) or len(checks), 3)
    steps = stoppable(_one_step(lambda: bank.match(features, labels)), counted)
    assert list(steps) == [] and len(checks) == 3          # 196 patches in chunks of 8: stopped at the third
    assert bank.match(features, labels).shape == (196,)     # outside a stoppable render nothing stops it


def test_check_stop_sees_only_the_render_running_on_its_thread():
    seen = []

    def steps():
        check_stop()
        seen.append("first")
        yield 1
        check_stop()                # raises: this render was asked to stop while it waited at its yield
        seen.append("second")
        yield 2

    stopped = []
    render = stoppable(steps(), lambda: bool(stopped))
    assert next(render) == 1
    stopped.append(True)
    check_stop()                    # between steps the thread is the caller's: nothing raises here
    assert list(render) == [] and seen == ["first"]
