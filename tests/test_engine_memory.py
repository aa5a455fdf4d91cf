"""A render's peak memory, estimated from its plan (engine/memory.py), against a measured one; refusals."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from doodlepaint.cli import main
from doodlepaint.engine.memory import (GIB, MemoryBudgetError, check_fits, estimate, largest_fitting_width,
                                       memory_amount, shaped_request)
from doodlepaint.engine.params import PRESETS, TransferParams

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.slow
def test_the_estimate_is_within_half_again_of_a_measured_peak():
    """Two phases at a size the fit did not see, the real VGG19, in a fresh process (bench/memory.py)."""
    sys.path.insert(0, str(BENCH))
    try:
        import memory as memory_bench
    finally:
        sys.path.remove(str(BENCH))
    row = memory_bench.measure("patch", 128, 128, phases=2)
    assert 1 / 1.5 <= row["estimated"] / row["measured"] <= 1.5, row


def test_the_estimate_grows_with_the_size_and_names_the_largest_that_fits():
    request = shaped_request(PRESETS["Draft"].replace(phases=1), (128, 96), (128, 96))
    sizes = [estimate(shaped_request(request.params.replace(size=width), (128, 96), (128, 96))).total_bytes
             for width in (256, 512, 1024, 2048)]
    assert sizes == sorted(sizes) and sizes[-1] > 3 * sizes[-2] / 1.5      # pixels x4 a doubling, nearly
    budget = 3 * GIB
    fitting = largest_fitting_width(dataclasses.replace(request, params=request.params.replace(size=8192)), budget)
    at = lambda width: estimate(shaped_request(request.params.replace(size=width), (128, 96), (128, 96))).total_bytes
    assert at(fitting) <= budget < at(fitting + 1)
    with pytest.raises(MemoryBudgetError, match=f"render at most {fitting} pixels wide") as refused:
        check_fits(shaped_request(request.params.replace(size=4096), (128, 96), (128, 96)), budget, "a test's budget")
    assert refused.value.fitting == fitting and "4096x3072 patch render needs about" in str(refused.value)


def test_one_pass_methods_and_the_instant_start_are_estimated_too():
    params = TransferParams(size=512, phases=2)
    patch = estimate(shaped_request(params, (128, 96), (128, 96))).render_bytes
    instant_start = estimate(shaped_request(params.replace(init="instant"), (128, 96), (128, 96))).render_bytes
    swap = estimate(shaped_request(params.replace(method="swap"), (128, 96), (128, 96))).render_bytes
    assert swap < patch < instant_start


def test_memory_amounts_read_as_people_write_them():
    assert memory_amount("8G") == 8 * GIB and memory_amount("512mb") == 512 * 1024 ** 2
    assert memory_amount("1.5GiB") == int(1.5 * GIB) and memory_amount("4096") == 4096
    for bad in ("", "2x", "-1G", "0", "inf"):
        with pytest.raises(ValueError):
            memory_amount(bad)


def test_the_cli_refuses_what_does_not_fit_before_loading_anything(tmp_path, capsys, monkeypatch):
    import doodlepaint.engine.images as images
    import doodlepaint.engine.vgg as vgg

    def not_now(*args, **kwargs):
        raise AssertionError("loaded before the memory check")

    monkeypatch.setattr(images, "load_rgb", not_now)
    monkeypatch.setattr(vgg, "get_encoder", not_now)
    out = tmp_path / "big.png"
    # an optimisation at 8192 px does not fit this machine
    assert main(["render", "--demo", "--size", "8192", "--working-size", "8192", "--device", "cpu",
                 "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "8192x6144 patch render needs about" in error and "this machine has" in error and "pixels wide" in error
    # a print: its working render fits, the synthesis at 8192 px does not fit 1 GB
    assert main(["render", "--demo", "--size", "8192", "--brush-scale", "4", "--max-memory", "1G", "--device", "cpu",
                 "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "painting the print needs about" in error and "--max-memory is 1.0 GB" in error
    assert main(["render", "--demo", "--size", "512", "--max-memory", "1.5G", "--device", "cpu",
                 "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "--max-memory is 1.5 GB" in error and "render at most" in error and not out.exists()
