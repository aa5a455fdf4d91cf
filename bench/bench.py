"""Speed and quality of doodlepaint beside the reference port (../shared/tools/refdoodle.py), one run.

    python bench/bench.py --device cuda --sizes 512 1024 2048 --ref-sizes 512 1024 --json results.json
    python bench/bench.py --device cpu --sizes 256 --ref-sizes 256          # what `make bench` runs

Per size: total seconds, seconds per phase, first-preview latency (request to first frame, warm
process), peak GPU memory, and the fidelity score of ../shared/tools/fidelity.py; the same for
refdoodle where asked. --cold also times a fresh process from start to its first preview.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TOOL_DIRS = (ROOT.parent / "shared" / "tools", ROOT / ".devcarry")

from bench.case import write_case  # noqa: E402
from doodlepaint.engine import TransferParams, TransferRequest, PRESETS, device_name, run_transfer  # noqa: E402
from doodlepaint.engine.images import load_rgb  # noqa: E402
from doodlepaint.engine.labels import load_maps  # noqa: E402
from doodlepaint.engine.vgg import get_encoder  # noqa: E402


def import_tool(name: str):
    for folder in TOOL_DIRS:
        if (folder / f"{name}.py").exists():
            sys.path.insert(0, str(folder))
            return __import__(name)
    raise SystemExit(f"{name}.py not found in ../shared/tools or .devcarry")


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_doodlepaint(request, device) -> tuple[np.ndarray, dict]:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    sync(device)
    started = time.perf_counter()
    first_preview, last = None, None
    for progress in run_transfer(request, device=device, preview_interval=0.25):
        if first_preview is None and progress.frame is not None:
            first_preview = time.perf_counter() - started
        last = progress
    sync(device)
    total = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else 0
    return last.frame, {"seconds": round(total, 3), "phases": [round(s, 3) for s in last.phase_seconds],
                        "evaluations": last.evaluations,
                        "first_preview": round(first_preview, 3), "peak_gb": round(peak / 1e9, 2)}


def time_reference(refdoodle, style, style_map, doodle, scale, device) -> tuple[np.ndarray, dict]:
    resize = lambda im: refdoodle.resize(im, int(im.shape[1] * scale), int(im.shape[0] * scale))
    style, style_map, doodle = (resize(a.astype(np.float32)) for a in (style, style_map, doodle))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    try:
        image, phases = refdoodle.run(style, style_map, doodle, str(device))
    except torch.OutOfMemoryError:
        torch.cuda.empty_cache()
        return None, {"seconds": None, "error": "out of memory"}
    total = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else 0
    return image, {"seconds": round(total, 3), "phases": phases, "peak_gb": round(peak / 1e9, 2)}


def cold_start(style_path, map_path, doodle_path, size, device) -> float:
    """A fresh interpreter: from spawning it to its first preview frame."""
    code = f"""
import time
from doodlepaint.engine import TransferParams, TransferRequest, run_transfer
from doodlepaint.engine.images import load_rgb
from doodlepaint.engine.labels import load_maps
style = load_rgb({str(style_path)!r})
ids, target, palette = load_maps(style, {str(map_path)!r}, {str(doodle_path)!r})
request = TransferRequest(style, ids, target, palette, TransferParams(size={size}))
for progress in run_transfer(request, device={str(device)!r}, preview_interval=0):
    if progress.frame is not None:
        print(time.time(), flush=True)
        break
"""
    started = time.time()
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return round(float(output.stdout.split()[-1]) - started, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", type=int, nargs="*", default=[256])
    parser.add_argument("--ref-sizes", type=int, nargs="*", default=[])
    parser.add_argument("--presets", nargs="*", default=["Normal"], choices=list(PRESETS))
    parser.add_argument("--methods", nargs="*", default=["patch"], choices=["patch", "gram"])
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--images", type=Path, help="folder to keep the rendered PNGs in")
    args = parser.parse_args()
    device = torch.device(args.device)
    fidelity = import_tool("fidelity")
    work = Path(tempfile.mkdtemp(prefix="doodlepaint-bench-"))
    style_path, map_path, doodle_path = write_case(work)
    style = load_rgb(style_path)
    style_ids, target_ids, palette = load_maps(style, map_path, doodle_path)
    style_map, doodle = load_rgb(map_path), load_rgb(doodle_path)
    rows = []
    if args.cold:
        # "cold": a fresh process, from its start to its first preview frame
        rows.append({"impl": "doodlepaint", "preset": "cold", "size": 512,
                     "first_preview": cold_start(style_path, map_path, doodle_path, 512, device)})
    get_encoder(device)  # warm: weights loaded, device initialised, as in the running app
    warm_request = TransferRequest(style, style_ids, target_ids, palette, TransferParams(size=64, phases=1, iterations=3))
    for _ in run_transfer(warm_request, device=device):
        pass
    for size in args.sizes:
        for method in args.methods:
            for preset in args.presets:
                params = PRESETS[preset].replace(size=size, method=method)
                image, row = time_doodlepaint(TransferRequest(style, style_ids, target_ids, palette, params), device)
                row.update(impl=f"doodlepaint {method}", preset=preset, size=f"{image.shape[1]}x{image.shape[0]}",
                           fidelity=fidelity.score(style, style_map, doodle, image)["balanced_accuracy"])
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.images:
                    args.images.mkdir(parents=True, exist_ok=True)
                    Image.fromarray(image).save(args.images / f"doodlepaint_{method}_{preset}_{size}.png")
    refdoodle = import_tool("refdoodle") if args.ref_sizes else None
    for size in args.ref_sizes:
        image, row = time_reference(refdoodle, style, style_map, doodle, size / doodle.shape[1], device)
        row.update(impl="refdoodle", size=size)
        if image is not None:
            row["size"] = f"{image.shape[1]}x{image.shape[0]}"
            row["fidelity"] = fidelity.score(style, style_map, doodle, image)["balanced_accuracy"]
            if args.images:
                Image.fromarray(image).save(args.images / f"refdoodle_{size}.png")
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary = {"device": device_name(device), "torch": torch.__version__, "threads": torch.get_num_threads(),
               "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\n{'impl':18} {'preset':7} {'size':>10} {'total s':>8} {'1st frame':>9} {'peak GB':>8} {'fidelity':>8}")
    for row in rows:
        print(f"{row['impl']:18} {row.get('preset', '-'):7} {str(row['size']):>10} {str(row.get('seconds', '-')):>8} "
              f"{str(row.get('first_preview', '-')):>9} {str(row.get('peak_gb', '-')):>8} {str(row.get('fidelity', '-')):>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
