"""The print bench's cases: label maps and doodles made here for two paintings of ../shared/samples.

    python bench/print_case.py        # writes bench/print_case/*.png (committed; run again only to remake them)

- waterlilies: Monet's Water Lilies (1600x1052). Its map is made the way a painter's magic wand would: the
  painting's colours (blurred) in three clusters (water, lily pads, green reflections), cleaned by a
  majority filter. The doodle, drawn here with polygons and ellipses, puts pads along a diagonal over water
  with reflections above and below.
- starrynight: Van Gogh's Starry Night (1024x640), clustered the same way into sky, stars and the dark village
  and cypress; the doodle puts three stars in a sky over dark hills. Held out of tuning until the vote's
  sharpness was tuned on it (BENCHMARKS.md, print size), after which shipwreck took its place.
- shipwreck (held out of tuning): Turner's The Shipwreck (960x662), clustered the same way into dark waves and
  hull, the grey-green sea and sky, and the bright foam and light; the doodle puts a dark hull and a sail
  in a rough sea under a lit sky.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent / "print_case"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
DOODLE_WIDTH = 800
CASES = {
    # name: painting, label colours in cluster order (sorted by brightness, dark first)
    "waterlilies": ("monet_water_lilies.jpg", ((0, 0, 255), (0, 255, 0), (255, 0, 255))),
    "starrynight": ("van_gogh_starry_night.jpg", ((40, 40, 40), (0, 120, 255), (255, 255, 0))),
    "shipwreck": ("turner_shipwreck.jpg", ((60, 30, 0), (0, 160, 160), (255, 240, 200))),
}


def clustered_map(painting: Image.Image, colours, seed: int = 0) -> Image.Image:
    """k-means of the blurred colours at 400 px into len(colours) clusters, ordered dark to bright, then a
    majority filter: regions a painter would fill, not single pixels."""
    small = painting.resize((400, round(400 * painting.height / painting.width)), Image.LANCZOS)
    pixels = np.asarray(small.filter(ImageFilter.GaussianBlur(3)), np.float32).reshape(-1, 3)
    rng = np.random.default_rng(seed)
    centres = pixels[rng.choice(len(pixels), len(colours), replace=False)]
    for _ in range(30):
        nearest = ((pixels[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
        centres = np.stack([pixels[nearest == c].mean(0) if (nearest == c).any() else centres[c]
                            for c in range(len(colours))])
    order = np.argsort(centres.sum(1))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    labels = Image.fromarray(rank[nearest].reshape(small.height, small.width).astype(np.uint8))
    labels = labels.filter(ImageFilter.ModeFilter(9)).filter(ImageFilter.ModeFilter(9))
    palette = np.array(colours, np.uint8)
    return Image.fromarray(palette[np.asarray(labels)]).resize(painting.size, Image.NEAREST)


def waterlilies_doodle(colours) -> Image.Image:
    water, green, pads = colours
    image = Image.new("RGB", (DOODLE_WIDTH, 526), water)
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, 0), (800, 0), (800, 60), (560, 110), (300, 70), (0, 120)], fill=green)
    draw.polygon([(0, 420), (250, 380), (520, 440), (800, 400), (800, 526), (0, 526)], fill=green)
    draw.polygon([(620, 150), (760, 170), (780, 260), (660, 300), (600, 230)], fill=green)
    for x, y, rx, ry in ((110, 200, 80, 30), (260, 250, 95, 35), (420, 300, 110, 38), (600, 340, 90, 30),
                         (200, 330, 60, 22), (470, 190, 70, 25), (700, 430, 70, 22), (90, 460, 50, 18)):
        draw.ellipse([x - rx, y - ry, x + rx, y + ry], fill=pads)
    return image


def starrynight_doodle(colours) -> Image.Image:
    dark, sky, stars = colours
    image = Image.new("RGB", (DOODLE_WIDTH, 500), sky)
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, 360), (200, 320), (420, 350), (640, 300), (800, 330), (800, 500), (0, 500)], fill=dark)
    draw.polygon([(600, 500), (640, 180), (665, 90), (690, 200), (720, 500)], fill=dark)
    for x, y, r in ((150, 120, 45), (380, 200, 35), (520, 80, 55)):
        draw.ellipse([x - r, y - r, x + r, y + r], fill=stars)
    return image


def shipwreck_doodle(colours) -> Image.Image:
    dark, sea, light = colours
    image = Image.new("RGB", (DOODLE_WIDTH, 550), sea)
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, 0), (800, 0), (800, 150), (520, 210), (260, 170), (0, 230)], fill=light)
    draw.polygon([(0, 420), (180, 360), (330, 430), (520, 350), (800, 410), (800, 550), (0, 550)], fill=dark)
    draw.polygon([(330, 330), (560, 300), (520, 380), (360, 390)], fill=dark)          # the hull
    draw.polygon([(420, 310), (440, 120), (520, 300)], fill=dark)                        # the sail
    for x, y, rx, ry in ((150, 330, 90, 18), (610, 330, 120, 22), (300, 470, 110, 20), (700, 480, 70, 15)):
        draw.ellipse([x - rx, y - ry, x + rx, y + ry], fill=light)                      # foam on the crests
    return image


DOODLES = {"waterlilies": waterlilies_doodle, "starrynight": starrynight_doodle, "shipwreck": shipwreck_doodle}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, (painting_file, colours) in CASES.items():
        painting = Image.open(SAMPLES / painting_file).convert("RGB")
        clustered_map(painting, colours).save(HERE / f"{name}_sem.png")
        doodle = DOODLES[name](colours)
        doodle.save(HERE / f"{name}_doodle.png")
        print(f"wrote {name}: map {painting.size[0]}x{painting.size[1]}, doodle {doodle.size[0]}x{doodle.size[1]}")


if __name__ == "__main__":
    main()
