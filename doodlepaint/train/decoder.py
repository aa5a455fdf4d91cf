"""Train a decoder that inverts the VGG19 encoder at one layer, for the instant (patch-swap) previews.

    python -m doodlepaint.train.decoder --data ../shared/trainset --layer relu3_1 --checkpoints ~/dp-train/r31

Losses: pixel L1 + feature reconstruction at the decoder's layer and the shallower ones (Li et al. 2017,
WCT), and on a share of every batch Chen & Schmidt's style-swapped features (each image's patches replaced
by another image's), which have no true picture and so are judged on their own features only. Resumable:
the checkpoint folder holds the model, the optimiser, the random state and the loss log; run the same
command again to go on. `--export` writes the half-precision weights and the training record.
"""
from __future__ import annotations

import argparse
import math
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from doodlepaint.engine.decoder import Decoder, reconstruction_loss, save_weights
from doodlepaint.engine.export import write_atomically
from doodlepaint.engine.patch import PatchStyle
from doodlepaint.engine.vgg import LAYER_ORDER, get_encoder
from doodlepaint.train.data import ImageBank, image_paths, trainset_split
from doodlepaint.train.loop import ResumableTrainer


@dataclass(frozen=True)
class DecoderTraining:
    layer: str = "relu3_1"
    width: float = 1.0
    crop: int = 128
    batch: int = 4
    steps: int = 4000
    lr: float = 1e-4
    swap_share: float = 0.5       # share of each batch decoded from style-swapped features
    seed: int = 0
    short_side: int | None = 256  # images are stored at this short side (None: as they are)
    feature_layers: tuple[str, ...] = field(default=())

    def layers(self) -> tuple[str, ...]:
        if self.feature_layers:
            return self.feature_layers
        deepest = LAYER_ORDER.index(self.layer)
        return tuple(name for name in LAYER_ORDER[: deepest + 1] if name.endswith("_1"))


def swapped_features(features: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each item's feature patches replaced by those of another item of the batch (a style swap, no labels)."""
    count = features.shape[0]
    shift = 1 + int(torch.randint(max(1, count - 1), (1,), generator=generator)) if count > 1 else 0
    out = []
    for index in range(count):
        style = PatchStyle(features[(index + shift) % count][None], None, 3, gamma=0.0)
        out.append(style.swap(features[index][None], None))
    return torch.cat(out)


class Trainer(ResumableTrainer):
    """One training run: resumes from `checkpoints` if it holds a checkpoint of the same configuration."""

    def __init__(self, config: DecoderTraining, images: ImageBank, checkpoints: Path | None, device="cpu"):
        self.config, self.images = config, images
        self.device = torch.device(device)
        self.encoder = get_encoder(self.device)
        self.decoder = Decoder(config.layer, config.width).to(self.device)
        self.optimiser = torch.optim.Adam(self.decoder.parameters(), lr=config.lr)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.command = "python -m doodlepaint.train.decoder " + " ".join(sys.argv[1:])
        self.start(checkpoints)

    @torch.no_grad()
    def calibrate(self) -> None:
        """Scale the decoder's input to unit spread, measured on one batch."""
        sample = self.images.batch(self.config.batch, self.config.crop, torch.Generator().manual_seed(1))
        features = self.encoder(sample.to(self.device), (self.config.layer,))[self.config.layer]
        self.decoder.input_scale.fill_(float(features.std().clamp_min(1e-3)))

    def train_step(self) -> dict[str, float]:
        config = self.config
        images = self.images.batch(config.batch, config.crop, self.generator).to(self.device)
        with torch.no_grad():
            features = self.encoder(images, (config.layer,))[config.layer]
        swapped = round(config.batch * config.swap_share)
        real = config.batch - swapped
        loss, parts = reconstruction_loss(self.decoder, self.encoder, features[:real], images[:real], config.layers())
        if swapped:
            swap_input = swapped_features(features, self.generator)[real:]
            swap_loss, swap_parts = reconstruction_loss(self.decoder, self.encoder, swap_input, None, ())
            loss = (real * loss + swapped * swap_loss) / config.batch
            parts.update({f"swap_{name}": value for name, value in swap_parts.items()})
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser.step()
        self.step += 1
        parts["loss"] = float(loss.detach())
        return parts

    def checkpoint_state(self) -> dict:
        return {"decoder": self.decoder.state_dict(), "command": self.command}

    def restore_state(self, saved: dict, path: Path) -> None:
        mismatched = {k for k in ("layer", "width") if saved["config"][k] != asdict(self.config)[k]}
        if mismatched:
            raise SystemExit(f"{path} was trained with other {', '.join(sorted(mismatched))}: use another folder")
        config = {**saved["config"], "feature_layers": tuple(saved["config"]["feature_layers"])}
        self.config = replace(DecoderTraining(**config), steps=self.config.steps)   # only the target may change
        self.decoder.load_state_dict(saved["decoder"])
        self.command = saved.get("command", self.command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m doodlepaint.train.decoder", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a folder of images (the shared trainset)")
    parser.add_argument("--layer", default="relu3_1", choices=("relu3_1", "relu4_1"))
    parser.add_argument("--width", type=float, default=1.0, help="hidden-layer width factor (0.5 on a CPU)")
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=4000, help="total steps (a resumed run goes on to this)")
    parser.add_argument("--minutes", type=float, help="stop this run after so many minutes (checkpointed)")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--swap-share", type=float, default=0.5)
    parser.add_argument("--short-side", type=int, default=256, help="images are held at this short side")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--checkpoints", type=Path, help="folder for the resumable checkpoint (outside git)")
    parser.add_argument("--export", type=Path, help="write the half-precision weights and training record here")
    parser.add_argument("--export-only", action="store_true", help="export the checkpoint as it is, no training")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--save-every", type=int, default=200)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    config = DecoderTraining(layer=args.layer, width=args.width, crop=args.crop, batch=args.batch, steps=args.steps,
                             lr=args.lr, swap_share=args.swap_share, seed=args.seed, short_side=args.short_side)
    photos, paintings = trainset_split(args.data)
    paths = sorted(set(photos) | set(paintings))
    if not paths:
        paths = image_paths(args.data)
    bank = ImageBank(paths, args.device, config.short_side)
    trainer = Trainer(config, bank, args.checkpoints, args.device)
    print(f"training {config.layer} x{config.width} on {len(bank)} images, from step {trainer.step} to {config.steps}",
          file=sys.stderr, flush=True)
    if not args.export_only:
        trainer.run(log_every=args.log_every, save_every=args.save_every,
                    until_seconds=args.minutes * 60 if args.minutes else None)
    if args.export:
        record = trainer.record(command=trainer.command, data=str(args.data), images=len(bank))
        write_atomically(args.export, save_weights(trainer.decoder, record))
        print(f"wrote {args.export}", file=sys.stderr)
    if math.isnan(trainer.log[-1]["loss"]) if trainer.log else False:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
