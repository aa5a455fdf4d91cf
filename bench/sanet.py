"""SANet on photo + painting cases: warm CPU/GPU timings and fidelity, and the README comparison picture.

    python bench/sanet.py --device cpu --sizes 256 512 --json bench/results/sanet-cpu.json \
        --picture resources/sanet_comparison.png

The cases, each a photo with a label map drawn here by hand (sky, sea, rock: the land and what stands on
it), painted in Monet's *Cliffs at Étretat* (../shared/samples) with the bench's hand-drawn map of that
painting:

- kodim21: Kodak's lighthouse on its rocks by day, under a pale sky (../shared/trainset/photos, so a photo
  SANet trained on);
- bout-lighthouse: William Bout's lighthouse on a causeway at dusk, blue on blue (Unsplash licence; in the
  training set too), a photo whose colours are far from the painting's;
- summer-palace: a tower of Beijing's Summer Palace above trees and a lake, by danielbuechele (CC BY 2.0),
  held out: not in the training set. It ships with scikit-learn as `china.jpg` among its sample images
  (`pip install scikit-learn`, which the app does not need); without scikit-learn the case is skipped.

Per case and size: seconds of a warm SANet render (the median of --repeats, after one warm-up), and the
fidelity (../shared/tools/fidelity.py) of the masked (γ 50), the masked without the per-label colour step
(what the network alone paints), the unmasked (γ 0) and, at --patch-size, the patch method's renders from
the same photo (each of --patch-presets; the picture shows the last), all judged on the photo's label map.
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
from doodlepaint.engine.sanet import (get_sanet, run_sanet, sanet_from_bytes, shipped_record,  # noqa: E402
                                      weights_record)
from doodlepaint.engine.vgg import get_encoder  # noqa: E402

PHOTOS = ROOT.parent / "shared" / "trainset" / "photos"


class MissingPhoto(Exception):
    """A case's photo is not on this machine."""


def scikit_learn_sample(name: str) -> Path:
    """One of the photos that ship with scikit-learn (its sample images), or a clear error without it."""
    try:
        from importlib.resources import files

        return Path(str(files("sklearn.datasets.images") / name))
    except ModuleNotFoundError as error:
        raise MissingPhoto(f"{name} ships with scikit-learn: pip install scikit-learn") from error


def kodim21_map() -> np.ndarray:
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


def bout_lighthouse_map() -> np.ndarray:
    """William Bout's photo (512x298): sky above the horizon, the lighthouse and its rocks and causeway, sea."""
    image = Image.new("RGB", (512, 298), SEA)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, 512, 123], fill=SKY)
    draw.polygon([(132, 298), (138, 278), (126, 255), (122, 236), (146, 206), (168, 190), (200, 172), (228, 162),
                  (240, 150), (249, 104), (262, 98), (266, 122), (282, 122), (285, 150), (305, 149), (330, 153),
                  (350, 165), (338, 184), (312, 196), (302, 214), (326, 238), (360, 252), (400, 262), (440, 272),
                  (452, 298)], fill=ROCK)
    return np.asarray(image)


def summer_palace_map() -> np.ndarray:
    """scikit-learn's china.jpg (640x427): sky above the far shore, the lake, the tower and the trees."""
    image = Image.new("RGB", (640, 427), SKY)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 212, 640, 427], fill=SEA)
    for polygon in (
            [(203, 28), (212, 28), (214, 50), (250, 75), (290, 100), (320, 120), (300, 135), (296, 158), (330, 172),
             (318, 192), (322, 232), (352, 250), (340, 272), (340, 305), (365, 330), (372, 360), (372, 427),
             (60, 427), (60, 330), (80, 300), (78, 280), (62, 268), (95, 240), (98, 192), (84, 180), (100, 160),
             (98, 138), (95, 110), (130, 95), (170, 75), (196, 50)],                            # the tower
            [(550, 427), (550, 240), (556, 205), (568, 175), (585, 150), (605, 138), (625, 135), (640, 140),
             (640, 427)],                                                                        # trees, right
            [(0, 330), (360, 330), (420, 300), (470, 290), (520, 280), (640, 280), (640, 427), (0, 427)],  # below
            [(0, 150), (20, 160), (40, 190), (50, 230), (30, 260), (0, 270)]):                  # a tree, left
        draw.polygon(polygon, fill=ROCK)
    return np.asarray(image)


# name: (where the photo is, its label map)
PHOTO_CASES = {"kodim21": (lambda: PHOTOS / "kodak_kodim21.jpg", kodim21_map),
               "bout-lighthouse": (lambda: PHOTOS / "elementary_william-bout-lighthouse.jpg", bout_lighthouse_map),
               "summer-palace": (lambda: scikit_learn_sample("china.jpg"), summer_palace_map)}


def write_photo_case(folder: Path, name: str = "kodim21") -> dict[str, Path]:
    style, style_map, _ = write_case(folder, "monet")
    photo, draw_map = PHOTO_CASES[name]
    photo_map = folder / f"{name}_sem.png"
    Image.fromarray(draw_map()).save(photo_map)
    return {"style": style, "style_map": style_map, "photo": photo(), "photo_map": photo_map}


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


def time_sanet(request, device, repeats: int, model, label_colours: bool = True) -> tuple[np.ndarray, list[float]]:
    def render():
        return next(run_sanet(request, device=device, model=model, label_colours=label_colours)).frame

    frame = render()    # warm-up
    times = []
    for _ in range(repeats):
        sync(device)
        started = time.perf_counter()
        frame = render()
        sync(device)
        times.append(time.perf_counter() - started)
    return frame, times


SANET_RENDERS = (("sanet masked", 50.0, True), ("sanet masked, network only", 50.0, False),
                 ("sanet unmasked", 0.0, True))


def bench_case(name: str, folder: Path, args, device, model, fidelity) -> tuple[list[dict], list[np.ndarray]]:
    """The rows of one case, and its picture's tiles (photo | map | unmasked | network only | masked | patch)."""
    case = write_photo_case(folder, name)
    style = np.asarray(Image.open(case["style"]).convert("RGB"))
    style_map = np.asarray(Image.open(case["style_map"]).convert("RGB"))
    photo_map = np.asarray(Image.open(case["photo_map"]).convert("RGB"))

    def score(image):   # fidelity.py judges at the output's scale, resizing the map and the painting
        return round(fidelity.score(style, style_map, photo_map, image)["balanced_accuracy"], 3)

    rows, pictures = [], {}
    for size in args.sizes:
        for impl, gamma, colours in SANET_RENDERS:
            request = request_for(case, size, method="sanet", gamma=gamma, alpha=0.0)
            frame, times = time_sanet(request, device, args.repeats, model, colours)
            rows.append({"case": name, "impl": impl, "size": f"{frame.shape[1]}x{frame.shape[0]}", "gamma": gamma,
                         "seconds": round(statistics.median(times), 3), "all_seconds": [round(t, 3) for t in times],
                         "fidelity": score(frame)})
            print(json.dumps(rows[-1]), flush=True)
            if size == args.patch_size:
                pictures[impl] = frame
    if not args.patch_size:
        return rows, []
    for preset in args.patch_presets:
        request = request_for(case, args.patch_size, preset=preset)
        started = time.perf_counter()
        frame = final_frame(request, device)
        rows.append({"case": name, "impl": f"patch ({preset}, photo as content)",
                     "size": f"{frame.shape[1]}x{frame.shape[0]}", "gamma": request.params.gamma,
                     "seconds": round(time.perf_counter() - started, 2), "fidelity": score(frame)})
        print(json.dumps(rows[-1]), flush=True)
    height, width = frame.shape[:2]
    photo = np.asarray(Image.open(case["photo"]).convert("RGB").resize((width, height), Image.BICUBIC))
    labels = np.asarray(Image.fromarray(photo_map).resize((width, height), Image.NEAREST))
    return rows, [photo, labels, *(pictures[impl] for impl, _, _ in SANET_RENDERS[::-1]), frame]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cases", nargs="+", choices=sorted(PHOTO_CASES), default=list(PHOTO_CASES))
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--patch-size", type=int, default=256, help="also render the patch method here (0: no)")
    parser.add_argument("--patch-presets", nargs="+", choices=["Draft", "Normal", "High"], default=["Draft", "Normal"])
    parser.add_argument("--weights", type=Path, help="SANet weights to judge instead of the shipped ones")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--picture", type=Path,
                        help="a row per case: photo | map | unmasked | masked network only | masked | patch "
                             "(the last of --patch-presets), at --patch-size")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    fidelity = import_tool("fidelity")
    get_encoder(device)
    if args.weights:
        data = args.weights.read_bytes()
        model, record = sanet_from_bytes(data, str(args.weights)).to(device), weights_record(data)
    else:
        model, record = get_sanet(device), shipped_record()
    rows, picture_rows = [], []
    with tempfile.TemporaryDirectory() as temp:
        for name in args.cases:
            try:
                case_rows, tiles = bench_case(name, Path(temp), args, device, model, fidelity)
            except MissingPhoto as missing:
                print(f"{name}: skipped, {missing}", file=sys.stderr)
                continue
            rows += case_rows
            if tiles:
                picture_rows.append(np.concatenate(tiles, axis=1))
    result = {"device": device_name(device), "torch": torch.__version__, "threads": torch.get_num_threads(),
              "weights": str(args.weights or "shipped"), "weights_steps": record["steps"], "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    if args.picture and picture_rows:
        Image.fromarray(np.concatenate(picture_rows, axis=0)).save(args.picture)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
