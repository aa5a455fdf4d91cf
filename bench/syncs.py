"""The host-device synchronisations of a render, counted where they happen (BENCHMARKS.md, "CUDA without a GPU").

    python bench/syncs.py --size 256 --preset Normal --method patch

Renders the monet case on the CPU, with a progress report every round as the app's render thread takes it,
under a dispatch mode that counts every number read back to Python (aten._local_scalar_dense: `.item()`,
`float(t)`, `if t:`, which on CUDA wait for the device) and every data-dependent shape (`nonzero`), per file
and function, and prints them per round and per L-BFGS iteration. L-BFGS decides on the host, so its reads
are the same on a GPU as here; copies between the host and the device need a CUDA device to happen and
are traced on fake CUDA tensors by tests/test_engine_fake_cuda.py instead.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
from collections import Counter
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.case import write_case  # noqa: E402
from doodlepaint.engine import PRESETS, TransferRequest, run_transfer  # noqa: E402
from doodlepaint.engine.images import load_rgb  # noqa: E402
from doodlepaint.engine.labels import load_maps  # noqa: E402

aten = torch.ops.aten
WATCHED = {aten._local_scalar_dense.default: "read", aten.nonzero.default: "shape"}


def where() -> str:
    """The innermost frame in doodlepaint or torch.optim that asked, as file:function."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        path = Path(frame.filename)
        if "doodlepaint" in path.parts or path.parent.name == "optim":
            return f"{path.parent.name}/{path.name}:{frame.name}"
    return "elsewhere"


class Counting(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.counts: Counter = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func in WATCHED:
            self.counts[WATCHED[func], where()] += 1
        return func(*args, **(kwargs or {}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--preset", default="Normal", choices=[name for name in PRESETS if name != "Instant"])
    parser.add_argument("--method", default="patch", choices=["patch", "gram"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        style_path, map_path, doodle_path = write_case(Path(folder))
        style = load_rgb(style_path)
        style_ids, target_ids, palette = load_maps(style, map_path, doodle_path)
    params = PRESETS[args.preset].replace(size=args.size, method=args.method)
    request = TransferRequest(style, style_ids, target_ids, palette, params)
    counting = Counting()
    rounds, iterations, evaluations, first_rounds = 0, 0, 0, Counter()
    total, previous_step, previous_phase = Counter(), 0, 0
    with counting:
        for progress in run_transfer(request, preview_interval=0.5):
            if progress.phase != previous_phase:
                first_rounds += counting.counts       # a phase's set-up (its first evaluation's too)
                previous_step, previous_phase = 0, progress.phase
            else:
                total += counting.counts
                rounds += 1
                iterations += progress.step - previous_step
            previous_step = progress.step
            evaluations = progress.evaluations
            counting.counts = Counter()
    print(f"{args.method} {args.preset} at {args.size} px: {progress.total_step} L-BFGS iterations, "
          f"{evaluations} evaluations in all")
    print(f"phases' first rounds (set-up included), all phases: {dict(first_rounds)}")
    print(f"the other {rounds} rounds ({iterations} iterations), per iteration:")
    for (kind, place), count in sorted(total.items(), key=lambda item: -item[1]):
        print(f"  {kind:5} {place:40} {count / max(iterations, 1):6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
