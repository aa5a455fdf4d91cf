import numpy as np

from doodlepaint.model.painting import Stroke, flood_fill, paint_segment


def test_a_fast_stroke_is_continuous_and_hard_edged():
    ids = np.zeros((40, 100), np.int64)
    paint_segment(ids, (2, 20), (97, 20), size=5, label=3)
    assert set(np.unique(ids)) == {0, 3}
    assert np.all(ids[20, 2:98] == 3)                      # no gaps along the way
    assert np.all(ids[18:23, 10] == 3) and ids[17, 10] == 0 and ids[23, 10] == 0


def test_a_one_pixel_dot_paints_the_pixel_under_the_pointer():
    ids = np.zeros((10, 10), np.int64)
    paint_segment(ids, (4.9, 7.2), (4.9, 7.2), size=1, label=1)
    assert ids.sum() == 1 and ids[7, 4] == 1


def test_a_segment_reports_the_rectangle_it_changed():
    ids = np.zeros((40, 100), np.int64)
    top, left, bottom, right = paint_segment(ids, (10, 10), (30, 20), size=6, label=2)
    rows, cols = np.nonzero(ids)
    assert top <= rows.min() and rows.max() < bottom and left <= cols.min() and cols.max() < right
    assert (bottom - top, right - left) <= (20 + 8, 30 + 8)                  # the segment's box plus the brush
    assert paint_segment(ids, (-20, -20), (-15, -15), size=4, label=1) is None


def test_a_stroke_off_the_canvas_is_clipped():
    ids = np.zeros((10, 10), np.int64)
    paint_segment(ids, (-20, -20), (-15, -15), size=4, label=1)
    paint_segment(ids, (8, 8), (30, 8), size=3, label=2)
    assert ids[8, 9] == 2 and ids.max() == 2


def test_flood_fill_stays_inside_its_region():
    ids = np.zeros((30, 30), np.int64)
    ids[:, 15] = 1                                           # a wall
    ids[5:10, 3:6] = 2                                       # an island
    flood_fill(ids, (2, 2), 4)
    assert np.all(ids[:, :15][ids[:, :15] != 2] == 4)
    assert np.all(ids[:, 16:] == 0) and np.all(ids[5:10, 3:6] == 2)


def test_flood_fill_follows_a_winding_region():
    ids = np.ones((9, 9), np.int64)
    ids[1, 1:8] = ids[1:8, 7] = ids[7, 1:8] = ids[3:8, 1] = ids[3, 1:6] = ids[3:6, 5] = 0   # a spiral path
    flood_fill(ids, (1, 1), 2)
    assert np.count_nonzero(ids == 0) == 0 and np.count_nonzero(ids == 2) > 20


def test_a_stroke_becomes_one_edit_that_undoes_and_redoes():
    ids = np.zeros((20, 20), np.int64)
    stroke = Stroke(ids)
    paint_segment(ids, (2, 2), (10, 2), 3, 1)
    paint_segment(ids, (10, 2), (10, 12), 3, 1)
    painted = ids.copy()
    edit = stroke.finish()
    edit.undo()
    assert not ids.any()
    edit.redo()
    assert np.array_equal(ids, painted)
    assert Stroke(ids).finish() is None
