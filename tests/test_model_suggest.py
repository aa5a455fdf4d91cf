"""Suggest Labels: N regions asked gives N labels (fewer only for a painting of fewer colours), over random
paintings, and the relabelling it makes can be undone."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from doodlepaint.engine.sample import load_sample
from doodlepaint.model.document import Document
from doodlepaint.model.suggest import suggest_labels

# derandomize: the same examples on every run (raise max_examples to explore)
SOME = settings(max_examples=60, deadline=None, derandomize=True)


def _painting(seed: int, height: int, width: int, colours: int, layout: str) -> np.ndarray:
    """`colours` random colours (perhaps repeated) laid out as noise, stripes or blocks: specks a smoothing
    filter erases, and regions it keeps."""
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (colours, 3)).astype(np.uint8)
    if layout == "noise":
        ids = rng.integers(0, colours, (height, width))
    elif layout == "stripes":
        ids = np.broadcast_to(np.arange(width) * colours // width, (height, width))
    else:
        ids = np.kron(rng.integers(0, colours, (4, 4)), np.ones((height // 4 + 1, width // 4 + 1), int))
        ids = ids[:height, :width]
    return palette[ids]


def _distinct(rgb: np.ndarray) -> int:
    return len(np.unique(rgb.reshape(-1, 3), axis=0))


paintings = st.builds(_painting, seed=st.integers(0, 2 ** 16), height=st.integers(8, 40),
                      width=st.integers(8, 40), colours=st.integers(1, 12),
                      layout=st.sampled_from(["noise", "stripes", "blocks"]))


@SOME
@given(rgb=paintings, count=st.integers(1, 12))
def test_n_regions_asked_are_n_regions_when_the_painting_has_the_colours(rgb, count):
    ids = suggest_labels(rgb, count)
    assert ids.shape == rgb.shape[:2]
    assert np.array_equal(np.unique(ids), np.arange(min(count, _distinct(rgb))))


@SOME
@given(rgb=paintings, count=st.integers(1, 12), old_labels=st.integers(1, 8), seed=st.integers(0, 2 ** 16))
def test_suggest_labels_leaves_one_label_per_region_and_undoes_exactly(rgb, count, old_labels, seed):
    rng = np.random.default_rng(seed)
    height, width = rgb.shape[:2]
    palette = rng.permutation(256)[:old_labels, None].repeat(3, 1).astype(np.uint8)
    document = Document(rgb, rng.integers(0, old_labels, (height, width)), rng.integers(0, old_labels, (9, 11)),
                        palette, [f"label {i}" for i in range(old_labels)])
    names, doodle_before = list(document.names), document.target_ids.copy()

    relabelling = document.suggest_style_labels(count)

    regions = min(count, _distinct(rgb))
    assert len(document.palette) == len(document.names) == regions
    assert np.array_equal(np.unique(document.style_ids), np.arange(regions))       # every label has a region
    assert document.target_ids.max() < regions
    kept = [names.index(name) for name in document.names if name in names]
    assert kept == sorted(kept)                                    # the labels that stay keep their order
    assert np.array_equal(relabelling.revert(document.target_ids, doodle_before), doodle_before)


def test_four_regions_of_the_sample_are_four_labels_and_the_doodle_follows():
    """The painter's report: the sample's five labels, 4 regions asked, and 5 labels listed."""
    document = Document.from_sample(load_sample())
    names, doodle = list(document.names), document.target_ids.copy()
    relabelling = document.suggest_style_labels(4)
    assert len(document.names) == len(document.palette) == 4 and len(np.unique(document.style_ids)) == 4
    (gone, into), = relabelling.merged()
    assert names[gone] not in document.names
    assert np.all(document.target_ids[doodle == gone] == into)      # the doodle's pixels went with the label
    assert document.names[into] == names[relabelling.backward[into]]
