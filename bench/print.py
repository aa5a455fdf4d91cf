"""Print size from a doodle (issue 25): time, peak resident memory, fidelity and detail at print sizes.

    python bench/print.py --sizes 2048 4096 --preset Instant --cases waterlilies starrynight

Each print is one `doodlepaint render --size N` in a process of its own (its wall time and peak RSS, from
wait4), the working render included. The print is judged by ../shared/tools/fidelity.py and detail.py
against the doodle at the print's size, so the painting is taken at its own resolution, the scale a print
at brush scale 1 copies it at. Beside it: the working render alone (`--size` = the working size, judged
against the doodle at its own size) and that render upscaled bicubic to the print's size. Cases (maps and
doodles made by bench/print_case.py): waterlilies and starrynight, the tuning cases; shipwreck, held out of
tuning.
Writes the pictures and a JSON line per print under --out, and 100 % crops for the README.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT.parent / "shared" / "tools"
CASE_DIR = ROOT / "bench" / "print_case"
sys.path.insert(0, str(ROOT / "bench"))

from print_case import CASES, SAMPLES  # noqa: E402


def run(command: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and peak resident GB of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024 ** 2


def score(tool: str, style: Path, style_map: Path, doodle: Path, output: Path) -> float:
    result = subprocess.run([sys.executable, str(TOOLS / tool), str(style), str(style_map), str(doodle), str(output)],
                            capture_output=True, text=True, check=True)
    line = json.loads(result.stdout.strip().splitlines()[-1])
    return line["balanced_accuracy" if tool == "fidelity.py" else "detail_ratio"]


def judged(style, style_map, doodle, output) -> dict:
    return {"fidelity": score("fidelity.py", style, style_map, doodle, output),
            "detail": score("detail.py", style, style_map, doodle, output)}


def doodle_at(doodle: Path, width: int, folder: Path) -> Path:
    image = Image.open(doodle).convert("RGB")
    path = folder / f"{doodle.stem}_{width}.png"
    image.resize((width, round(image.height * width / image.width)), Image.NEAREST).save(path)
    return path


def crop(path: Path, box, out: Path) -> None:
    with Image.open(path) as image:
        image.crop(box).save(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2048, 4096])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--preset", default="Instant", help="the working render's preset (default Instant)")
    parser.add_argument("--working-size", type=int, default=512)
    parser.add_argument("--brush-scale", type=float, default=1.0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (OMP_NUM_THREADS) in each render")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "print",
                        help="where the prints, crops and results.json go (default out/print, not committed)")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if options.threads:
        env["OMP_NUM_THREADS"] = str(options.threads)
    results = []
    for case in options.cases:
        style = SAMPLES / CASES[case][0]
        style_map, doodle = CASE_DIR / f"{case}_sem.png", CASE_DIR / f"{case}_doodle.png"
        common = [sys.executable, "-m", "doodlepaint", "render", "--style", str(style), "--style-map", str(style_map),
                  "--target-map", str(doodle), "--preset", options.preset, "--device", options.device, "--quiet",
                  "--force"]
        working = options.out / f"{case}_working_{options.working_size}.png"
        seconds, rss = run(common + ["--size", str(options.working_size), "--out", str(working)], env)
        working_scores = judged(style, style_map, doodle, working)
        print(json.dumps({"case": case, "working_size": options.working_size, "seconds": round(seconds, 1),
                          "peak_rss_gb": round(rss, 2), **working_scores}), flush=True)
        for size in options.sizes:
            out = options.out / f"{case}_print_{size}.png"
            seconds, rss = run(common + ["--size", str(size), "--working-size", str(options.working_size),
                                         "--brush-scale", str(options.brush_scale), "--out", str(out)], env)
            target = doodle_at(doodle, size, options.out)
            upscaled = options.out / f"{case}_upscaled_{size}.png"
            with Image.open(working) as image:
                image.resize((size, round(image.height * size / image.width)), Image.BICUBIC).save(upscaled)
            line = {"case": case, "size": size, "preset": options.preset, "working_size": options.working_size,
                    "brush_scale": options.brush_scale, "seconds": round(seconds, 1), "peak_rss_gb": round(rss, 2),
                    **judged(style, style_map, target, out),
                    "working": working_scores,
                    "upscaled": judged(style, style_map, target, upscaled)}
            results.append(line)
            print(json.dumps(line), flush=True)
            box = (size // 2, size // 3, size // 2 + 512, size // 3 + 320)
            crop(out, box, options.out / f"{case}_print_{size}_crop.png")
            crop(upscaled, box, options.out / f"{case}_upscaled_{size}_crop.png")
    (options.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
