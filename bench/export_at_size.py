"""Export at Size against a render from scratch at the same size, on the sample scene, one run each.

    python bench/export_at_size.py --device cpu --preview 128 --size 256 --preset Draft

The app's Export at Size is the print pipeline with the finished preview as its working render
(doodlepaint.ui.export_size.export_request); a render from scratch optimises at the size.
Prints seconds for the preview, the export and the scratch render.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from doodlepaint.engine import PRESETS, device_name, pick_device, run_transfer  # noqa: E402
from doodlepaint.engine.print_size import run_print  # noqa: E402
from doodlepaint.engine.sample import load_sample  # noqa: E402
from doodlepaint.engine.vgg import get_encoder  # noqa: E402
from doodlepaint.model.document import Document  # noqa: E402
from doodlepaint.ui.export_size import export_request  # noqa: E402


def timed(request, device, encoder) -> tuple[float, object]:
    start = time.perf_counter()
    last = None
    for last in run_transfer(request, lambda: False, device, encoder=encoder):
        pass
    return time.perf_counter() - start, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--preview", type=int, default=128)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--preset", default="Draft", choices=sorted(PRESETS))
    options = parser.parse_args()
    device = pick_device(options.device)
    encoder = get_encoder(device)
    document = Document.from_sample(load_sample())
    document.params = PRESETS[options.preset].replace(size=options.preview)
    timed(document.request(), device, encoder)                          # warm-up: weights, allocator
    preview_s, preview = timed(document.request(), device, encoder)
    document.result = preview.frame
    job = export_request(document, options.size)
    started = time.perf_counter()
    for _ in run_print(job.request, job.settings, device=device, encoder=encoder, working=job.working):
        pass
    export_s = time.perf_counter() - started
    document.params = document.params.replace(size=options.size)
    scratch_s, _ = timed(document.request(), device, encoder)
    print(f"{device_name(device)}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{options.preset}: preview {options.preview} px {preview_s:.1f} s; export at {options.size} px "
          f"from it (the print pipeline) {export_s:.1f} s; from scratch "
          f"({document.params.phases} phases) {scratch_s:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
