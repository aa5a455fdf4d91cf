"""The render server's wire format, shared by the server and the app's remote client: a job and its events.

One schema, derived from the engine's dataclasses rather than written out again: a job's parameters are
the fields of `TransferParams` (each optional: an unset one keeps the preset's value), a progress event the
fields of `Progress` (all but its frame, which follows as a binary message). Types are strict, as JSON
says them: `true` is not a number, `"3"` is not a number, `64.0` is not a whole number. Whether a value is
in range is `TransferParams`' own check, the same for the command line, the app and a project file.

It imports pydantic and the engine's torch-free parameters only (no FastAPI, no Qt).
"""
from __future__ import annotations

import dataclasses
import ipaddress
import time
import typing
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from doodlepaint.engine.params import PRESETS, Progress, TransferParams

SHA256 = r"^[0-9a-f]{64}$"
FRAME_FORMATS = ("png", "raw")
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
IMAGE_ROLES = ("style", "style_map", "target_map", "content", "init_image")
STRICT = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


def _dataclass_fields(cls, optional: bool, exclude: tuple[str, ...] = ()) -> dict:
    """pydantic field definitions from a dataclass's fields and their annotated types."""
    types = typing.get_type_hints(cls)
    fields = {}
    for field in dataclasses.fields(cls):
        if field.name in exclude:
            continue
        if optional:
            fields[field.name] = (types[field.name] | None, None)
        else:
            fields[field.name] = (types[field.name], ... if field.default is dataclasses.MISSING else field.default)
    return fields


class JobImages(BaseModel):
    """A job's images by SHA-256 (uploaded first with PUT /images/SHA256), its preset and its frame format."""

    model_config = STRICT
    style: str = Field(pattern=SHA256)
    style_map: str = Field(pattern=SHA256)
    target_map: str = Field(pattern=SHA256)
    content: str | None = Field(default=None, pattern=SHA256)
    init_image: str | None = Field(default=None, pattern=SHA256)
    preset: Literal[tuple(PRESETS)] = "Normal"
    frames: Literal[FRAME_FORMATS] = "png"

    def images(self) -> dict[str, str]:
        """role -> SHA-256 of the images the job names."""
        return {role: getattr(self, role) for role in IMAGE_ROLES if getattr(self, role)}


# POST /jobs: the images, then every TransferParams field, each left out (or null) to keep the preset's.
JobSpec = create_model("JobSpec", __base__=JobImages, __doc__="A render job as POST /jobs takes it.",
                       **_dataclass_fields(TransferParams, optional=True))


def job_spec(params: TransferParams, images: dict[str, str], frames: str = "png") -> dict:
    """The JSON of a job that renders with exactly `params` (every field given, so no preset applies)."""
    return JobSpec(**images, frames=frames, **dataclasses.asdict(params)).model_dump(mode="json", exclude_none=True)


def job_params(spec: JobImages) -> TransferParams:
    """The job's parameters: its preset with the fields it gives. Without an `init`, an init image is the
    start (as on the command line). Raises ValueError (TransferParams' one-line message) for a bad value."""
    given = {name: value for name in TransferParams.__dataclass_fields__
             if (value := getattr(spec, name)) is not None}
    if "init" not in given and spec.init_image is not None:
        given["init"] = "image"
    return PRESETS[spec.preset].replace(**given)


class FrameInfo(BaseModel):
    model_config = STRICT
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    format: Literal[FRAME_FORMATS]


# A progress event: every Progress field but the frame, which follows as the next (binary) message.
ProgressEvent = create_model("ProgressEvent", __config__=ConfigDict(strict=True, extra="forbid"),
                             type=(Literal["progress"], ...), yielded_at=(float, ...), frame=(FrameInfo | None, None),
                             **_dataclass_fields(Progress, optional=False, exclude=("frame",)))


class StatusEvent(BaseModel):
    """A job's state: its place in the queue, or how it ended."""

    model_config = STRICT
    type: Literal[JOB_STATES]
    id: str
    place: int
    message: str = ""


class Health(BaseModel):
    """GET /health (no token needed): enough for a client to know it reached a doodlepaint server, which
    device renders there and whether it needs a token. Fields a newer server adds are ignored."""

    model_config = ConfigDict(extra="ignore")
    status: Literal["ok"]
    version: str
    device: str
    device_name: str
    token_required: bool


EVENT = TypeAdapter(Annotated[ProgressEvent | StatusEvent, Field(discriminator="type")])


def progress_event(progress: Progress, frame: FrameInfo | None = None) -> dict:
    """A Progress as its JSON event; the server stamps when the engine yielded it (for latency benches)."""
    fields = {field.name: getattr(progress, field.name) for field in dataclasses.fields(Progress)
              if field.name != "frame"}
    return ProgressEvent(type="progress", yielded_at=time.time(), frame=frame, **fields).model_dump(mode="json")


def read_event(text: str | bytes) -> dict:
    """An event as received, checked against the schema; raises ValidationError."""
    return EVENT.validate_json(text).model_dump()


def progress_from_event(event: dict, frame=None, message: str = "") -> Progress:
    """The Progress a progress event carries, with its decoded frame; `message` when the server sent none."""
    fields = {field.name: event[field.name] for field in dataclasses.fields(Progress) if field.name != "frame"}
    fields["message"] = fields["message"] or message
    return Progress(**{**fields, "phase_seconds": tuple(fields["phase_seconds"])}, frame=frame)


def first_error(error: ValidationError, what: str) -> str:
    """A validation error in one line: where, and what is wrong."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or what
    return f"invalid {what}: {where}: {first['msg']}"


def is_loopback(host: str) -> bool:
    """This machine only (a host name may resolve anywhere, so only 'localhost' counts)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
