"""Expensive per-painting state (its encoded features and patch banks) built once and reused.

Keys carry a fingerprint of the painting's pixels, its label map and palette (and the encoder object
itself, not its id, which a later encoder could reuse), so a key changes exactly
when an input changes: a render of the same painting with a new doodle reuses the painting's state, and a
corrected painting map builds it again. A few entries are kept, within a memory budget (a 1024 px
painting's patch bank alone is about a gigabyte), least recently used first out.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

import numpy as np
import torch

T = TypeVar("T")


def fingerprint(*arrays: np.ndarray) -> str:
    """A digest of the arrays' shapes, types and bytes: cheap beside any render, so every render takes one
    (BENCHMARKS.md, Figures behind constants)."""
    digest = hashlib.blake2b(digest_size=16)
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.data)
    return digest.hexdigest()


def tensor_bytes(value, seen: set[int] | None = None) -> int:
    """The bytes of the tensors held by a value: through tuples, lists, dicts and objects' attributes."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, torch.Tensor):
        return value.nbytes
    if isinstance(value, dict):
        return sum(tensor_bytes(item, seen) for item in value.values())
    if isinstance(value, (tuple, list)):
        return sum(tensor_bytes(item, seen) for item in value)
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return tensor_bytes(vars(value), seen)
    return 0


class StyleCache:
    def __init__(self, capacity: int = 6, budget: int = 1_500_000_000):
        self.capacity, self.budget = capacity, budget
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
        self._lock = threading.Lock()        # the app's render thread and a server's worker share it
        self.builds = 0

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = build()
        size = tensor_bytes(value)
        with self._lock:
            self.builds += 1
            self._entries[key], self._sizes[key] = value, size
            # the newest entry always stays, even alone over the budget: the render in progress needs it
            while len(self._entries) > 1 and (len(self._entries) > self.capacity
                                              or sum(self._sizes.values()) > self.budget):
                oldest, _ = self._entries.popitem(last=False)
                del self._sizes[oldest]
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._sizes.clear()


style_cache = StyleCache()
