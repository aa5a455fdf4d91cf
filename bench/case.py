"""The benchmark case: Monet's cliffs at Etretat with a label map drawn here by hand (polygons), and a
doodle that mirrors the scene. The painting itself comes from ../shared/samples (not shipped)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SKY, SEA, ROCK, BEACH = (80, 140, 255), (0, 40, 120), (120, 120, 120), (230, 190, 120)
SAMPLE_DIRS = (Path(__file__).resolve().parents[2] / "shared" / "samples",
               Path(__file__).resolve().parents[1] / ".devcarry")


def monet_path() -> Path:
    for folder in SAMPLE_DIRS:
        if (folder / "monet_etretat.jpg").exists():
            return folder / "monet_etretat.jpg"
    raise SystemExit("monet_etretat.jpg not found in ../shared/samples or .devcarry")


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


def write_case(folder: Path) -> tuple[Path, Path, Path]:
    """style, style map, doodle as files (refdoodle and fidelity.py take paths)."""
    folder.mkdir(parents=True, exist_ok=True)
    style_map, doodle = folder / "monet_sem.png", folder / "monet_doodle.png"
    Image.fromarray(monet_map()).save(style_map)
    Image.fromarray(monet_map(mirror=True)).save(doodle)
    return monet_path(), style_map, doodle
