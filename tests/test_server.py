"""The render server, through its real HTTP and WebSocket stack on a localhost port (no network mocks)."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import threading
import time

import httpx
import numpy as np
import pytest
from PIL import Image

from doodlepaint.cli import main
from doodlepaint.engine import DoodleError, run_transfer
from doodlepaint.server.serve import read_token
from doodlepaint.client.remote import RemoteServer

from doubles import TinyEncoder
from server_helpers import running_server

TOKEN = "s3cret-token-for-the-tests-0123456789"


@pytest.fixture
def tiny_request(tiny_document):
    tiny_document.params = tiny_document.params.replace(size=32, phases=1, iterations=4, match_every=1)
    return tiny_document.request()


def _slow(tiny_request):
    """A render that runs for seconds, so it can be cancelled or queued behind."""
    return dataclasses.replace(tiny_request, params=tiny_request.params.replace(iterations=400))


def _png(rgb) -> bytes:
    encoded = io.BytesIO()
    Image.fromarray(rgb).save(encoded, format="PNG")
    return encoded.getvalue()


def _upload(http: httpx.Client, rgb) -> str:
    data = _png(rgb)
    digest = hashlib.sha256(data).hexdigest()
    http.put(f"/images/{digest}", content=data).raise_for_status()
    return digest


def _job_spec(http: httpx.Client, request, **overrides) -> dict:
    spec = {"style": _upload(http, request.style), "style_map": _upload(http, request.palette[request.style_labels]),
            "target_map": _upload(http, request.palette[request.target_labels]),
            "size": 32, "phases": 1, "iterations": 400, "match_every": 1}
    spec.update(overrides)
    return spec


def _wait_state(http: httpx.Client, job_id: str, state: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while http.get(f"/jobs/{job_id}").json()["type"] != state:
        assert time.monotonic() < deadline, f"job {job_id} never became {state}"
        time.sleep(0.02)


def test_health_names_the_device_and_the_version(tiny_encoder):
    with running_server(tiny_encoder) as url:
        health = httpx.get(f"{url}/health").json()
    assert health["device"] == "cpu" and health["device_name"] == "CPU"
    assert health["version"] and health["waiting"] == 0 and health["token_required"] is False


def test_a_remote_render_streams_frames_and_matches_a_local_one(tiny_request, tiny_encoder):
    local = [p for p in run_transfer(tiny_request, encoder=TinyEncoder(), preview_interval=0.0)][-1]
    with running_server(tiny_encoder) as url:
        assert RemoteServer(url).frames == "raw" and RemoteServer("http://studio-pc:8765").frames == "png"
        steps = list(RemoteServer(url, frames="png").run_transfer(tiny_request))
        frames = [p for p in steps if p.frame is not None]
        assert len(frames) >= 3 and steps[-1].done and steps[-1].message.startswith("Rendering on CPU at 127.0.0.1")
        assert np.abs(steps[-1].frame.astype(int) - local.frame.astype(int)).max() <= 1
        assert [p.total_step for p in steps] == sorted(p.total_step for p in steps)


def test_the_result_png_carries_its_parameters(tiny_request, tiny_encoder):
    with running_server(tiny_encoder) as url:
        events = list(RemoteServer(url, frames="raw").events(tiny_request))
        job_id = events[0][1] is None and events[0][0]["id"]
        png = httpx.get(f"{url}/jobs/{job_id}/result")
    assert png.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(png.content)) as image:
        metadata = json.loads(image.text["doodlepaint"])
        assert image.size == (32, 32)
    assert metadata["params"]["iterations"] == 4 and metadata["params"]["size"] == 32
    assert events[-1][1].shape == (32, 32, 3)


class CountingEncoder(TinyEncoder):
    """Counts the encodings made without gradients: the painting's (and content's) features."""

    def __init__(self):
        super().__init__()
        self.feature_encodings = 0

    def __call__(self, rgb, layers):
        self.feature_encodings += not rgb.requires_grad
        return super().__call__(rgb, layers)


def test_the_painting_is_sent_once_and_encoded_once(tiny_request):
    encoder = CountingEncoder()
    with running_server(encoder) as url:
        server = RemoteServer(url)
        list(server.run_transfer(tiny_request))
        assert encoder.feature_encodings == 1
        sent = []
        with httpx.Client(base_url=url, event_hooks={"request": [lambda r: sent.append(r.method)]}) as http:
            spec, _ = server._spec(tiny_request)
            job = http.post("/jobs", json=spec)
            assert job.status_code == 202 and sent == ["POST"]             # nothing uploaded again
            _wait_state(http, job.json()["id"], "done")
        assert encoder.feature_encodings == 1                             # nor encoded again
        stroke = tiny_request.target_labels.copy()
        stroke[:4, :4] = 1 - stroke[:4, :4]
        list(server.run_transfer(dataclasses.replace(tiny_request, target_labels=stroke)))
        assert encoder.feature_encodings == 1                             # a new doodle, the same painting


def test_cancel_stops_the_running_job_and_the_next_one_runs(tiny_request):
    with running_server(TinyEncoder(delay=0.02)) as url:
        stop = threading.Event()
        seen = []
        for event, _ in RemoteServer(url).events(_slow(tiny_request), stop.is_set):
            seen.append(event)
            if event["type"] == "progress":
                stop.set()
        with httpx.Client(base_url=url) as http:
            _wait_state(http, seen[0]["id"], "cancelled")
            assert http.get(f"/jobs/{seen[0]['id']}/result").status_code == 409
        assert RemoteServer(url).health()["running"] is False
        assert list(RemoteServer(url).run_transfer(tiny_request))[-1].done


def test_a_missing_or_wrong_token_is_refused(tiny_request, tiny_encoder):
    with running_server(tiny_encoder, token=TOKEN) as url:
        assert httpx.get(f"{url}/health").status_code == 200       # load balancers probe without the token
        missing = httpx.post(f"{url}/jobs", json={})
        wrong = httpx.post(f"{url}/jobs", json={}, headers={"Authorization": "Bearer nope"})
        assert missing.status_code == 401 and "needs a token" in missing.json()["detail"]
        assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong token"
        with pytest.raises(DoodleError, match="refused the token"):
            list(RemoteServer(url, token="wrong-token").run_transfer(tiny_request))
        assert list(RemoteServer(url, token=TOKEN).run_transfer(tiny_request))[-1].done


def test_the_event_stream_needs_the_token_too(tiny_request, tiny_encoder):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with running_server(tiny_encoder, token=TOKEN) as url:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            job = http.post("/jobs", json=_job_spec(http, tiny_request, iterations=2)).json()
        with pytest.raises(InvalidStatus):
            connect(f"{url.replace('http', 'ws')}/jobs/{job['id']}/events").close()


def test_an_oversize_image_or_request_is_refused(tiny_encoder):
    big = np.zeros((100, 100, 3), np.uint8)
    with running_server(tiny_encoder, max_pixels=64 * 64, max_upload_bytes=4096) as url:
        with httpx.Client(base_url=url) as http:
            data = _png(big)
            response = http.put(f"/images/{hashlib.sha256(data).hexdigest()}", content=data)
            assert response.status_code == 422 and "100x100 pixels: at most 4096" in response.json()["detail"]
            noise = np.random.default_rng(0).integers(0, 255, (60, 60, 3), dtype=np.uint8)
            data = _png(noise)
            response = http.put(f"/images/{hashlib.sha256(data).hexdigest()}", content=data)
            assert response.status_code == 413 and "at most 4096 are accepted" in response.json()["detail"]
            assert http.put(f"/images/{'0' * 64}", content=b"not an image").status_code == 400   # hash mismatch
            garbage = b"\x89PNG\r\n\x1a\n broken"
            response = http.put(f"/images/{hashlib.sha256(garbage).hexdigest()}", content=garbage)
            assert response.status_code == 422 and "not a readable image" in response.json()["detail"]


def test_bad_jobs_get_one_clear_line(tiny_request, tiny_encoder):
    with running_server(tiny_encoder) as url, httpx.Client(base_url=url) as http:
        spec = _job_spec(http, tiny_request)
        cases = {"patch_size": 4, "phases": 9, "path": "/etc/passwd", "size": 100_000}
        for name, value in cases.items():
            response = http.post("/jobs", json={**spec, name: value})
            assert response.status_code == 422, name
            assert name.replace("_", " ") in response.json()["detail"] or name in response.json()["detail"]
        wrong_colour = tiny_request.palette[tiny_request.target_labels].copy()
        wrong_colour[:8, :8] = (0, 255, 0)
        response = http.post("/jobs", json={**spec, "target_map": _upload(http, wrong_colour)})
        assert response.status_code == 422 and "#00ff00" in response.json()["detail"]
        response = http.post("/jobs", json={**spec, "content": "a" * 64})
        assert response.status_code == 409 and response.json()["missing"] == ["a" * 64]


def test_a_full_queue_refuses_and_a_cancel_frees_a_place(tiny_request):
    with running_server(TinyEncoder(delay=0.02), queue_limit=1) as url, httpx.Client(base_url=url) as http:
        spec = _job_spec(http, tiny_request)
        running = http.post("/jobs", json=spec).json()
        _wait_state(http, running["id"], "running")
        waiting = http.post("/jobs", json=spec).json()
        assert waiting["place"] == 1
        full = http.post("/jobs", json=spec)
        assert full.status_code == 503 and "queue is full" in full.json()["detail"]
        assert http.delete(f"/jobs/{waiting['id']}").json()["type"] == "cancelled"
        assert http.post("/jobs", json=spec).status_code == 202
        http.delete(f"/jobs/{running['id']}")


def test_the_queue_reports_each_place_over_the_stream(tiny_request):
    with running_server(TinyEncoder(delay=0.02), queue_limit=2) as url, httpx.Client(base_url=url) as http:
        spec = _job_spec(http, tiny_request)
        first = http.post("/jobs", json=spec).json()
        _wait_state(http, first["id"], "running")
        stop = threading.Event()
        places = []
        second = threading.Thread(target=lambda: [
            places.append(e["place"]) for e, _ in RemoteServer(url).events(_slow(tiny_request), stop.is_set)
            if e["type"] == "queued"])
        second.start()
        deadline = time.monotonic() + 20
        while not places:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        http.delete(f"/jobs/{first['id']}")           # the waiting job moves up and runs
        while http.get("/health").json()["waiting"]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        stop.set()
        second.join(20)
    assert places[0] == 1


def test_twenty_clients_at_once_are_all_answered(tiny_request):
    """Load: every client gets an answer (queued, or refused with a reason) in bounded time."""
    limit = 8
    with running_server(TinyEncoder(delay=0.02), queue_limit=limit) as url, httpx.Client(base_url=url) as http:
        spec = _job_spec(http, tiny_request)
        answers, barrier = [None] * 20, threading.Barrier(20)

        def client(index):
            barrier.wait()
            answers[index] = httpx.post(f"{url}/jobs", json=spec, timeout=30)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        elapsed = time.monotonic() - started
        assert all(a is not None for a in answers) and elapsed < 30
        accepted = [a.json() for a in answers if a.status_code == 202]
        refused = [a for a in answers if a.status_code != 202]
        assert limit <= len(accepted) <= limit + 1 and len(accepted) + len(refused) == 20
        assert all(a.status_code == 503 and "queue is full" in a.json()["detail"] for a in refused)
        assert sorted(a["place"] for a in accepted) == list(range(len(accepted)))
        for job in accepted:
            assert http.delete(f"/jobs/{job['id']}").status_code == 200
        health = http.get("/health").json()
        assert health["waiting"] == 0
        assert http.post("/jobs", json=spec).status_code == 202       # every place was freed


def test_serve_refuses_a_public_address_without_a_token(tmp_path, capsys):
    with pytest.raises(DoodleError, match="--token-file"):
        read_token(None, "0.0.0.0")
    assert read_token(None, "127.0.0.1") is None and read_token(None, "::1") is None
    short = tmp_path / "token"
    short.write_text("abc\n")
    with pytest.raises(DoodleError, match="at least 16"):
        read_token(short, "0.0.0.0")
    short.write_text(TOKEN + "\n")
    assert read_token(short, "0.0.0.0") == TOKEN
    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "--token-file" in capsys.readouterr().err


def test_an_unreachable_server_is_a_clear_error(tiny_request):
    from server_helpers import free_port

    with pytest.raises(DoodleError, match="cannot reach the doodlepaint server"):
        list(RemoteServer(f"http://127.0.0.1:{free_port()}", timeout=2).run_transfer(tiny_request))
    with pytest.raises(DoodleError, match="not a server address"):
        RemoteServer("studio-pc")
    with pytest.raises(DoodleError, match="not a server address"):      # typed after the address already there
        RemoteServer("http://127.0.0.1:8765http://127.0.0.1:8799")


# Security: what a web page in the user's browser can and cannot make the server do ---------------------

def test_a_foreign_host_is_refused_on_every_route(tiny_request, tiny_encoder):
    """DNS rebinding: a page at evil.example that resolves to 127.0.0.1 calls the server under its own name."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with running_server(tiny_encoder) as url, httpx.Client(base_url=url) as http:
        spec = _job_spec(http, tiny_request, iterations=2)
        evil = {"Host": "evil.example"}
        assert http.get("/health", headers=evil).status_code == 400
        assert http.post("/jobs", json=spec, headers=evil).status_code == 400
        assert http.get("/docs", headers=evil).status_code == 400
        port = url.rsplit(":", 1)[1]
        for host in ("127.0.0.1", f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
            assert http.get("/health", headers={"Host": host}).status_code == 200, host
        job = http.post("/jobs", json=spec).json()
        with pytest.raises(InvalidStatus):
            connect(f"{url.replace('http', 'ws')}/jobs/{job['id']}/events",
                    additional_headers={"Host": f"evil.example:{port}"}).close()


def test_the_allowed_hosts_follow_the_address_the_server_listens_on():
    from doodlepaint.server.guard import allowed_hosts

    assert allowed_hosts("127.0.0.1") == ("127.0.0.1", "localhost", "[::1]")
    assert allowed_hosts("::1") == ("127.0.0.1", "localhost", "[::1]")
    assert allowed_hosts("192.168.1.20", ["Studio-PC"]) == ("127.0.0.1", "localhost", "[::1]", "192.168.1.20",
                                                            "studio-pc")
    assert allowed_hosts("0.0.0.0") == ("*",)            # needs a token; other machines' names for it are unknown
    assert "*" not in allowed_hosts("0.0.0.0", ["studio-pc"])


def test_a_cross_site_page_cannot_post_a_job_or_open_the_stream(tiny_request, tiny_encoder):
    """A page may POST text/plain without a preflight, and open WebSockets anywhere: both are refused."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with running_server(tiny_encoder) as url, httpx.Client(base_url=url) as http:
        spec = _job_spec(http, tiny_request, iterations=2)
        body = json.dumps(spec)
        plain = http.post("/jobs", content=body, headers={"Content-Type": "text/plain"})
        assert plain.status_code == 415 and "application/json" in plain.json()["detail"]
        form = http.post("/jobs", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert form.status_code == 415
        assert http.post("/jobs", content=body).status_code == 415                       # no type at all
        foreign = http.post("/jobs", json=spec, headers={"Origin": "http://evil.example"})
        assert foreign.status_code == 403 and "evil.example" in foreign.json()["detail"]
        assert http.get("/health", headers={"Origin": "null"}).status_code == 403
        assert http.post("/jobs", json=spec, headers={"Origin": url}).status_code == 202   # its own page
        job = http.post("/jobs", content=body, headers={"Content-Type": "application/json; charset=utf-8"})
        assert job.status_code == 202
        with pytest.raises(InvalidStatus):
            connect(f"{url.replace('http', 'ws')}/jobs/{job.json()['id']}/events", origin="http://evil.example").close()


def test_an_allowed_origin_is_let_in(tiny_request, tiny_encoder):
    with running_server(tiny_encoder, allowed_origins=("https://studio.example/",)) as url:
        with httpx.Client(base_url=url) as http:
            spec = _job_spec(http, tiny_request, iterations=2)
            assert http.post("/jobs", json=spec, headers={"Origin": "https://studio.example"}).status_code == 202
            assert http.post("/jobs", json=spec, headers={"Origin": "https://other.example"}).status_code == 403


def test_the_api_description_is_off_when_there_is_a_token(tiny_encoder):
    with running_server(tiny_encoder, token=TOKEN) as url:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert httpx.get(f"{url}{path}").status_code == 404, path
            assert httpx.get(f"{url}{path}", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
    with running_server(tiny_encoder) as url:                  # this machine only, no token: the docs are there
        assert httpx.get(f"{url}/openapi.json").status_code == 200


def test_loose_types_get_422_over_http(tiny_request, tiny_encoder):
    with running_server(tiny_encoder) as url, httpx.Client(base_url=url) as http:
        spec = _job_spec(http, tiny_request, iterations=2)
        for name, value in {"phases": True, "iterations": "3", "size": 64.0, "alpha": "1"}.items():
            response = http.post("/jobs", json={**spec, name: value})
            assert response.status_code == 422 and name in response.json()["detail"], (name, value)


def test_a_remote_render_keeps_every_setting_and_shows_the_instant_stage(tiny_request, tiny_encoder, tiny_decoder):
    """Smoothness and the instant start were refused (or turned into auto) on the way to a server."""
    request = dataclasses.replace(tiny_request, params=tiny_request.params.replace(init="instant", smoothness=0.5))
    local = list(run_transfer(request, encoder=TinyEncoder(), preview_interval=0.0))
    with running_server(tiny_encoder) as url:
        remote = list(RemoteServer(url, frames="raw").run_transfer(request))
    assert [p.stage for p in remote if p.phases] == [p.stage for p in local]
    assert remote[0].stage == "instant" and np.array_equal(remote[0].frame, local[0].frame)
    assert np.abs(remote[-1].frame.astype(int) - local[-1].frame.astype(int)).max() <= 1


def test_the_instant_preset_is_on_the_server(tiny_request, tiny_encoder, tiny_decoder):
    with running_server(tiny_encoder) as url, httpx.Client(base_url=url) as http:
        spec = {key: value for key, value in _job_spec(http, tiny_request).items() if key not in ("iterations",)}
        job = http.post("/jobs", json={**spec, "preset": "Instant"})
        assert job.status_code == 202
        _wait_state(http, job.json()["id"], "done")
        with Image.open(io.BytesIO(http.get(f"/jobs/{job.json()['id']}/result").content)) as image:
            assert json.loads(image.text["doodlepaint"])["params"]["method"] == "swap"


def test_a_job_over_the_memory_budget_is_refused_before_it_is_queued(tiny_request, tiny_encoder):
    """One job at size 4096 from tiny images took a server past 12 GB."""
    from doodlepaint.engine.memory import estimate

    with running_server(tiny_encoder, memory_budget=2 * 1024 ** 3) as url, httpx.Client(base_url=url) as http:
        spec = _job_spec(http, tiny_request, iterations=1, phases=1)
        big = http.post("/jobs", json={**spec, "size": 4096})
        assert big.status_code == 413 and "this server takes jobs of up to 2.0 GB" in big.json()["detail"]
        fitting = int(big.json()["detail"].rsplit("at most ", 1)[1].split()[0])
        sized = dataclasses.replace(tiny_request, params=tiny_request.params.replace(size=fitting, phases=1))
        assert estimate(sized).render_bytes <= 2 * 1024 ** 3 < estimate(
            dataclasses.replace(sized, params=sized.params.replace(size=fitting + 1))).render_bytes
        assert http.get("/health").json()["waiting"] == 0 and not http.get("/health").json()["running"]
        assert http.post("/jobs", json={**spec, "size": 64}).status_code == 202


def test_the_checks_before_the_queue_run_one_at_a_time(tiny_request, tiny_encoder, monkeypatch):
    """Twelve jobs naming big doodles mapped their labels all at once, before the queue limit applied."""
    import doodlepaint.server.app as app_module

    running, most = [0], [0]
    lock = threading.Lock()
    original = app_module.target_label_ids

    def counted(*args, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        try:
            return original(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(app_module, "target_label_ids", counted)
    with running_server(TinyEncoder(delay=0.02), queue_limit=12) as url, httpx.Client(base_url=url) as http:
        spec = _job_spec(http, tiny_request)
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(httpx.post(f"{url}/jobs", json=spec, timeout=30)))
                   for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert [a.status_code for a in answers] == [202] * 8 and most[0] == 1
        for answer in answers:
            http.delete(f"/jobs/{answer.json()['id']}")
