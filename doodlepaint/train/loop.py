"""The training loop both networks share: steps with logged means, atomic resumable checkpoints, records."""
from __future__ import annotations

import io
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from doodlepaint.engine.export import write_atomically

CHECKPOINT = "checkpoint.pt"


class ResumableTrainer:
    """A subclass sets config, device, optimiser and generator, defines `train_step` (returning the step's
    loss terms as floats), `checkpoint_state` (its own parts of a checkpoint) and `restore_state` (checks a
    checkpoint fits, then loads those parts), and calls `start` at the end of its __init__."""

    def start(self, checkpoints: Path | None) -> None:
        """Resume from `checkpoints` if it holds a checkpoint, else `calibrate` the fresh network."""
        self.checkpoints = checkpoints
        self.step, self.seconds, self.log, self.stages = 0, 0.0, [], []
        if checkpoints is not None and (checkpoints / CHECKPOINT).is_file():
            path = checkpoints / CHECKPOINT
            saved = torch.load(path, map_location=self.device, weights_only=True)
            self.restore_state(saved, path)
            self.optimiser.load_state_dict(saved["optimiser"])
            for group in self.optimiser.param_groups:     # loading restored the saved rate; a resume may set another
                group["lr"] = self.config.lr
            self.generator.set_state(saved["generator"])
            self.step, self.seconds, self.log = saved["step"], saved["seconds"], saved["log"]
            # a checkpoint from before stages were kept was trained in one stage, with its saved configuration
            self.stages = [{"config": stage["config"], "from_step": stage["from_step"]}
                           for stage in saved.get("stages", [{"config": saved["config"], "from_step": 0}])]
        else:
            self.calibrate()

    def run(self, steps: int | None = None, log_every: int = 50, save_every: int = 200, out=sys.stdout,
            until_seconds: float | None = None):
        """Train up to `steps` (default: the configuration's) or `until_seconds` of this call, logging means
        and checkpointing as it goes."""
        until = min(self.config.steps, self.step + steps) if steps is not None else self.config.steps
        self._begin_stage()
        window: list[dict[str, float]] = []
        started = call_started = time.perf_counter()
        while self.step < until:
            window.append(self.train_step())
            out_of_time = until_seconds is not None and time.perf_counter() - call_started >= until_seconds
            if self.step % log_every == 0 or self.step == until or out_of_time:
                entry = {"step": self.step, **{k: sum(w[k] for w in window) / len(window) for k in window[0]}}
                entry["seconds"] = round(self.seconds + time.perf_counter() - started, 1)
                self.log.append(entry)
                window = []
                print(json.dumps(entry), file=out, flush=True)
            if self.checkpoints is not None and (self.step % save_every == 0 or self.step == until or out_of_time):
                self.seconds += time.perf_counter() - started
                started = time.perf_counter()
                self.save_checkpoint()
            if out_of_time:
                break
        self.seconds += time.perf_counter() - started
        return self.log

    def _begin_stage(self) -> None:
        """A resumed run with another configuration (crop, lr, image size...) starts a new stage, so that the
        record says which steps were trained how; a resume with the same configuration goes on in its stage."""
        config = asdict(self.config)
        # a setting added after a checkpoint was saved was trained at its default there
        earlier = {**asdict(type(self.config)()), **self.stages[-1]["config"]} if self.stages else None
        if earlier is None or not _same_training(earlier, config):
            self.stages.append({"config": config, "from_step": self.step})

    def stage_record(self) -> list[dict]:
        """The stages with the step each ended at (the next one's start; the last ends at the current step)."""
        ends = [stage["from_step"] for stage in self.stages[1:]] + [self.step]
        return [{**stage, "to_step": end} for stage, end in zip(self.stages, ends)]

    def save_checkpoint(self) -> None:
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        torch.save({"config": asdict(self.config), "optimiser": self.optimiser.state_dict(),
                    "generator": self.generator.get_state(), "step": self.step, "seconds": self.seconds,
                    "log": self.log, "stages": self.stage_record(), **self.checkpoint_state()}, buffer)
        write_atomically(self.checkpoints / CHECKPOINT, buffer.getvalue())

    def record(self, **extra) -> dict:
        """How the network was trained, for the weights file: configuration, steps, time, final losses, log."""
        tail = self.log[-5:]
        final = {k: round(sum(e[k] for e in tail) / len(tail), 5) for k in tail[0] if k not in ("step", "seconds")} \
            if tail else {}
        return {**extra, "config": asdict(self.config), "stages": self.stage_record(), "steps": self.step,
                "seconds": round(self.seconds, 1), "device": str(self.device), "torch": torch.__version__,
                "final_losses": final, "log": self.log}


def _same_training(old: dict, new: dict) -> bool:
    """Equal but for the total step count, which a resumed run may raise without training differently."""
    return {k: v for k, v in old.items() if k != "steps"} == {k: v for k, v in new.items() if k != "steps"}
