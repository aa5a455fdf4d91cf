"""The HTTP and WebSocket API (FastAPI).

A client uploads each image once, as PNG (or any image Pillow reads) bytes under its SHA-256
(`PUT /images/{sha256}`), then submits jobs that name images by hash (`POST /jobs`): a painter's next
stroke re-sends only the doodle. A job naming an image the server does not hold (never sent, or evicted)
gets 409 with the missing hashes. Progress and preview frames stream over `WS /jobs/{id}/events`: a JSON
text message per event, each frame in the binary message right after its event. `DELETE /jobs/{id}`
cancels; `GET /jobs/{id}/result` is the final PNG with its `doodlepaint` text chunk.

Every request but /health needs `Authorization: Bearer TOKEN` when the server has a token. Every request
and WebSocket must name an allowed Host, a browser's must come from an allowed Origin, and a job must be
sent as application/json (server/guard.py says why).

The routes are module-level functions on two routers; what they share (the settings, the images, the queue)
is the app's RenderService, which each reaches through a dependency. The token check is a dependency of
`token_routes`; the WebSocket checks the token itself, since it answers a wrong one by closing (1008).
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import warnings
from dataclasses import dataclass
from typing import Annotated

import numpy as np
import torch
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import HTTPConnection

from doodlepaint import __version__
from doodlepaint.engine import DoodleError, TransferRequest
from doodlepaint.engine.device import device_name
from doodlepaint.engine.images import decode_rgb
from doodlepaint.engine.labels import check_shared_labels, target_label_ids
from doodlepaint.engine.memory import MemoryBudgetError, check_fits, gigabytes, shaped_request
from doodlepaint.engine.transfer import output_size, plan_phases, validate
from doodlepaint.server.guard import LOOPBACK_NAMES, OriginGuard
from doodlepaint.server.jobs import LISTENER_BACKLOG, Job, JobQueue, LruCache, QueueFull, StyleLabels
from doodlepaint.wire import JobSpec, first_error, job_params

MAX_JOB_BYTES = 16 * 1024          # a job is a few hashes and numbers


@dataclass(frozen=True)
class ServerConfig:
    device: torch.device
    encoder: object                          # the engine's encoder (VGG19), loaded once
    token: str | None = None
    queue_limit: int = 8                     # jobs waiting behind the running one
    max_upload_bytes: int = 64 * 1024 * 1024
    max_pixels: int = 4096 * 4096            # per uploaded image, and for the output
    image_cache_bytes: int = 1024 * 1024 * 1024
    preview_interval: float = 0.25
    memory_budget: int | None = None                 # bytes a job's render may take (engine.memory's estimate)
    allowed_hosts: tuple[str, ...] = LOOPBACK_NAMES  # Host names answered (guard.allowed_hosts); "*": any
    allowed_origins: tuple[str, ...] = ()           # browser origins besides the server's own; "*": any


class RenderService:
    """What every route shares: the settings, the images uploaded, the paintings' label maps and the job queue."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self.images = LruCache(config.image_cache_bytes, cost=lambda array: array.nbytes)
        self.style_labels = StyleLabels()
        self.queue: JobQueue | None = None        # made on the server's event loop, when it starts
        # Decoding an upload and mapping a job's labels take memory in proportion to the images: one at a time,
        # so twenty requests at once cost what one does.
        self.checks = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: FastAPI):
        # The encoder is the engine's, loaded once: it keeps each painting's features and patch banks between jobs.
        queue = self.queue = JobQueue(self.config.device, self.config.encoder, self.config.queue_limit,
                                      preview_interval=self.config.preview_interval)
        runner = asyncio.create_task(queue.run_forever())
        yield
        if queue.running is not None:
            queue.running.stop.set()
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner

    def authorised(self, headers) -> bool:
        if self.config.token is None:
            return True
        offered = headers.get("authorization", "")
        return hmac.compare_digest(offered.encode(), f"Bearer {self.config.token}".encode())

    def find_job(self, job_id: str) -> Job:
        job = self.queue.jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id} (finished jobs are kept a while, then forgotten)")
        return job

    def refuse_if_full(self) -> None:
        if len(self.queue.waiting) >= self.config.queue_limit:
            raise HTTPException(503, f"the server's queue is full ({self.config.queue_limit} jobs waiting): "
                                     "try again in a moment")

    def check_memory(self, spec: JobSpec, arrays: dict[str, np.ndarray]) -> None:
        """From the images' sizes alone, before any label is mapped: the render fits the job budget."""
        budget = self.config.memory_budget
        if budget is None:
            return
        try:
            shaped = shaped_request(job_params(spec), arrays[spec.target_map].shape[1::-1],
                                    arrays[spec.style].shape[1::-1])
            check_fits(shaped, budget, f"this server takes jobs of up to {gigabytes(budget)}", runtime=False)
        except MemoryBudgetError as error:
            raise HTTPException(413, str(error)) from error
        except (DoodleError, ValueError, TypeError):
            pass          # no plan for these parameters and sizes: build_request says why, after the labels

    def build_request(self, spec: JobSpec, arrays: dict[str, np.ndarray]) -> tuple[TransferRequest, list[str]]:
        """The CLI's checks, on decoded images: labels, parameters, sizes. Runs in a worker thread."""
        style = arrays[spec.style]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            labels = self.style_labels.get((spec.style, spec.style_map), style, arrays[spec.style_map])
            target_ids = target_label_ids(arrays[spec.target_map], labels.palette)
            check_shared_labels(labels.ids, target_ids, labels.palette)
            content = arrays[spec.content] if spec.content else None
            if content is not None and content.shape[:2] != target_ids.shape:
                warnings.warn(f"the content image is {content.shape[1]}x{content.shape[0]} but the doodle is "
                              f"{target_ids.shape[1]}x{target_ids.shape[0]}: it is stretched to the doodle")
        init_image = arrays[spec.init_image] if spec.init_image else None
        try:
            params = job_params(spec)
        except (ValueError, TypeError) as error:
            raise DoodleError(str(error)) from error
        request = TransferRequest(style, labels.ids, target_ids, labels.palette, params, content, init_image)
        validate(request)
        width, height = output_size(request)
        max_pixels = self.config.max_pixels
        if width * height > max_pixels:
            raise DoodleError(f"the render would be {width}x{height} pixels: at most {max_pixels} pixels "
                              "are accepted; choose a smaller size")
        plan_phases(request)
        return request, [str(w.message) for w in caught]


def render_service(connection: HTTPConnection) -> RenderService:
    return connection.app.state.service


Service = Annotated[RenderService, Depends(render_service)]


def check_token(request: Request, service: Service) -> None:
    if not service.authorised(request.headers):
        missing = "authorization" not in request.headers
        raise HTTPException(401, "this server needs a token: send 'Authorization: Bearer TOKEN'" if missing
                            else "wrong token")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the request is {int(declared)} bytes: at most {limit} are accepted")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"the request is over {limit} bytes: at most {limit} are accepted")
    return bytes(body)


open_routes = APIRouter()                                           # /health, and the WebSocket checks its own token
token_routes = APIRouter(dependencies=[Depends(check_token)])


@open_routes.get("/health")
async def health(service: Service):
    config, queue = service.config, service.queue
    return {"status": "ok", "version": __version__, "device": str(config.device),
            "device_name": device_name(config.device), "waiting": len(queue.waiting),
            "running": queue.running is not None, "queue_limit": config.queue_limit,
            "token_required": config.token is not None}


@token_routes.put("/images/{digest}", status_code=201)
async def upload_image(digest: str, request: Request, service: Service):
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise HTTPException(400, "an image is named by the SHA-256 of its bytes, as 64 lowercase hex digits")
    data = await read_body(request, service.config.max_upload_bytes)
    if hashlib.sha256(data).hexdigest() != digest:
        raise HTTPException(400, "the image's bytes do not match its SHA-256: it was damaged on the way")
    if digest not in service.images:
        async with service.checks:
            try:
                rgb = await run_in_threadpool(decode_rgb, data, "image", service.config.max_pixels)
            except DoodleError as error:
                raise HTTPException(422, str(error)) from error
        service.images.put(digest, rgb)
    rgb = service.images.get(digest)
    return {"sha256": digest, "width": rgb.shape[1], "height": rgb.shape[0]}


@token_routes.post("/jobs", status_code=202)
async def submit(request: Request, service: Service):
    try:
        spec = JobSpec.model_validate_json(await read_body(request, MAX_JOB_BYTES))
    except ValidationError as error:
        raise HTTPException(422, first_error(error, "job")) from error
    missing = [digest for digest in spec.images().values() if digest not in service.images]
    if missing:
        return JSONResponse({"detail": "upload these images first (PUT /images/SHA256)", "missing": missing},
                            status_code=409)
    service.refuse_if_full()                              # say so before decoding anything
    arrays = {digest: service.images.get(digest) for digest in spec.images().values()}
    service.check_memory(spec, arrays)
    async with service.checks:
        service.refuse_if_full()                          # it may have filled while this job waited its turn
        try:
            transfer, notes = await run_in_threadpool(service.build_request, spec, arrays)
        except DoodleError as error:
            raise HTTPException(422, str(error)) from error
    try:
        job = service.queue.submit(Job(transfer, {f"{role}_sha256": digest for role, digest in spec.images().items()},
                                       frames=spec.frames))
    except QueueFull as error:
        raise HTTPException(503, str(error)) from error
    device = service.config.device
    return {"id": job.id, "place": job.place, "device": str(device), "device_name": device_name(device),
            "warnings": notes}


@token_routes.get("/jobs/{job_id}")
async def job_status(job_id: str, service: Service):
    return service.find_job(job_id).status()


@token_routes.delete("/jobs/{job_id}")
async def cancel(job_id: str, service: Service):
    job = service.find_job(job_id)
    service.queue.cancel(job)
    return job.status()


@token_routes.get("/jobs/{job_id}/result")
async def result(job_id: str, service: Service):
    job = service.find_job(job_id)
    if job.state != "done":
        raise HTTPException(409, f"job {job_id} is {job.state}: it has no result")
    return Response(job.result_png, media_type="image/png")


@open_routes.websocket("/jobs/{job_id}/events")
async def events(websocket: WebSocket, job_id: str, service: Service):
    if not service.authorised(websocket.headers):
        await websocket.close(code=1008, reason="wrong or missing token")
        return
    job = service.queue.jobs.get(job_id)
    if job is None:
        await websocket.close(code=1008, reason=f"no job {job_id}")
        return
    await websocket.accept()
    listener: asyncio.Queue = asyncio.Queue(LISTENER_BACKLOG)
    for item in job.snapshot():
        listener.put_nowait(item)
    job.listeners.add(listener)
    try:
        while True:
            event, frame = await listener.get()
            await websocket.send_json(event)
            if frame is not None:
                await websocket.send_bytes(frame)
            if event["type"] in ("failed", "cancelled") or event.get("done"):
                break
        await websocket.close()
    except WebSocketDisconnect:
        pass
    finally:
        job.listeners.discard(listener)


def create_app(config: ServerConfig) -> FastAPI:
    service = RenderService(config)
    # With a token, every route but /health needs it: the API's own description included (a browser cannot
    # send the token to /docs, so they are off).
    docs = {} if config.token is None else {"docs_url": None, "redoc_url": None, "openapi_url": None}
    app = FastAPI(title="doodlepaint", version=__version__, lifespan=service.lifespan, **docs)
    app.state.service = service
    app.add_middleware(OriginGuard, allowed_origins=config.allowed_origins, json_posts=("/jobs",))
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts), www_redirect=False)
    app.include_router(open_routes)
    app.include_router(token_routes)
    return app
