"""The benchmark cases, label maps drawn here by hand (polygons); the paintings come from
../shared/samples (not shipped).

- monet (the speed benchmark): Monet's cliffs at Etretat, the doodle mirrors the scene.
- renoir: Renoir's river landscape, the doodle mirrors it (its bands of sky, trees, water and grass stay).
- renoir-upside-down: the same doodle upside down, sky at the bottom: a layout the painting never shows.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SKY, SEA, ROCK, BEACH = (80, 140, 255), (0, 40, 120), (120, 120, 120), (230, 190, 120)
RENOIR_SKY, TREE, WATER, GRASS = (200, 220, 255), (20, 90, 20), (40, 60, 200), (200, 200, 40)
CASES = ("monet", "renoir", "renoir-upside-down")
SAMPLE_DIRS = (Path(__file__).resolve().parents[2] / "shared" / "samples",
               Path(__file__).resolve().parents[1] / ".devcarry")


def sample_path(name: str) -> Path:
    for folder in SAMPLE_DIRS:
        if (folder / name).exists():
            return folder / name
    raise SystemExit(f"{name} not found in ../shared/samples or .devcarry")


def monet_map(mirror: bool = False) -> np.ndarray:
    image = Image.new("RGB", (512, 384), SKY)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 264, 512, 384], fill=SEA)
    draw.polygon([(230, 384), (300, 330), (400, 300), (512, 325), (512, 384)], fill=BEACH)
    draw.polygon([(85, 282), (95, 230), (110, 170), (122, 105), (135, 88), (158, 95), (175, 150), (185, 200),
                  (192, 282)], fill=ROCK)
    draw.polygon([(266, 280), (272, 235), (298, 185), (336, 128), (346, 128), (346, 170), (322, 200), (308, 240),
                  (306, 280)], fill=ROCK)
    draw.polygon([(340, 282), (340, 60), (355, 35), (400, 32), (465, 40), (470, 0), (512, 0), (512, 320),
                  (470, 312), (420, 300), (385, 282)], fill=ROCK)
    if mirror:
        image = image.transpose(Image.FLIP_LEFT_RIGHT)
    return np.asarray(image)


def renoir_map() -> np.ndarray:
    image = Image.new("RGB", (512, 320), RENOIR_SKY)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 170, 512, 320], fill=WATER)
    draw.polygon([(60, 115), (150, 110), (270, 120), (270, 170), (60, 175)], fill=TREE)
    draw.polygon([(180, 150), (270, 90), (330, 75), (400, 65), (450, 80), (512, 100), (512, 215), (280, 215),
                  (180, 175)], fill=TREE)
    draw.polygon([(0, 40), (40, 50), (60, 90), (70, 200), (50, 280), (0, 290)], fill=TREE)
    draw.polygon([(0, 300), (150, 272), (300, 255), (512, 245), (512, 320), (0, 320)], fill=GRASS)
    draw.polygon([(60, 175), (270, 170), (280, 185), (60, 190)], fill=GRASS)
    return np.asarray(image)


def write_case(folder: Path, case: str = "monet") -> tuple[Path, Path, Path]:
    """style, style map, doodle as files (refdoodle and fidelity.py take paths)."""
    folder.mkdir(parents=True, exist_ok=True)
    style_map, doodle = folder / f"{case}_sem.png", folder / f"{case}_doodle.png"
    if case == "monet":
        style, drawn = sample_path("monet_etretat.jpg"), monet_map()
        doodled = monet_map(mirror=True)
    else:
        style, drawn = sample_path("renoir_landscape.jpg"), renoir_map()
        doodled = drawn[:, ::-1] if case == "renoir" else drawn[::-1, ::-1]
    Image.fromarray(drawn).save(style_map)
    Image.fromarray(np.ascontiguousarray(doodled)).save(doodle)
    return style, style_map, doodle
