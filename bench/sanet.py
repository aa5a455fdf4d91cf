"""SANet on a photo + painting case: warm CPU/GPU timings and fidelity, and the README comparison picture.

    python bench/sanet.py --device cpu --sizes 256 512 --json bench/results/sanet-cpu.json \
        --picture docs/sanet-comparison.png

The case: Kodak's lighthouse photo (kodim21, in ../shared/trainset/photos: one of SANet's training
photos) with a label map drawn here by hand (sky, sea, rock: the land and its buildings), painted in
Monet's *Cliffs at Étretat* (../shared/samples) with the bench's hand-drawn map of that painting.
Per size: seconds of a warm SANet render (the median of --repeats, after one warm-up), and the fidelity
(../shared/tools/fidelity.py) of the masked (γ 50), the masked without the per-label colour step (what the
network alone paints), the unmasked (γ 0) and, at --patch-size, the patch method's render from the same
photo (Draft preset), all judged on the photo's label map.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench import import_tool, sync  # noqa: E402
from bench.case import ROCK, SEA, SKY, write_case  # noqa: E402
from doodlepaint.engine import PRESETS, TransferRequest, device_name, run_transfer  # noqa: E402
from doodlepaint.engine.images import load_rgb  # noqa: E402
from doodlepaint.engine.labels import load_maps  # noqa: E402
from doodlepaint.engine.sanet import get_sanet, run_sanet, shipped_record  # noqa: E402
from doodlepaint.engine.vgg import get_encoder  # noqa: E402

PHOTO = ROOT.parent / "shared" / "trainset" / "photos" / "kodak_kodim21.jpg"


def lighthouse_map() -> np.ndarray:
    """kodim21 (512x341): sky above the roofs and the horizon, the sea around the rocks, the rest land."""
    image = Image.new("RGB", (512, 341), SKY)
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, 175), (22, 165), (40, 140), (60, 128), (100, 126), (125, 140), (150, 160), (160, 172),
                  (212, 172), (215, 60), (222, 45), (240, 45), (250, 60), (255, 172), (325, 172), (335, 192),
                  (512, 195), (512, 341), (0, 341)], fill=ROCK)
    draw.polygon([(340, 196), (512, 196), (512, 215), (470, 210), (440, 208), (400, 213), (380, 225), (378, 260),
                  (400, 275), (470, 282), (512, 282), (512, 341), (0, 341), (0, 330), (60, 325), (120, 310),
                  (180, 300), (250, 300), (290, 285), (330, 265), (350, 250), (365, 235), (372, 220),
                  (345, 205)], fill=SEA)
    return np.asarray(image)


def write_photo_case(folder: Path) -> dict[str, Path]:
    style, style_map, _ = write_case(folder, "monet")
    photo_map = folder / "lighthouse_sem.png"
    Image.fromarray(lighthouse_map()).save(photo_map)
    return {"style": style, "style_map": style_map, "photo": PHOTO, "photo_map": photo_map}


def request_for(case: dict[str, Path], size: int, **params) -> TransferRequest:
    style = load_rgb(case["style"], "style")
    style_ids, target_ids, palette = load_maps(style, case["style_map"], case["photo_map"])
    preset = params.pop("preset", "Normal")
    return TransferRequest(style, style_ids, target_ids, palette, PRESETS[preset].replace(size=size, **params),
                           content=load_rgb(case["photo"], "photo"))


def final_frame(request, device) -> np.ndarray:
    last = None
    for progress in run_transfer(request, device=device, preview_interval=float("inf")):
        last = progress
    return last.frame


def time_sanet(request, device, repeats: int, label_colours: bool = True) -> tuple[np.ndarray, list[float]]:
    frame = next(run_sanet(request, device=device, label_colours=label_colours)).frame    # warm-up
    times = []
    for _ in range(repeats):
        sync(device)
        started = time.perf_counter()
        frame = next(run_sanet(request, device=device, label_colours=label_colours)).frame
        sync(device)
        times.append(time.perf_counter() - started)
    return frame, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--patch-size", type=int, default=256, help="also render the patch method here (0: no)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--picture", type=Path,
                        help="photo | map | unmasked | masked network only | masked | patch, at --patch-size")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    fidelity = import_tool("fidelity")
    get_encoder(device), get_sanet(device)
    rows, pictures = [], {}
    with tempfile.TemporaryDirectory() as temp:
        case = write_photo_case(Path(temp))
        style = np.asarray(Image.open(case["style"]).convert("RGB"))
        style_map = np.asarray(Image.open(case["style_map"]).convert("RGB"))
        photo_map = np.asarray(Image.open(case["photo_map"]).convert("RGB"))

        def score(image):   # fidelity.py judges at the output's scale, resizing the map and the painting
            return round(fidelity.score(style, style_map, photo_map, image)["balanced_accuracy"], 3)

        for size in args.sizes:
            for name, gamma, colours in (("sanet masked", 50.0, True), ("sanet masked, network only", 50.0, False),
                                         ("sanet unmasked", 0.0, True)):
                request = request_for(case, size, method="sanet", gamma=gamma, alpha=0.0)
                frame, times = time_sanet(request, device, args.repeats, colours)
                rows.append({"impl": name, "size": f"{frame.shape[1]}x{frame.shape[0]}", "gamma": gamma,
                             "seconds": round(statistics.median(times), 3), "all_seconds": [round(t, 3) for t in times],
                             "fidelity": score(frame)})
                print(json.dumps(rows[-1]), flush=True)
                if size == args.patch_size:
                    pictures[name] = frame
        if args.patch_size:
            request = request_for(case, args.patch_size, preset="Draft")
            started = time.perf_counter()
            frame = final_frame(request, device)
            rows.append({"impl": "patch (Draft, photo as content)", "size": f"{frame.shape[1]}x{frame.shape[0]}",
                         "gamma": request.params.gamma, "seconds": round(time.perf_counter() - started, 2),
                         "fidelity": score(frame)})
            print(json.dumps(rows[-1]), flush=True)
            pictures["patch"] = frame
    record = shipped_record()
    result = {"device": device_name(device), "torch": torch.__version__, "threads": torch.get_num_threads(),
              "weights_steps": record["steps"], "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    if args.picture and "patch" in pictures:
        height = pictures["patch"].shape[0]
        width = pictures["patch"].shape[1]
        photo = np.asarray(Image.open(PHOTO).convert("RGB").resize((width, height), Image.BICUBIC))
        labels = np.asarray(Image.fromarray(photo_map).resize((width, height), Image.NEAREST))
        tiles = [photo, labels, pictures["sanet unmasked"], pictures["sanet masked, network only"],
                 pictures["sanet masked"], pictures["patch"]]
        Image.fromarray(np.concatenate(tiles, axis=1)).save(args.picture)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
