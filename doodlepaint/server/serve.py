"""`doodlepaint serve`: its options, its safety checks, and uvicorn."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from doodlepaint.engine.errors import DoodleError
from doodlepaint.engine.images import open_regular_file
from doodlepaint.engine.memory import available_memory, gigabytes, memory_amount
from doodlepaint.engine.params import ENCODER_WEIGHTS

DEFAULT_PORT = 8765


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only); any other needs --token-file")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--device", default="auto", help="auto (CUDA, else MPS, else CPU), cuda, cuda:N, mps or cpu")
    parser.add_argument("--token-file", type=Path,
                        help="a file holding the secret clients must send (e.g. `openssl rand -hex 32 > FILE`)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="a name clients reach this machine by, besides localhost and --host (repeatable); "
                             "any other Host header is refused")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="URL",
                        help="a web page origin (e.g. https://studio.example) allowed to call the server from a "
                             "browser (repeatable); pages from any other origin are refused")
    parser.add_argument("--max-memory", type=memory_amount, metavar="AMOUNT",
                        help="refuse jobs whose estimated peak memory is over AMOUNT (e.g. 8G; default: the "
                             "memory free when the server starts, or the GPU's)")
    parser.add_argument("--queue-limit", type=int, default=8, help="jobs that may wait behind the running one")
    parser.add_argument("--weights", choices=ENCODER_WEIGHTS, default=ENCODER_WEIGHTS[0], help="VGG19 weights")


def read_token(path: Path | None, host: str) -> str | None:
    """The token, or None on loopback without one; refuses to expose the engine to a network without one."""
    from doodlepaint.wire import is_loopback      # pydantic: not loaded for `doodlepaint render`

    if path is None:
        if not is_loopback(host):
            raise DoodleError(f"--host {host} lets other machines in: give --token-file FILE with a secret "
                              "(e.g. `openssl rand -hex 32 > FILE`), or leave --host at 127.0.0.1")
        return None
    try:
        with open_regular_file(path, "--token-file", DoodleError) as file:
            token = file.read(4096).decode().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise DoodleError(f"cannot read --token-file {path}: {getattr(error, 'strerror', None) or error}") from error
    if len(token) < 16 or any(c.isspace() for c in token):
        raise DoodleError(f"the token in {path} must be one word of at least 16 characters")
    return token


def job_memory_budget(device) -> int | None:
    """What a job may use when no --max-memory is given: what is free now, with the encoder loaded."""
    if device.type == "cuda":
        import torch

        return torch.cuda.mem_get_info(device)[0]
    return available_memory()


def run_serve(args) -> int:
    import uvicorn

    from doodlepaint.engine import device_name, pick_device
    from doodlepaint.engine.vgg import get_encoder
    from doodlepaint.server.app import ServerConfig, create_app
    from doodlepaint.server.guard import allowed_hosts

    token = read_token(args.token_file, args.host)
    if not 1 <= args.port <= 65535:
        raise DoodleError(f"--port must be between 1 and 65535, not {args.port}")
    if args.queue_limit < 1:
        raise DoodleError("--queue-limit must be at least 1")
    device = pick_device(args.device)
    encoder = get_encoder(device, args.weights)
    budget = args.max_memory or job_memory_budget(device)
    app = create_app(ServerConfig(device, encoder, token, queue_limit=args.queue_limit, memory_budget=budget,
                                  allowed_hosts=allowed_hosts(args.host, args.allow_host),
                                  allowed_origins=tuple(args.allow_origin)))
    print(f"doodlepaint serving on http://{args.host}:{args.port} with {device_name(device)}"
          f"{'' if token is None else ' (token required)'}"
          f"{'' if budget is None else f', jobs up to {gigabytes(budget)} of memory'}", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws_max_size=1024 * 1024)
    return 0
