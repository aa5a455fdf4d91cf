"""Train SANet (Park & Lee 2019) on the trainset's photos (content) and paintings (style).

    python -m doodlepaint.train.sanet --data ../shared/trainset --checkpoints ~/dp-train/sanet

The paper's losses: content on mean-variance-normalised relu4_1 and relu5_1 features of the output against
the photo's, style on per-channel means and standard deviations at relu1_1 … relu5_1, and identity: the
photo through SANet with itself as style (I_cc), the painting with itself (I_ss), compared with the inputs in
pixels (λid1) and in VGG features at every relu*_1 (λid2). λc 1, λs 3, Adam 1e-4, batch 5, random 256 crops
of images 512 on the short side (a GPU); a CPU trains smaller crops and a half-width decoder.

The identity weights: the paper's text gives λid1 1, λid2 50, but the widely used reimplementation whose
results match the paper's (GlebSBrykin/SANET, Train.ipynb) weighs pixels 50 and features 1, and the authors'
own remark (dypark86/SANET issue 1) points to that code. Measured here (BENCHMARKS.md, Figures behind
constants): with 1 and 50 the feature identity was nearly all of the loss and the network learned to copy
the photo, its style loss barely moving. The defaults are therefore 50 (pixels) and 1 (features);
`--identity-pixels` and `--identity-features` set the paper's text instead.

On a CPU the decoder can start from a relu4_1 reconstruction decoder of the same width trained by
`python -m doodlepaint.train.decoder --layer relu4_1` (`--init-decoder`): reconstruction steps cost a
quarter of SANet's (one decode instead of three), and a decoder that already paints sharp pictures is
what SANet's few CPU steps cannot learn. The merge convolution then starts as the identity on the
relu4_1 path, so that the first pictures are the pretrained decoder's.

The paper's VGG was "normalised" (each filter's mean activation 1); ours is the original Caffe VGG19, whose
layers' activations differ by orders of magnitude. So the losses see each layer divided by its mean
activation over a calibration batch (one number per layer, kept in the checkpoint): the paper's λ then
balance the terms as they did there. Resumable: run the same command again to go on. `--export` writes
the half-precision weights and the training record.

The app renders SANet with label masks (each content position attends only to style positions of its own
label), which the paper never trained for. `--masked P` trains that way on a share P of the steps: each
photo and painting is split into its darker and brighter halves (blurred luminance against its median, a
stand-in for a doodle's regions that follows the images' own shapes), the attention is masked by those
labels at strict γ, and the style loss compares each half's feature means and spreads with the painting's
same half (`masked_mean_std`) instead of the whole images'. The content and identity losses are the
paper's, the identity pictures under the same masks as the app's F_ccc. On the CPU, 1,481 such steps
after the shipped ones made no difference the bench could measure (SANET.md); the shipped weights are
trained without it.
"""
from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from doodlepaint.engine.export import save_png, write_atomically
from doodlepaint.engine.images import load_rgb
from doodlepaint.engine.decoder import Decoder, decoder_from_bytes, decoder_record
from doodlepaint.engine.sanet import (LEVELS, STRICT_GAMMA, SANet, label_bias, label_shares, mean_variance_norm,
                                      save_weights)
from doodlepaint.engine.vgg import get_encoder
from doodlepaint.train.data import ImageBank, trainset_split
from doodlepaint.train.loop import CHECKPOINT, ResumableTrainer

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
MASK_LABELS = 2           # a masked step's regions: the darker and the brighter half of each image
MASK_BLUR = 8             # luminance is averaged over blocks this wide, so that regions are blobs, not pixels


@dataclass(frozen=True)
class SANetTraining:
    width: float = 1.0
    crop: int = 256
    batch: int = 5
    steps: int = 160_000
    lr: float = 1e-4
    content_weight: float = 1.0     # λc
    style_weight: float = 3.0       # λs
    identity_pixels: float = 50.0   # λid1 (see the module's docstring)
    identity_features: float = 1.0  # λid2
    short_side: int | None = 512
    seed: int = 0
    masked: float = 0.0             # the share of steps trained with label masks (0: the paper's training)


def _mean_std(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return features.mean((2, 3)), (features.var((2, 3), unbiased=False) + 1e-5).sqrt()


def luminance_labels(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) 0..255 -> (B, H, W) ids: 1 where the blurred luminance is above the image's median."""
    luminance = (images * images.new_tensor([0.299, 0.587, 0.114])[:, None, None]).sum(1, keepdim=True)
    blurred = F.interpolate(F.avg_pool2d(luminance, MASK_BLUR, ceil_mode=True), size=images.shape[-2:],
                            mode="nearest")[:, 0]
    return (blurred > blurred.flatten(1).median(1).values[:, None, None]).long()


def masked_mean_std(features: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image, label and channel, the mean and standard deviation of (B, C, h, w) features over the
    (B, K, h, w) label weights: (B, K, C) each."""
    area = weights.sum((2, 3)).clamp_min(1e-3)[..., None]                          # (B, K, 1)
    mean = torch.einsum("bkhw,bchw->bkc", weights, features) / area
    square = torch.einsum("bkhw,bchw->bkc", weights, features * features) / area
    return mean, (square - mean * mean).clamp_min(0).add(1e-5).sqrt()


def masked_biases(content_ids: torch.Tensor, style_ids: torch.Tensor, content: dict, style: dict) -> dict:
    """Strict label masks at each SANet level for a batch: {level: (B, Nc, Ns)}."""
    return {level: torch.cat([label_bias(c, s, MASK_LABELS, content[level].shape[-2:], style[level].shape[-2:],
                                         STRICT_GAMMA) for c, s in zip(content_ids, style_ids)])
            for level in LEVELS}


class Trainer(ResumableTrainer):
    """One training run: resumes from `checkpoints` if it holds a checkpoint of the same width."""

    def __init__(self, config: SANetTraining, photos: ImageBank, paintings: ImageBank, checkpoints: Path | None,
                 device="cpu", encoder=None, init_decoder: Path | None = None):
        self.config, self.photos, self.paintings = config, photos, paintings
        self.init_decoder = init_decoder
        self.device = torch.device(device)
        self.encoder = encoder or get_encoder(self.device)
        self.model = SANet(config.width).to(self.device)
        self.optimiser = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.scales = {layer: 1.0 for layer in STYLE_LAYERS}
        self.start(checkpoints)

    @torch.no_grad()
    def calibrate(self) -> None:
        """Each layer's mean activation (for the losses), SANet's input spreads and the decoder's, from one batch."""
        generator = torch.Generator().manual_seed(1)
        images = torch.cat([self.photos.batch(self.config.batch, self.config.crop, generator),
                            self.paintings.batch(self.config.batch, self.config.crop, generator)]).to(self.device)
        features = self.encoder(images, STYLE_LAYERS)
        self.scales = {layer: float(features[layer].mean().clamp_min(1e-3)) for layer in STYLE_LAYERS}
        self.model.scale4.fill_(float(features["relu4_1"].std().clamp_min(1e-3)))
        self.model.scale5.fill_(float(features["relu5_1"].std().clamp_min(1e-3)))
        if self.init_decoder is not None:
            self.start_from_decoder(self.init_decoder)
        else:
            self.model.decoder.input_scale.fill_(
                float(self.model.transform(features, features).std().clamp_min(1e-3)))

    @torch.no_grad()
    def start_from_decoder(self, path: Path) -> None:
        """Copy a trained relu4_1 decoder of the same width, and make the merge convolution pass the relu4_1
        path through unchanged: F_csc then starts as relu4_1 / scale4 (plus the relu5_1 path, which the
        training learns to use), which the decoder reads once its input scale is divided by scale4."""
        decoder = load_decoder(path)
        if decoder.layer != "relu4_1" or decoder.width != self.config.width:
            raise SystemExit(f"{path} is a {decoder.layer} decoder of width {decoder.width}: SANet needs "
                             f"relu4_1 at width {self.config.width}")
        self.model.decoder.load_state_dict(decoder.state_dict())
        self.model.decoder.input_scale.div_(self.model.scale4)
        merge = self.model.merge[1]
        merge.weight.zero_()
        merge.bias.zero_()
        merge.weight[:, :, 1, 1] = torch.eye(merge.weight.shape[0])

    def _features(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.encoder(images, STYLE_LAYERS)
        return {layer: value / self.scales[layer] for layer, value in features.items()}

    def losses(self, content: torch.Tensor, style: torch.Tensor, masked: bool = False) -> dict[str, torch.Tensor]:
        """The paper's loss terms for one batch of photos and paintings (float 0..255); `masked`: with the
        attention and the style loss kept to each image's darker and brighter halves."""
        with torch.no_grad():
            content_features, style_features = self._features(content), self._features(style)
        raw = {k: v * self.scales[k] for k, v in content_features.items()}
        raw_style = {k: v * self.scales[k] for k, v in style_features.items()}
        biases = {"cs": None, "cc": None, "ss": None}
        if masked:
            content_ids, style_ids = luminance_labels(content), luminance_labels(style)
            biases = {"cs": masked_biases(content_ids, style_ids, raw, raw_style),
                      "cc": masked_biases(content_ids, content_ids, raw, raw),
                      "ss": masked_biases(style_ids, style_ids, raw_style, raw_style)}
        # The decoder sees SANet's features of the raw VGG; the losses the per-layer normalised ones.
        stylised = self.model(raw, raw_style, biases["cs"])
        content_identity = self.model(raw, raw, biases["cc"])
        style_identity = self.model(raw_style, raw_style, biases["ss"])
        outputs = self._features(torch.cat([stylised, content_identity, style_identity]))
        count = content.shape[0]
        out = {layer: value[:count] for layer, value in outputs.items()}
        cc = {layer: value[count:2 * count] for layer, value in outputs.items()}
        ss = {layer: value[2 * count:] for layer, value in outputs.items()}
        content_loss = sum(F.mse_loss(mean_variance_norm(out[layer]), mean_variance_norm(content_features[layer]))
                           for layer in LEVELS)
        style_loss = 0.0
        for layer in STYLE_LAYERS:
            if masked:      # each half of the output against the same half of the painting
                size = out[layer].shape[-2:]
                mean, std = masked_mean_std(out[layer], label_shares(content_ids, MASK_LABELS, size))
                target_mean, target_std = masked_mean_std(style_features[layer],
                                                          label_shares(style_ids, MASK_LABELS, size))
            else:
                mean, std = _mean_std(out[layer])
                target_mean, target_std = _mean_std(style_features[layer])
            style_loss = style_loss + F.mse_loss(mean, target_mean) + F.mse_loss(std, target_std)
        identity_pixels = (F.mse_loss(content_identity, content) + F.mse_loss(style_identity, style)) / 255.0 ** 2
        identity_features = sum(F.mse_loss(cc[layer], content_features[layer]) +
                                F.mse_loss(ss[layer], style_features[layer]) for layer in STYLE_LAYERS)
        return {"content": content_loss, "style": style_loss, "identity_pixels": identity_pixels,
                "identity_features": identity_features}

    def total(self, parts: dict[str, torch.Tensor]) -> torch.Tensor:
        c = self.config
        return (c.content_weight * parts["content"] + c.style_weight * parts["style"]
                + c.identity_pixels * parts["identity_pixels"] + c.identity_features * parts["identity_features"])

    def train_step(self) -> dict[str, float]:
        config = self.config
        content = self.photos.batch(config.batch, config.crop, self.generator).to(self.device)
        style = self.paintings.batch(config.batch, config.crop, self.generator).to(self.device)
        masked = config.masked > 0 and float(torch.rand((), generator=self.generator)) < config.masked
        parts = self.losses(content, style, masked)
        loss = self.total(parts)
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser.step()
        self.step += 1
        return {"loss": float(loss.detach()), **{name: float(value.detach()) for name, value in parts.items()}}

    def checkpoint_state(self) -> dict:
        return {"model": self.model.state_dict(), "scales": self.scales}

    def restore_state(self, saved: dict, path: Path) -> None:
        if saved["config"]["width"] != self.config.width:
            raise SystemExit(f"{path} was trained with another width: use another folder")
        self.model.load_state_dict(saved["model"])
        self.scales = saved["scales"]


def _read_decoder_file(path: Path) -> tuple[Path, dict | None]:
    """The decoder trainer's checkpoint (a folder or its file, as a dict) or exported weights (None): the file
    and, for a checkpoint, its contents."""
    path = path / CHECKPOINT if path.is_dir() else path
    if path.suffix == ".safetensors":
        return path, None
    return path, torch.load(path, map_location="cpu", weights_only=True)


def load_decoder(path: Path) -> Decoder:
    """A relu4_1 decoder from the decoder trainer's checkpoint folder or file, or from exported weights."""
    path, saved = _read_decoder_file(path)
    if saved is None:
        return decoder_from_bytes(path.read_bytes(), str(path))
    config = saved["config"]
    decoder = Decoder(config["layer"], float(config["width"]))
    decoder.load_state_dict(saved["decoder"])
    return decoder


def decoder_summary(path: Path) -> dict:
    """How a decoder given to --init-decoder was trained (its command, steps, seconds, last logged losses),
    from the decoder trainer's checkpoint or from exported weights' record: for SANet's own record."""
    path, saved = _read_decoder_file(path)
    trained = saved if saved is not None else decoder_record(path.read_bytes(), str(path))
    log = trained.get("log") or [{}]
    return {"path": str(path), "command": trained.get("command"), "steps": trained.get("step", trained.get("steps")),
            "seconds": round(float(trained.get("seconds", 0.0)), 1), "last_log": log[-1]}


SAMPLE_PAIRS = 4


@torch.no_grad()
def sample_grid(model: SANet, encoder, photos: list[Path], paintings: list[Path], height: int = 192):
    """Rows of photo | painting | SANet's painting of the photo (unmasked), for fixed pairs spread over the
    set: uint8 (rows*height, 3*width, 3). A look at what the training reached."""
    model.eval()
    rows = []
    for index in range(SAMPLE_PAIRS):
        photo = photos[index * len(photos) // SAMPLE_PAIRS]
        painting = paintings[(index * len(paintings) // SAMPLE_PAIRS + 3) % len(paintings)]
        images = []
        for path in (photo, painting):
            rgb = torch.from_numpy(load_rgb(path, "sample image")).permute(2, 0, 1)[None].float()
            images.append(F.interpolate(rgb, size=(height, height * 4 // 3), mode="bilinear", antialias=True,
                                        align_corners=False).clamp(0, 255))
        device = next(model.parameters()).device
        content, style = (encoder(image.to(device), LEVELS) for image in images)
        images.append(model(content, style).clamp(0, 255).cpu())
        rows.append(torch.cat(images, dim=3))
    model.train()
    return torch.cat(rows, dim=2)[0].permute(1, 2, 0).round().to(torch.uint8).numpy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m doodlepaint.train.sanet", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared trainset (photos/ and paintings/)")
    parser.add_argument("--width", type=float, default=1.0, help="decoder width factor (0.5 on a CPU)")
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--steps", type=int, default=160_000, help="total steps (a resumed run goes on to this)")
    parser.add_argument("--minutes", type=float, help="stop this run after so many minutes (checkpointed)")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--short-side", type=int, default=512, help="images are held at this short side")
    parser.add_argument("--identity-pixels", type=float, default=SANetTraining.identity_pixels, help="λid1")
    parser.add_argument("--identity-features", type=float, default=SANetTraining.identity_features, help="λid2")
    parser.add_argument("--init-decoder", type=Path,
                        help="start a fresh run's decoder from this relu4_1 decoder (checkpoint folder or weights); "
                             "--export then records how that decoder was trained")
    parser.add_argument("--masked", type=float, default=0.0,
                        help="share of steps trained with label masks, as the app renders (0: the paper's training)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--checkpoints", type=Path, help="folder for the resumable checkpoint (outside git)")
    parser.add_argument("--export", type=Path, help="write the half-precision weights and training record here")
    parser.add_argument("--no-train", action="store_true", help="only export / sample the checkpoint as it is")
    parser.add_argument("--samples", type=Path, help="write a PNG of sample results (photo | painting | output)")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--save-every", type=int, default=200)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    config = SANetTraining(width=args.width, crop=args.crop, batch=args.batch, steps=args.steps, lr=args.lr,
                           short_side=args.short_side, seed=args.seed, identity_pixels=args.identity_pixels,
                           identity_features=args.identity_features, masked=args.masked)
    photo_paths, painting_paths = trainset_split(args.data)
    photos = ImageBank(photo_paths, args.device, config.short_side)
    paintings = ImageBank(painting_paths, args.device, config.short_side)
    trainer = Trainer(config, photos, paintings, args.checkpoints, args.device, init_decoder=args.init_decoder)
    print(f"training SANet x{config.width} on {len(photos)} photos and {len(paintings)} paintings, "
          f"from step {trainer.step} to {config.steps}", file=sys.stderr, flush=True)
    if trainer.step < config.steps and not args.no_train:
        trainer.run(log_every=args.log_every, save_every=args.save_every,
                    until_seconds=args.minutes * 60 if args.minutes else None)
    if args.export:
        command = "python -m doodlepaint.train.sanet " + " ".join(argv if argv is not None else sys.argv[1:])
        extra = {"init_decoder": decoder_summary(args.init_decoder)} if args.init_decoder else {}
        record = trainer.record(command=command, data=str(args.data), photos=len(photos), paintings=len(paintings),
                                loss_scales=trainer.scales, **extra)
        write_atomically(args.export, save_weights(trainer.model, record))
        print(f"wrote {args.export}", file=sys.stderr)
    if args.samples:
        save_png(args.samples, sample_grid(trainer.model, trainer.encoder, photo_paths, painting_paths),
                 {"steps": trainer.step})
        print(f"wrote {args.samples}", file=sys.stderr)
    return 1 if trainer.log and math.isnan(trainer.log[-1]["loss"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
