"""Score variants of the print synthesis on a print case: one synthesis each, from one working render.

    python bench/print_variants.py waterlilies 2048 "vote_sigma=0.5" "vote_sigma=0.5, guide_cell=3.0" \
        "vote_sigma=0.5, COHERENCE_WEIGHT=1.0"

The working render is the Instant one at 512 px (made once per case with `doodlepaint render`, kept under
--out). Each variant is keyword arguments for SynthesisParams (on top of the print's patch size, gamma 50 and
seed 0) plus, in capitals, engine.synthesis constants to set for that variant. Prints one JSON line per variant:
its synthesis seconds, and fidelity and detail (../shared/tools) at the print's own scale, per label too.
The pictures stay under --out to be looked at.
"""
from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from print import CASE_DIR, doodle_at, score  # noqa: E402
from print_case import CASES, SAMPLES  # noqa: E402

from doodlepaint.engine import synthesis  # noqa: E402
from doodlepaint.engine.images import load_rgb  # noqa: E402
from doodlepaint.engine.labels import load_maps  # noqa: E402
from doodlepaint.engine.params import TransferParams, TransferRequest  # noqa: E402
from doodlepaint.engine.print_size import PRINT_PATCH_SIZE, print_labels  # noqa: E402


def variant(text: str) -> dict:
    """`a=1, B=2.0` -> {"a": 1, "B": 2.0}: Python literals only."""
    call = ast.parse(f"f({text})", mode="eval").body
    return {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", choices=list(CASES))
    parser.add_argument("size", type=int)
    parser.add_argument("variants", nargs="+", help="SynthesisParams keywords and CONSTANTS, e.g. 'vote_sigma=0.5'")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "print_variants")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    style_path = SAMPLES / CASES[options.case][0]
    style_map, doodle = CASE_DIR / f"{options.case}_sem.png", CASE_DIR / f"{options.case}_doodle.png"
    working = options.out / f"{options.case}_working_512.png"
    if not working.exists():
        subprocess.run([sys.executable, "-m", "doodlepaint", "render", "--style", str(style_path), "--style-map",
                        str(style_map), "--target-map", str(doodle), "--preset", "Instant", "--size", "512",
                        "--out", str(working), "--quiet", "--force"], cwd=ROOT, check=True)
    style = load_rgb(style_path, "painting")
    style_ids, target_ids, palette = load_maps(style, style_map, doodle)
    labels = print_labels(TransferRequest(style, style_ids, target_ids, palette, TransferParams(size=options.size)))
    guide = np.asarray(Image.open(working).convert("RGB"))
    target = doodle_at(doodle, options.size, options.out)
    for number, text in enumerate(options.variants):
        given = variant(text)
        constants = {name: value for name, value in given.items() if name.isupper()}
        keywords = {"gamma": 50.0, "patch_size": PRINT_PATCH_SIZE, "seed": 0,
                    **{name: value for name, value in given.items() if not name.isupper()}}
        saved = {name: getattr(synthesis, name) for name in constants}
        for name, value in constants.items():
            setattr(synthesis, name, value)
        try:
            started = time.perf_counter()
            image, _ = synthesis.synthesise_image(style, style_ids, labels, guide, synthesis.SynthesisParams(**keywords))
            seconds = time.perf_counter() - started
        finally:
            for name, value in saved.items():
                setattr(synthesis, name, value)
        out = options.out / f"{options.case}_{options.size}_variant{number}.png"
        Image.fromarray(image).save(out)
        print(json.dumps({"case": options.case, "size": options.size, "variant": text, "seconds": round(seconds, 1),
                          "fidelity": score("fidelity.py", style_path, style_map, target, out),
                          "detail": score("detail.py", style_path, style_map, target, out), "picture": str(out)}),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
