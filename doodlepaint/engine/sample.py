"""The built-in sample scene (painted by resources/make_sample.py), found through importlib.resources."""
from __future__ import annotations

import contextlib
import importlib.resources
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from doodlepaint.engine.images import load_rgb


@dataclass(frozen=True, eq=False)
class SampleScene:
    style: np.ndarray         # RGB uint8
    style_map: np.ndarray     # RGB uint8 label colours
    doodle: np.ndarray        # RGB uint8 label colours
    names: dict[str, str]     # label name -> "#rrggbb"


def sample_file(name: str):
    return importlib.resources.files("doodlepaint") / "resources" / "sample" / name


@contextlib.contextmanager
def sample_paths():
    """Real file paths of style.png, style_sem.png and doodle.png (works from a zipped install too)."""
    with contextlib.ExitStack() as stack:
        yield tuple(Path(stack.enter_context(importlib.resources.as_file(sample_file(n))))
                    for n in ("style.png", "style_sem.png", "doodle.png"))


def load_sample() -> SampleScene:
    with sample_paths() as (style, style_map, doodle):
        images = load_rgb(style), load_rgb(style_map), load_rgb(doodle)
    names = json.loads(sample_file("labels.json").read_text())
    return SampleScene(*images, names)
