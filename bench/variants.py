"""Time and score variants of a preset on the bench case, one render each, in one warm process.

    python bench/variants.py "preset='Draft'" "preset='Draft', match_every=6" "gamma=100, size=512"

Each argument is keyword arguments for TransferParams.replace on top of a preset (default Normal),
plus `size` (default 256), and two engine constants to compare values of: `noise`, the seed's noise
amplitude (seeds.COLOUR_NOISE), and `colour`, the weight of each label's colour statistics in the
patch loss (terms.COLOUR_WEIGHT). Prints seconds, fidelity and loss evaluations per variant.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench import import_tool  # noqa: E402
from bench.case import CASES, write_case  # noqa: E402
from doodlepaint.engine import PRESETS, TransferRequest, run_transfer  # noqa: E402
from doodlepaint.engine import seeds, terms  # noqa: E402
from doodlepaint.engine.images import load_rgb  # noqa: E402
from doodlepaint.engine.labels import load_maps  # noqa: E402
from doodlepaint.engine.vgg import get_encoder  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--case", default="monet", choices=CASES)
    args = parser.parse_args()
    fidelity = import_tool("fidelity")
    style_path, map_path, doodle_path = write_case(Path(tempfile.mkdtemp(prefix="doodlepaint-variants-")),
                                                       args.case)
    style = load_rgb(style_path)
    style_ids, target_ids, palette = load_maps(style, map_path, doodle_path)
    style_map, doodle = load_rgb(map_path), load_rgb(doodle_path)
    get_encoder(args.device)
    defaults = seeds.COLOUR_NOISE, terms.COLOUR_WEIGHT
    for variant in args.variants:
        options = eval(f"dict({variant})")  # noqa: S307 - a developer's own command line
        seeds.COLOUR_NOISE = options.pop("noise", defaults[0])
        terms.COLOUR_WEIGHT = options.pop("colour", defaults[1])
        params = PRESETS[options.pop("preset", "Normal")].replace(size=options.pop("size", 256), **options)
        started = time.perf_counter()
        for progress in run_transfer(TransferRequest(style, style_ids, target_ids, palette, params),
                                     device=args.device, preview_interval=float("inf")):
            pass
        seconds = time.perf_counter() - started
        score = fidelity.score(style, style_map, doodle, progress.frame)["balanced_accuracy"]
        print(f"{variant:50} {seconds:7.1f} s  fidelity {score:.3f}  {progress.evaluations} evaluations", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
