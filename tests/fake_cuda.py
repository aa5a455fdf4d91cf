"""Tracing the engine's CUDA path without a GPU: fake tensors "on cuda", and a record of every point where
the host would wait for the device.

Not a conftest: import what you need explicitly (``from fake_cuda import ...``).

`FakeTensorMode` gives every tensor made inside it a device, shape and dtype but no data, and raises
`FakeTensorDeviceMismatchError` where a CPU tensor meets a CUDA one (a 0-dim CPU tensor, a scalar, may meet
any device, as on a real GPU). `SyncRecorder` sits above it and notes, with the engine's file, function and
line, each operation that makes a CUDA host wait:

- "read": a number read back to Python (`.item()`, `float(t)`, `if t:`), aten._local_scalar_dense;
- "shape": an output whose shape depends on the data (`nonzero`, boolean indexing), which the host must know;
- "to host": a copy from the GPU to the CPU (a frame's pixels);
- "to device": a copy from the CPU to the GPU; torch makes a blocking one from pageable memory wait for
  the stream (at::cuda::memcpy_and_sync), so these count as synchronisations too.

There is no data to read, so a read is answered with a zero, `nonzero` as if every element were nonzero,
`bincount` as if every id were below its `minlength`, and a copy to the host with real zeros of its shape: the trace goes on past them, and tests check devices,
shapes and where the waits are, never values.
"""
from __future__ import annotations

import contextlib
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import torch
from torch._subclasses.fake_tensor import FakeTensorMode, unset_fake_temporarily
from torch.utils._python_dispatch import TorchDispatchMode

import doodlepaint

aten = torch.ops.aten
PACKAGE = Path(doodlepaint.__file__).parent
COPIES = (aten._to_copy.default, aten.copy_.default, aten.copy.default)
# CUDA kernels that read an error code back to the host before returning (at::_linalg_check_errors)
CHECKED_ON_HOST = (aten._linalg_eigh.default, aten.linalg_cholesky_ex.default, aten.linalg_inv_ex.default)


@dataclass(frozen=True)
class Sync:
    kind: str         # "read", "shape", "to host" or "to device"
    op: str           # the aten operation
    where: str        # "engine/tensors.py:frame_array:148", the innermost doodlepaint frame that asked for it
    after_pass: bool  # a convolution was queued since the last synchronisation: this one waits for it


def _where() -> str:
    frames = traceback.extract_stack()[:-3]
    for frame in reversed(frames):
        path = Path(frame.filename)
        if PACKAGE in path.parents:
            return f"{path.relative_to(PACKAGE).as_posix()}:{frame.name}:{frame.lineno}"
    outside = next(frame for frame in reversed(frames) if Path(__file__).name not in frame.filename)
    return f"{Path(outside.filename).name}:{outside.name}:{outside.lineno}"


def _tensors(value) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors(item)]
    return []


def _data_dependent_shape(func, args) -> bool:
    """nonzero and its kind; indexing only with a boolean mask (integer indices keep their own shape)."""
    if func in (aten.index.Tensor, aten.index_put.default, aten.index_put_.default):
        return any(t.dtype in (torch.bool, torch.uint8) for t in _tensors(args[1]))
    return torch.Tag.dynamic_output_shape in func.tags or torch.Tag.data_dependent_output in func.tags


def _device(value) -> torch.device | None:
    return value.device if isinstance(value, torch.Tensor) else None


def _copy_direction(func, args, kwargs, out) -> str | None:
    if func not in COPIES:
        return None
    source = _device(args[1]) if func is not aten._to_copy.default else _device(args[0])
    target = _device(out) if func is aten._to_copy.default else _device(args[0])
    if source is None or target is None or source.type == target.type:
        return None
    if source.type == "cpu" and args[1 if func is not aten._to_copy.default else 0].dim() == 0:
        return None       # a 0-dim CPU tensor is passed to kernels as a scalar, not copied
    return "to host" if target.type == "cpu" else "to device"


class SyncRecorder(TorchDispatchMode):
    """Notes every operation that would make the host wait for a CUDA device (see the module's notes)."""

    def __init__(self):
        super().__init__()
        self.syncs: list[Sync] = []
        self.pass_queued = False

    def _note(self, kind: str, func) -> None:
        self.syncs.append(Sync(kind, str(func), _where(), self.pass_queued))
        self.pass_queued = False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        on_cuda = any(t.device.type == "cuda" for t in _tensors((args, kwargs)))
        if func is aten._local_scalar_dense.default and on_cuda:
            self._note("read", func)
            dtype = args[0].dtype
            return False if dtype == torch.bool else 0.0 if dtype.is_floating_point else 0
        if on_cuda and (func in CHECKED_ON_HOST or _data_dependent_shape(func, args)):
            self._note("read" if func in CHECKED_ON_HOST else "shape", func)
        if func is aten.nonzero.default:    # answered as if every element were nonzero, the largest shape
            return torch.empty((args[0].numel(), args[0].dim()), dtype=torch.int64, device=args[0].device)
        if func is aten.bincount.default and len(args) == 3 and args[1] is None:   # ids below minlength
            return torch.empty(args[2], dtype=torch.int64, device=args[0].device)
        out = func(*args, **kwargs)
        direction = _copy_direction(func, args, kwargs, out)
        if direction:
            self._note(direction, func)
        elif on_cuda and func is aten.convolution.default:
            self.pass_queued = True
        if direction == "to host":      # real zeros, so that .numpy() works on what comes back
            with unset_fake_temporarily():
                return torch.zeros(out.shape, dtype=out.dtype)
        return out

    def take(self) -> list[Sync]:
        """The synchronisations recorded since the last take."""
        taken, self.syncs = self.syncs, []
        return taken


class OneEvaluation:
    """A stand-in for torch.optim.LBFGS: one evaluation of the loss and its gradient per round, and a small
    gradient step. L-BFGS itself decides its line search on the host (it reads the loss and gradient norms
    several times a step, BENCHMARKS.md lists them), which fake tensors cannot answer; the engine's loop
    around it runs as it does on a GPU."""

    def __init__(self, params, **options):
        self.params = list(params)
        self.param_groups = [dict(options)]
        self.state: dict = {}

    def zero_grad(self):
        for param in self.params:
            param.grad = None

    def step(self, closure):
        loss = closure()
        with torch.no_grad():
            for param in self.params:
                param.sub_(param.grad, alpha=1e-3)
                state = self.state.setdefault(param, {"n_iter": 0})
                state["n_iter"] += self.param_groups[0]["max_iter"]
        return loss


# torch.cuda's memory statistics need a real device: the engine's seam (device.cuda_memory) gets these.
NO_MEMORY_STATS = SimpleNamespace(reset_peak_memory_stats=lambda device=None: None,
                                  max_memory_allocated=lambda device=None: 0, empty_cache=lambda: None)


def to_fake_cuda(mode: FakeTensorMode, module: torch.nn.Module) -> torch.nn.Module:
    """`module` with its parameters and buffers as fake CUDA tensors (the module itself is changed).

    Call it inside `mode` on a network loaded before entering it: loading reads the weights' bytes, which
    a fake tensor does not have. The state dict is swapped in with load_state_dict(assign=True)."""
    state = {name: mode.from_tensor(tensor).to("cuda") for name, tensor in module.state_dict().items()}
    module.load_state_dict(state, assign=True)
    return module


def backward_by_hand(tensor: torch.Tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Tensor.backward for fake CUDA tensors: each autograd node called in turn, the leaves' .grad filled in.

    torch's autograd engine asks the CUDA driver about the device's context before it runs a CUDA graph,
    which fails without a GPU (pytorch/pytorch#92627); the nodes themselves run on fake tensors, each
    backward operation checked by the fake mode like any other."""
    order, seen, stack = [], set(), [(tensor.grad_fn, False)]
    while stack:                      # depth-first, each node after everything it feeds
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif node is not None and node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((following, False) for following, _ in node.next_functions)
    grads = {tensor.grad_fn: [torch.ones_like(tensor) if gradient is None else gradient]}
    for node in reversed(order):
        incoming = grads.pop(node, None)
        if incoming is None:
            continue
        if hasattr(node, "variable"):             # AccumulateGrad: a leaf
            leaf = node.variable
            leaf.grad = incoming[0] if leaf.grad is None else leaf.grad + incoming[0]
            continue
        incoming = [torch.zeros(meta.shape, dtype=meta.dtype, device=meta.device) if grad is None else grad
                    for grad, meta in zip(incoming, node._input_metadata)]
        outgoing = node(*incoming)
        outgoing = (outgoing,) if isinstance(outgoing, torch.Tensor) or outgoing is None else outgoing
        for (following, slot), grad in zip(node.next_functions, outgoing):
            if following is None or grad is None:
                continue
            slots = grads.setdefault(following, [None] * len(following._input_metadata))
            slots[slot] = grad if slots[slot] is None else slots[slot] + grad


def fake_cuda_mode() -> FakeTensorMode:
    """A mode in which tensors made "on cuda" are fake. Arrays from numpy come in as real CPU tensors and
    are made fake where first used (allow_non_fake_inputs). A data-dependent shape other than nonzero's
    and bincount's raises (DynamicOutputShapeException): SyncRecorder would need to learn to answer it."""
    return FakeTensorMode(allow_non_fake_inputs=True)


@contextlib.contextmanager
def recording(mode: FakeTensorMode):
    """Inside `mode`, with a SyncRecorder above it; yields the recorder."""
    recorder = SyncRecorder()
    with mode, recorder:
        yield recorder
