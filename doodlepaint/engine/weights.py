"""One file format, one reader and one writer for every network doodlepaint trains and ships.

A weights file is a safetensors file: the tensors in half precision, and as metadata the network's kind,
the settings that shape it (a decoder's layer and width, say) and its training record. Safetensors holds
no code, so reading a file from anywhere runs nothing; the record is read without loading the tensors.
"""
from __future__ import annotations

import json
import logging
import struct
from collections.abc import Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from doodlepaint.engine.errors import DoodleError

log = logging.getLogger(__name__)
HEADER_LIMIT = 100 * 1024 * 1024    # a header larger than this is not a weights file of ours


def weights_bytes(model: torch.nn.Module, kind: str, settings: dict, record: dict) -> bytes:
    """The model's weights in half precision, with its kind, settings and training record, as bytes for an
    atomic write."""
    state = {name: (tensor.half() if tensor.is_floating_point() else tensor).contiguous()
             for name, tensor in model.state_dict().items()}
    return save_tensors(state, {"kind": kind, "settings": json.dumps(settings), "record": json.dumps(record)})


def weights_metadata(data: bytes, kind: str, where: str, remedy: str) -> dict:
    """The kind, settings and record of a weights file, read from its header alone."""
    try:
        if len(data) < 8:
            raise ValueError("shorter than a header")
        (length,) = struct.unpack("<Q", data[:8])
        if length > min(HEADER_LIMIT, len(data) - 8):
            raise ValueError("header length beyond the file")
        metadata = json.loads(data[8:8 + length])["__metadata__"]
        found = {"kind": metadata["kind"], "settings": json.loads(metadata["settings"]),
                 "record": json.loads(metadata["record"])}
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise _damaged(kind, where, remedy, error) from error
    if found["kind"] != kind:
        raise DoodleError(f"the {kind} weights {where} are {found['kind']} weights, not {kind}: {remedy}")
    return found


def load_network(data: bytes, kind: str, where: str, remedy: str,
                 build: Callable[[dict], torch.nn.Module]) -> torch.nn.Module:
    """A network of `kind` from weights bytes, built by `build(settings)` and in float32, frozen, in eval
    mode. A damaged file, or one of another kind or shape, is a DoodleError naming `where` and the remedy."""
    metadata = weights_metadata(data, kind, where, remedy)
    try:
        state = load_tensors(data)
        model = build(metadata["settings"])
        model.load_state_dict({name: tensor.float() if tensor.is_floating_point() else tensor
                               for name, tensor in state.items()})
    except (SafetensorError, ValueError, KeyError, TypeError) as error:
        raise _damaged(kind, where, remedy, error) from error
    except RuntimeError as error:          # load_state_dict: missing, unexpected or mis-shaped tensors
        raise DoodleError(f"the {kind} weights {where} are of another version of the network: {remedy}") from error
    if not all(torch.isfinite(p).all() for p in model.state_dict().values() if p.is_floating_point()):
        raise DoodleError(f"the {kind} weights {where} hold NaN or infinite numbers: {remedy}")
    model.requires_grad_(False)
    return model.eval()


def _damaged(kind: str, where: str, remedy: str, error: Exception) -> DoodleError:
    log.warning("could not read the %s weights %s", kind, where, exc_info=error)
    return DoodleError(f"the {kind} weights {where} are damaged or not a weights file "
                       f"({error.__class__.__name__}): {remedy}")
