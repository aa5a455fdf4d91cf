"""Peak memory of renders on the CPU, measured, beside engine/memory.py's estimate (and the fit behind it).

    python bench/memory.py                      # measure the calibration grid, print the fitted coefficients
    python bench/memory.py --check 192 288      # measure 2-phase renders at these widths against the estimate

Each render runs in a fresh process with the real VGG19: the encoder (and SANet's network) are loaded,
the process's peak resident size is reset (/proc/self/clear_refs), one render runs, and its peak growth is
read from VmHWM. Paintings and doodles are synthetic (noise, two labels): memory depends on sizes only.
The fit is least squares of the growth on (1, output pixels, painting pixels, their product) per method, in
one phase of one iteration, the terms engine/memory.py's estimate adds up per phase.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GRID = {   # (output side, painting side): square images; the painting is used at most at 2x the output's pixels
    "patch": [(96, 96), (160, 96), (96, 128), (224, 160), (160, 224), (256, 256)],
    "gram": [(96, 96), (160, 96), (96, 128), (224, 160), (160, 224), (256, 256)],
    "swap": [(96, 96), (192, 96), (96, 128), (256, 192), (192, 256), (320, 320)],
    "sanet": [(96, 96), (192, 96), (96, 128), (256, 192), (192, 256), (320, 320)],
}


def _resident_peak() -> int:
    return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) * 1024


def _resident() -> int:
    return int(re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) * 1024


def synthetic_request(method: str, side: int, style_side: int, phases: int = 1, init: str = "auto"):
    from doodlepaint.engine.params import TransferParams, TransferRequest

    rng = np.random.default_rng(0)
    style = rng.integers(0, 256, (style_side, style_side, 3), dtype=np.uint8)
    style_ids = np.zeros((style_side, style_side), np.int64)
    style_ids[style_side // 2:] = 1
    target = np.zeros((side, side), np.int64)
    target[:, side // 2:] = 1
    params = TransferParams(method=method, phases=phases, iterations=1, match_every=1, init=init)
    return TransferRequest(style, style_ids, target, np.array([[255, 0, 0], [0, 0, 255]], np.uint8), params)


def measure_here(method: str, side: int, style_side: int, phases: int, init: str) -> dict:
    """In this process: the render's peak growth over the resident size with everything loaded."""
    from doodlepaint.engine.memory import estimate
    from doodlepaint.engine.transfer import run_transfer
    from doodlepaint.engine.vgg import get_encoder

    request = synthetic_request(method, side, style_side, phases, init)
    encoder = get_encoder("cpu")
    if method == "sanet" or init == "instant":
        from doodlepaint.engine.decoder import get_decoder
        from doodlepaint.engine.sanet import get_sanet
        get_sanet("cpu")
        get_decoder("relu3_1")
    before, loading_peak = _resident(), _resident_peak()
    Path("/proc/self/clear_refs").write_text("5")
    for _ in run_transfer(request, device="cpu", preview_interval=float("inf"), encoder=encoder):
        pass
    return {"method": method, "side": side, "style_side": style_side, "phases": phases, "init": init,
            "measured": _resident_peak() - before, "estimated": estimate(request).render_bytes,
            "runtime": before, "loading_peak": loading_peak}


def measure(method: str, side: int, style_side: int, phases: int = 1, init: str = "auto") -> dict:
    """measure_here in a fresh process, so one render's allocations do not hide another's."""
    code = (f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'bench')!r}); "
            f"import memory; print(json.dumps(memory.measure_here({method!r}, {side}, {style_side}, {phases}, "
            f"{init!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def fit(rows: list[dict]) -> dict[str, float]:
    """Bytes per render, per output pixel, per painting pixel and per (output x painting) pixel pair, from
    one-phase rows (engine/memory.py adds its MARGIN on top)."""
    from doodlepaint.engine.memory import match_score_bytes, phase_pixels

    terms, measured = [], []
    for row in rows:
        pixels, style_pixels = phase_pixels(synthetic_request(row["method"], row["side"], row["style_side"]))[-1]
        terms.append([1.0, pixels, style_pixels, pixels * style_pixels])
        # the match's score block is computed, not fitted (it is capped past the sizes measured here)
        measured.append(row["measured"] - match_score_bytes(row["method"], pixels, style_pixels))
    terms, measured = np.array(terms, float), np.array(measured, float)
    names = ["fixed", "per_pixel", "per_style_pixel", "per_pixel_pair"]
    # only SANet's attention holds every pair of output and painting positions (the patch match's block is
    # capped, and computed apart); a pair term fitted to the other methods' few small sizes would be noise
    # that grows with the square of the size
    kept = list(range(len(names) if rows[0]["method"] == "sanet" else len(names) - 1))
    while True:                 # least squares with no negative bytes: drop a term that comes out negative
        coefficients, *_ = np.linalg.lstsq(terms[:, kept], measured, rcond=None)
        if coefficients.min() >= 0:
            break
        del kept[int(np.argmin(coefficients))]
    fitted = dict.fromkeys(names, 0.0)
    fitted.update({names[index]: float(value) for index, value in zip(kept, coefficients)})
    return fitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", nargs="+", default=list(GRID))
    parser.add_argument("--check", nargs="*", type=int, help="2-phase renders at these widths (painting the same)")
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args()
    rows = []
    for method in args.methods:
        if args.check:
            method_rows = [measure(method, side, side, phases=2) for side in args.check]
        else:
            method_rows = [measure(method, side, style_side) for side, style_side in GRID[method]]
            print(method, json.dumps(fit(method_rows)))
        for row in method_rows:
            print(json.dumps({**row, "ratio": round(row["estimated"] / max(row["measured"], 1), 2)}))
        rows += method_rows
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
