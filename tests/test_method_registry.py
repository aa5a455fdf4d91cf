"""A method is one module and one registry entry: a one-pass method defined here, and registered by a
fixture, renders through the engine and appears in the command line, the server and the app's Method box
with no other file touched."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from doodlepaint.engine import TransferParams
from doodlepaint.engine.errors import DoodleError
from doodlepaint.engine.method import OnePassMethod
from doodlepaint.engine.methods import KNOBS, MemoryModel, MethodInfo, all_methods, method_info, register, unregister
from doodlepaint.engine.tensors import ids_tensor, label_mean_colours
from doodlepaint.engine.transfer import render


class FlatColours(OnePassMethod):
    """Each label of the doodle in its painting's average colour: the simplest picture a method can paint."""

    name = "flat"

    def picture(self, request, plan, context):
        ids = ids_tensor(request.target_labels, plan.width, plan.height, "cpu")
        return label_mean_colours(request)[ids].round().byte().numpy()


FLAT = FlatColours()


@pytest.fixture
def flat_method():
    info = register(MethodInfo("flat", "Flat colours (test)", "Each label in its painting colour.", one_pass=True,
                               knobs=frozenset({"gamma"}), implementation=f"{__name__}:FLAT", min_side=24,
                               memory=MemoryModel(runtime=300e6, fixed=10e6, per_pixel=16.0, per_style_pixel=8.0)))
    yield info
    unregister("flat")


def _flat_colours(request) -> np.ndarray:
    """The expected picture: every doodle pixel in its label's mean painting colour."""
    return label_mean_colours(request).round().byte().numpy()[request.target_labels]


def test_every_registered_method_renders_and_names_only_known_parameters():
    assert {method.name for method in all_methods()} >= {"patch", "gram", "swap", "sanet"}
    for method in all_methods():
        assert method.knobs <= KNOBS and method.load().name == method.name


def test_a_registered_method_renders_through_the_engine(flat_method, tiny_document):
    request = tiny_document.request()
    request = request.__class__(**{**vars(request), "params": TransferParams(method="flat", size=32)})
    frame, last = render(request)
    np.testing.assert_array_equal(frame, _flat_colours(request).repeat(2, 0).repeat(2, 1))
    assert last.done and last.stage == "instant"


def test_its_smallest_side_is_refused_before_any_work(flat_method, tiny_document):
    request = tiny_document.request()
    small = request.__class__(**{**vars(request), "params": TransferParams(method="flat", size=16)})
    with pytest.raises(DoodleError, match="at least 24 pixels"):
        render(small)


def test_an_unknown_method_names_the_registered_ones():
    with pytest.raises(ValueError, match="'patch', 'gram', 'swap', 'sanet'"):
        TransferParams(method="flat")


def test_the_command_line_offers_and_renders_it(flat_method, tiny_document, tmp_path):
    from doodlepaint.cli import build_parser, main

    assert "flat" in build_parser()._subparsers._group_actions[0].choices["render"]._option_string_actions[
        "--method"].choices
    request = tiny_document.request()
    for name, rgb in (("style", request.style), ("style_sem", request.palette[request.style_labels]),
                      ("doodle", request.palette[request.target_labels])):
        Image.fromarray(rgb.repeat(2, 0).repeat(2, 1)).save(tmp_path / f"{name}.png")   # 32 px: its smallest side
    out = tmp_path / "out.png"
    assert main(["render", "--style", str(tmp_path / "style.png"), "--target-map", str(tmp_path / "doodle.png"),
                 "--method", "flat", "--size", "32", "--out", str(out), "--quiet"]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out).convert("RGB")),
                                  _flat_colours(request).repeat(2, 0).repeat(2, 1))


def test_the_server_accepts_and_renders_it(flat_method, tiny_document, tiny_encoder):
    from doodlepaint.client.remote import RemoteServer

    from server_helpers import running_server

    request = tiny_document.request()
    request = request.__class__(**{**vars(request), "params": TransferParams(method="flat", size=32)})
    with running_server(tiny_encoder) as url:
        steps = list(RemoteServer(url, frames="png").run_transfer(request))
    np.testing.assert_array_equal(steps[-1].frame, _flat_colours(request).repeat(2, 0).repeat(2, 1))
    assert steps[-1].done and steps[-1].stage == "instant"


def test_the_apps_method_box_lists_it_with_the_settings_it_uses(flat_method, qtbot):
    from doodlepaint.ui.params_panel import ParamsPanel

    panel = ParamsPanel([("cpu", "CPU")])
    qtbot.addWidget(panel)
    names = [panel.method.itemData(index) for index in range(panel.method.count())]
    assert names == [method.name for method in all_methods()] and "flat" in names
    panel.set_params(TransferParams(method="flat"))
    assert panel.method.currentText() == "Flat colours (test)"
    enabled = {knob for knob, (_, widget) in panel.knob_rows.items() if widget.isEnabled()}
    assert enabled == {"gamma"}
    assert "does not use" in panel.knob_rows["beta"][1].toolTip()
    panel.set_params(TransferParams(method="patch"))
    assert {knob for knob, (_, widget) in panel.knob_rows.items() if widget.isEnabled()} == \
        set(panel.knob_rows) & method_info("patch").knobs == set(panel.knob_rows)
