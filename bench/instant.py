"""Instant previews: speed and fidelity of the one-pass patch swap, and of the optimisation refining it.

    python bench/instant.py --device cpu --sizes 256 512 --json bench/results/instant-cpu.json

Per bench case (bench/case.py) and size:
- instant: the swap render in a warm process with the painting's bank already built (the app's state
  while the artist paints); the median of --repeats runs, and its fidelity (../shared/tools/fidelity.py);
- normal: the Normal preset from the label colours, total seconds and fidelity;
- refined: the app's Live refinement (`refinement(Normal)` starting from the instant picture), the
  instant pass included, total seconds and fidelity.
--images DIR writes every render as PNG to look at.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench import import_tool, sync  # noqa: E402
from bench.case import write_case  # noqa: E402
from doodlepaint.engine import PRESETS, TransferRequest, device_name, pick_device, run_transfer  # noqa: E402
from doodlepaint.engine.decoder import shipped_record  # noqa: E402
from doodlepaint.engine.images import load_rgb  # noqa: E402
from doodlepaint.engine.labels import load_maps  # noqa: E402
from doodlepaint.engine.params import refinement  # noqa: E402
from doodlepaint.engine.vgg import get_encoder  # noqa: E402


def timed(request, device):
    sync(device)
    started = time.perf_counter()
    last = None
    for progress in run_transfer(request, device=device, preview_interval=float("inf")):
        last = progress
    sync(device)
    return last.frame, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--cases", nargs="+", default=["monet", "renoir", "renoir-upside-down"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-optimise", action="store_true", help="instant only (no Normal, no refinement)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    fidelity = import_tool("fidelity")
    get_encoder(device)
    record = shipped_record("relu3_1")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for case in args.cases:
            style_path, map_path, doodle_path = write_case(Path(folder), case)
            style = load_rgb(style_path)
            style_ids, target_ids, palette = load_maps(style, map_path, doodle_path)
            for size in args.sizes:
                def score(frame, name):
                    path = Path(folder) / f"{case}-{size}-{name}.png"
                    Image.fromarray(frame).save(path)
                    if args.images:
                        args.images.mkdir(parents=True, exist_ok=True)
                        Image.fromarray(frame).save(args.images / path.name)
                    return fidelity.score(*(fidelity.load(p) for p in (style_path, map_path, doodle_path, path)))[
                        "balanced_accuracy"]

                instant = TransferRequest(style, style_ids, target_ids, palette, PRESETS["Instant"].replace(size=size))
                _, cold = timed(instant, device)           # builds the painting's bank, as the app's first stroke
                times = []
                for _ in range(args.repeats):
                    frame, seconds = timed(instant, device)
                    times.append(seconds)
                row = {"case": case, "size": size, "instant_first_s": round(cold, 3),
                       "instant_s": round(statistics.median(times), 3), "instant_fidelity": score(frame, "instant")}
                if not args.no_optimise:
                    normal = TransferRequest(style, style_ids, target_ids, palette, PRESETS["Normal"].replace(size=size))
                    frame, seconds = timed(normal, device)
                    row.update(normal_s=round(seconds, 2), normal_fidelity=score(frame, "normal"))
                    refined = TransferRequest(style, style_ids, target_ids, palette,
                                              refinement(PRESETS["Normal"].replace(size=size)))
                    frame, seconds = timed(refined, device)
                    row.update(refined_s=round(seconds, 2), refined_fidelity=score(frame, "refined"))
                print(json.dumps(row), flush=True)
                rows.append(row)
    result = {"device": str(device), "device_name": device_name(device), "threads": torch.get_num_threads(),
              "torch": torch.__version__, "decoder_steps": record["steps"], "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
