"""The server's wire format (doodlepaint.wire): one schema, derived from the engine's dataclasses."""
from __future__ import annotations

import dataclasses
import json

import pytest
from pydantic import ValidationError

from doodlepaint import wire
from doodlepaint.engine.params import PRESETS, Progress, TransferParams

IMAGES = {"style": "a" * 64, "style_map": "b" * 64, "target_map": "c" * 64}

# A value for every field, each unlike its default, so a field the codec dropped would show.
UNUSUAL_PARAMS = TransferParams(method="gram", alpha=1.5, beta=2.5, gamma=3.5, patch_size=5, phases=2, iterations=7,
                                size=123, seed=42, smoothness=0.25, init="instant", match_every=3, style_stride=2)
UNUSUAL_PROGRESS = Progress(phase=2, phases=3, step=4, steps=5, total_step=6, total_steps=7, loss=8.5, elapsed=9.5,
                            eta=10.5, done=True, message="a note", phase_seconds=(1.25, 2.5), peak_memory=11,
                            evaluations=12, fraction=0.75, stage="instant")


def _unlike_defaults(instance, skip=()) -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(instance) if f.default is not dataclasses.MISSING}
    for name, default in defaults.items():
        if name not in skip:
            assert getattr(instance, name) != default, f"the test leaves {name} at its default"


def test_every_parameter_crosses_the_wire():
    _unlike_defaults(UNUSUAL_PARAMS)
    spec = json.loads(json.dumps(wire.job_spec(UNUSUAL_PARAMS, IMAGES, "raw")))
    assert set(spec) == {f.name for f in dataclasses.fields(TransferParams)} | set(IMAGES) | {"frames", "preset"}
    assert wire.job_params(wire.JobSpec.model_validate_json(json.dumps(spec))) == UNUSUAL_PARAMS
    for preset in PRESETS:                          # whatever the preset, the client's values win
        spec = wire.JobSpec.model_validate({**wire.job_spec(UNUSUAL_PARAMS, IMAGES), "preset": preset})
        assert wire.job_params(spec) == UNUSUAL_PARAMS


def test_every_progress_field_crosses_the_wire():
    _unlike_defaults(UNUSUAL_PROGRESS, skip=("frame",))
    frame = wire.FrameInfo(width=3, height=2, format="png")
    event = wire.read_event(json.dumps(wire.progress_event(UNUSUAL_PROGRESS, frame)))
    assert event["frame"] == {"width": 3, "height": 2, "format": "png"} and event["type"] == "progress"
    # Progress compares by identity (it holds an array): compare its fields
    assert dataclasses.astuple(wire.progress_from_event(event)) == dataclasses.astuple(UNUSUAL_PROGRESS)


def test_a_preset_fills_what_the_job_leaves_out_and_instant_is_one():
    assert wire.job_params(wire.JobSpec(**IMAGES, preset="Instant")) == PRESETS["Instant"]
    assert wire.job_params(wire.JobSpec(**IMAGES, preset="Draft", phases=1)) == PRESETS["Draft"].replace(phases=1)
    with_image = wire.JobSpec(**IMAGES, init_image="d" * 64)
    assert wire.job_params(with_image).init == "image"
    assert wire.job_params(wire.JobSpec(**IMAGES, init_image="d" * 64, init="content")).init == "content"


@pytest.mark.parametrize("field, value", [("phases", True), ("phases", "3"), ("size", 64.0), ("seed", 1.5),
                                          ("alpha", True), ("alpha", "2"), ("method", 1), ("frames", "jpeg"),
                                          ("preset", "Ultra"), ("shell", "rm -rf"), ("style", "not-a-hash")])
def test_loose_types_are_refused(field, value):
    with pytest.raises(ValidationError):
        wire.JobSpec.model_validate_json(json.dumps({**IMAGES, field: value}))


def test_whole_floats_are_numbers_but_not_whole_numbers():
    assert wire.job_params(wire.JobSpec.model_validate_json(json.dumps({**IMAGES, "alpha": 3}))).alpha == 3.0
    with pytest.raises(ValidationError):
        wire.JobSpec.model_validate_json(json.dumps({**IMAGES, "iterations": 64.0}))


def test_an_event_that_is_not_doodlepaints_is_refused():
    good = wire.progress_event(UNUSUAL_PROGRESS)
    for broken in ({**good, "phase": True}, {**good, "frame": {"width": 0, "height": 5, "format": "png"}},
                   {**good, "type": "exploit"}, {"type": "queued", "id": "x"}, {**good, "extra": 1}):
        with pytest.raises(ValidationError):
            wire.read_event(json.dumps(broken))
    assert wire.read_event(json.dumps({"type": "queued", "id": "x", "place": 2}))["place"] == 2


def test_the_wire_loads_neither_fastapi_nor_qt_and_nothing_imports_the_cli():
    import ast
    import pathlib
    import subprocess
    import sys

    loaded = subprocess.run([sys.executable, "-c", "import sys, doodlepaint.wire, doodlepaint.client.remote; "
                             "print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'PySide6', 'uvicorn'}))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
    package = pathlib.Path(wire.__file__).parent
    importers = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if any(name == "doodlepaint.cli" for name in names) and path.name != "__main__.py":
                importers.append(str(path.relative_to(package)))
    assert importers == []
