"""Paints doodlepaint's built-in sample scene: a small seaside "painting", its label map and a doodle.

Everything is drawn here from seeded random brush strokes, so the project ships only images it made
itself. Run from the repository root:  python resources/make_sample.py
Writes doodlepaint/resources/sample/{style.png, style_sem.png, doodle.png, labels.json}.
"""
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 512, 384
OUT = Path(__file__).resolve().parent.parent / "doodlepaint" / "resources" / "sample"
# label name -> (map colour, base paint colours, stroke angle range in degrees, stroke length)
LABELS = {
    "sky": ((120, 180, 240), [(170, 200, 230), (215, 225, 235), (140, 175, 220), (240, 230, 215)], (-10, 10), 26),
    "sea": ((20, 40, 140), [(30, 70, 120), (50, 100, 150), (20, 50, 90), (120, 160, 190)], (-4, 4), 18),
    "cliff": ((150, 90, 40), [(170, 120, 70), (130, 85, 50), (200, 160, 110), (100, 70, 50)], (70, 110), 14),
    "grass": ((60, 160, 60), [(90, 130, 50), (60, 100, 40), (140, 160, 70), (40, 80, 40)], (30, 60), 10),
    "sand": ((240, 220, 130), [(225, 200, 150), (235, 215, 170), (200, 170, 120), (245, 235, 200)], (-20, 20), 6),
}


def style_layout(x, y):
    """Label index per pixel of the style painting: horizon, a cliff on the right, a beach below."""
    horizon = 0.42 * HEIGHT + 6 * np.sin(x / 40.0)
    cliff_edge = 0.62 * WIDTH - 0.35 * (y - 0.2 * HEIGHT) + 10 * np.sin(y / 17.0)
    beach = 0.80 * HEIGHT - 0.08 * x + 5 * np.sin(x / 23.0)
    ids = np.zeros(x.shape, np.int64)                                  # sky
    ids[y > horizon] = 1                                               # sea
    cliff = (x > cliff_edge) & (y > 0.18 * HEIGHT)
    ids[cliff] = 2
    ids[cliff & (y < 0.18 * HEIGHT + 22 + 6 * np.sin(x / 11.0))] = 3  # grass on the cliff top
    ids[(y > beach) & ~cliff] = 4
    return ids


def doodle_layout(x, y):
    """The same labels rearranged: a cliff on the left, a lower horizon, a beach on the right."""
    horizon = 0.55 * HEIGHT + 8 * np.sin(x / 55.0)
    cliff_edge = 0.30 * WIDTH + 0.30 * (y - 0.3 * HEIGHT) + 8 * np.sin(y / 19.0)
    beach = 0.72 * HEIGHT + 0.12 * (WIDTH - x) * 0.5 + 4 * np.sin(x / 29.0)
    ids = np.zeros(x.shape, np.int64)
    ids[y > horizon] = 1
    cliff = (x < cliff_edge) & (y > 0.28 * HEIGHT)
    ids[cliff] = 2
    ids[cliff & (y < 0.28 * HEIGHT + 20 + 5 * np.sin(x / 13.0))] = 3
    ids[(y > beach) & ~cliff & (x > 0.45 * WIDTH)] = 4
    return ids


def paint(ids, rng):
    """Fill each region with its mean colour, then cover it with short brush strokes of its palette."""
    names = list(LABELS)
    canvas = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    for index, name in enumerate(names):
        canvas[ids == index] = LABELS[name][1][0]
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    for _ in range(26000):
        px, py = rng.integers(0, WIDTH), rng.integers(0, HEIGHT)
        name = names[ids[py, px]]
        _, colours, (lo, hi), length = LABELS[name]
        angle = np.deg2rad(rng.uniform(lo, hi))
        size = length * rng.uniform(0.5, 1.3)
        dx, dy = np.cos(angle) * size / 2, np.sin(angle) * size / 2
        base = np.array(colours[rng.integers(len(colours))], float) + rng.normal(0, 10, 3)
        colour = tuple(int(v) for v in np.clip(base, 0, 255))
        draw.line([(px - dx, py - dy), (px + dx, py + dy)], fill=colour, width=int(rng.integers(2, 5)))
    return image.filter(ImageFilter.SMOOTH)


def label_image(ids):
    colours = np.array([LABELS[name][0] for name in LABELS], np.uint8)
    return Image.fromarray(colours[ids])


def main():
    rng = np.random.default_rng(1871)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    style_ids, doodle_ids = style_layout(x, y), doodle_layout(x, y)
    OUT.mkdir(parents=True, exist_ok=True)
    paint(style_ids, rng).save(OUT / "style.png", optimize=True)
    label_image(style_ids).save(OUT / "style_sem.png", optimize=True)
    label_image(doodle_ids).save(OUT / "doodle.png", optimize=True)
    names = {name: "#%02x%02x%02x" % LABELS[name][0] for name in LABELS}
    (OUT / "labels.json").write_text(json.dumps(names, indent=2) + "\n")


if __name__ == "__main__":
    main()
