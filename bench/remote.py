"""A render through `doodlepaint serve` on this machine beside the same render in-process.

    python bench/remote.py --device cpu --size 256 --runs 3

Starts the server in its own process on a free localhost port, renders the built-in sample scene
(Draft preset) locally and remotely, alternating, and reports:
- each render's total seconds, request to final image (remote: PNG encode, upload, queue, stream);
- frame latency: from the engine yielding a step (the server stamps it) to the client holding the
  decoded frame, for PNG and raw frames (one clock: both ends are on this machine);
- the server's resident memory after rounds of 20 clients submitting at once, each answered.
The first remote run sends and encodes the painting; later ones find it cached on the server.
"""
from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from doodlepaint.engine import PRESETS, TransferRequest, device_name, pick_device, run_transfer  # noqa: E402
from doodlepaint.engine.images import load_rgb  # noqa: E402
from doodlepaint.engine.labels import load_maps  # noqa: E402
from doodlepaint.engine.sample import sample_paths  # noqa: E402
from doodlepaint.engine.vgg import get_encoder  # noqa: E402
from doodlepaint.client.remote import RemoteServer  # noqa: E402

PREVIEW_INTERVAL = 0.25     # the app's and the server's


def sample_request(size: int, seed: int = 0) -> TransferRequest:
    with sample_paths() as (style_path, style_map_path, doodle_path):
        style = load_rgb(style_path)
        style_ids, target_ids, palette = load_maps(style, style_map_path, doodle_path)
    return TransferRequest(style, style_ids, target_ids, palette, PRESETS["Draft"].replace(size=size, seed=seed))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(device: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "doodlepaint", "serve", "--port", str(port), "--device", device],
                               cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"{url}/health", timeout=1).raise_for_status()
            return process, url
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)


def local_render(request: TransferRequest, device) -> float:
    started = time.perf_counter()
    for _ in run_transfer(request, device=device, preview_interval=PREVIEW_INTERVAL, encoder=get_encoder(device)):
        pass
    return time.perf_counter() - started


def remote_render(server: RemoteServer, request: TransferRequest) -> tuple[float, list[float]]:
    """Total seconds, and the latency of every frame in milliseconds."""
    started = time.perf_counter()
    latencies = []
    for event, frame in server.events(request):
        if frame is not None:
            latencies.append(1000 * (time.time() - event["yielded_at"]))
    return time.perf_counter() - started, latencies


def rss_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_round(server: RemoteServer, request: TransferRequest, clients: int = 20) -> dict:
    """`clients` submit at once; every one is answered (accepted with a place, or refused with a reason)."""
    spec, uploads = server._spec(request)
    with httpx.Client(base_url=server.url) as http:
        for digest, data in uploads.items():
            http.put(f"/images/{digest}", content=data).raise_for_status()
    answers: list = [None] * clients
    barrier = threading.Barrier(clients)

    def client(index):
        barrier.wait()
        answers[index] = httpx.post(f"{server.url}/jobs", json=spec, timeout=30)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    accepted = [a.json()["id"] for a in answers if a.status_code == 202]
    for job in accepted:
        httpx.delete(f"{server.url}/jobs/{job}").raise_for_status()
    return {"accepted": len(accepted), "refused": sum(a.status_code == 503 for a in answers),
            "unanswered": sum(a is None for a in answers), "seconds": round(seconds, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    device = pick_device(args.device)
    request = sample_request(args.size)
    process, url = start_server(args.device)
    try:
        server, raw_server = RemoteServer(url, timeout=60), RemoteServer(url, timeout=60, frames="raw")
        warm = sample_request(64)
        local_render(warm, device)
        remote_render(server, warm)
        local, remote, png_latency, raw_latency = [], [], [], []
        for _ in range(args.runs):
            local.append(local_render(request, device))
            seconds, latencies = remote_render(server, request)
            remote.append(seconds)
            png_latency += latencies
        raw_latency = remote_render(raw_server, request)[1]
        memory = [rss_megabytes(process.pid)]
        load = []
        for seed in range(3):
            load.append(load_round(server, sample_request(64, seed)))
            memory.append(rss_megabytes(process.pid))
    finally:
        process.terminate()
        process.wait(30)

    def summary(values):
        ordered = sorted(values)
        return {"median": round(statistics.median(ordered), 1), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
                "max": round(ordered[-1], 1), "frames": len(ordered)}

    warm_remote = statistics.median(remote[1:]) if len(remote) > 1 else remote[0]
    results = {
        "device": device_name(device), "size": args.size, "preset": "Draft", "runs": args.runs,
        "local_seconds": [round(s, 2) for s in local], "remote_seconds": [round(s, 2) for s in remote],
        "remote_overhead_percent_first": round(100 * (remote[0] / statistics.median(local) - 1), 1),
        "remote_overhead_percent_cached": round(100 * (warm_remote / statistics.median(local) - 1), 1),
        "frame_latency_ms_png": summary(png_latency), "frame_latency_ms_raw": summary(raw_latency),
        "load_rounds_20_clients": load, "server_rss_mb_after_each_round": [round(m) for m in memory],
    }
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
