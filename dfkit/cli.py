"""The ``dfkit`` command.

    dfkit info
    dfkit figures [NAME ...] [--profile quick|class|gpu] [--out DIR] [--list]
    dfkit data preview {moving_mnist,pendulum} --out FILE.gif|.png [--seed N] [--profile P] [--count N] [params]
    dfkit data build {moving_mnist,pendulum} [--split train|test] [--profile P] [params]
    dfkit course release [--check]
    dfkit course student-bundle DIR [--checkpoints PACK]
    dfkit course gradescope ASSIGNMENT OUT.zip
    dfkit checkpoints status [--profile P] [--only LESSON ...] [--no-estimate]
    dfkit checkpoints train [--profile P] [--only LESSON ...]
    dfkit checkpoints pack OUT.tar [--profile P]
    dfkit checkpoints install FILE_OR_URL [--profile P]

``--profile`` defaults to ``$DFKIT_PROFILE``, else ``class`` (``install``: else the pack's own profile).
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
from pathlib import Path

from dfkit.data import DATASETS


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return args.handler(args) or 0
    except (ValueError, FileNotFoundError) as error:
        print(f"dfkit: error: {error}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dfkit", description="Course package on sequence generative modeling.")
    commands = parser.add_subparsers(title="commands")

    info = commands.add_parser("info", help="versions, device and profile")
    info.set_defaults(handler=run_info)

    figures = commands.add_parser("figures", help="draw the lecture figures (into outputs/figures/<profile>/ by default)")
    figures.add_argument("names", nargs="*", help="figures to draw (default: all)")
    figures.add_argument("--profile", default="quick", help="profile for figures that train or sample (default quick)")
    figures.add_argument("--out", default=None, help="output folder (default outputs/figures/<profile>/; "
                         "lectures/figures to update the lectures' figures)")
    figures.add_argument("--force", action="store_true", help="also replace figures drawn at a higher profile")
    figures.add_argument("--list", action="store_true", help="list the registered figures and exit")
    figures.set_defaults(handler=run_figures)

    data = commands.add_parser("data", help="generate and look at the course datasets")
    data_commands = data.add_subparsers(title="data commands")
    preview = data_commands.add_parser("preview", help="write an animation (.gif) or a frame strip (.png)")
    build = data_commands.add_parser("build", help="generate a dataset into the cache")
    for command, handler in ((preview, run_preview), (build, run_build)):
        names = command.add_subparsers(title="datasets", dest="dataset")
        for name, (config_class, splits) in DATASETS.items():
            sub = names.add_parser(name, help=f"{name} ({config_class.__name__})")
            sub.add_argument("--profile", help="start from this profile's parameters (quick, class, gpu)")
            sub.add_argument("--split", default=splits[0], choices=splits)
            if command is preview:
                sub.add_argument("--out", required=True, help="output file: .gif animation or .png frame strip")
                sub.add_argument("--count", type=int, default=4, help="number of clips to show (default 4)")
            _add_config_arguments(sub, config_class)
            sub.set_defaults(handler=handler, config_class=config_class)
    course = commands.add_parser("course", help="instructor tooling: release notebooks, the student bundle, the Gradescope zip")
    course_commands = course.add_subparsers(title="course commands")
    release = course_commands.add_parser("release", help="regenerate notebooks/ from solutions/")
    release.add_argument("--check", action="store_true", help="write nothing; exit 1 if notebooks/ is out of date")
    release.set_defaults(handler=run_course_release)
    bundle = course_commands.add_parser("student-bundle", help="write what students get into a new folder")
    bundle.add_argument("destination")
    bundle.add_argument("--checkpoints", metavar="PACK", help="a model pack (file or URL) to install into the bundle")
    bundle.set_defaults(handler=run_course_bundle)
    gradescope = course_commands.add_parser("gradescope", help="write the Gradescope autograder zip of an assignment")
    gradescope.add_argument("assignment")
    gradescope.add_argument("out", metavar="OUT.zip")
    gradescope.set_defaults(handler=run_course_gradescope)

    checkpoints = commands.add_parser("checkpoints", help="the reference models: status, train, pack, install")
    checkpoint_commands = checkpoints.add_subparsers(title="checkpoints commands")
    status = checkpoint_commands.add_parser("status", help="per notebook: the models it needs, which are here, training estimates")
    status.add_argument("--no-estimate", action="store_true", help="skip the timed training steps of missing models")
    train = checkpoint_commands.add_parser("train", help="train every missing reference model (resumable)")
    pack = checkpoint_commands.add_parser("pack", help="write the profile's reference models into one archive")
    pack.add_argument("destination", help="the archive to write, e.g. dfkit-class-models.tar")
    install = checkpoint_commands.add_parser("install", help="install a model pack from a file or an http(s) URL")
    install.add_argument("source", help="the pack: a file path or an http(s) URL")
    for command, handler in ((status, run_checkpoints_status), (train, run_checkpoints_train), (pack, run_checkpoints_pack),
                             (install, run_checkpoints_install)):
        default = "$DFKIT_PROFILE, else the pack's own" if command is install else "$DFKIT_PROFILE, else class"
        command.add_argument("--profile", default=None, help=f"quick, class or gpu (default: {default})")
        if command in (status, train):
            command.add_argument("--only", nargs="+", metavar="LESSON", help="only these notebooks (e.g. 02_ddpm 06_diffusion_forcing)")
        command.set_defaults(handler=handler)
    return parser


def run_checkpoints_status(args) -> int:
    from dfkit.checkpoint import checkpoint_root
    from dfkit.profiles import get_profile
    from dfkit.reference_models import LESSONS, status_report

    profile = get_profile(args.profile)
    lessons = args.only or list(LESSONS)
    print(f"reference models of the {profile.name} profile in {checkpoint_root() / profile.name}")
    text, statuses = status_report(lessons, profile, estimate=not args.no_estimate)
    print(text)
    missing = [status for status in statuses if status.state != "present"]
    if missing:
        total = sum(status.seconds or 0.0 for status in missing)
        estimate = "" if args.no_estimate else f" (about {total / 60:.0f} min on this machine)"
        print(f"{len(missing)} model(s) to train{estimate}: `dfkit checkpoints train --profile {profile.name}`, "
              f"or install a pack: `dfkit checkpoints install PACK --profile {profile.name}`")
    else:
        print("every notebook is complete")
    return 0


def run_checkpoints_train(args) -> int:
    from dfkit.profiles import get_profile
    from dfkit.reference_models import train_missing

    profile = get_profile(args.profile)
    trained = train_missing(profile, args.only)
    print(f"trained {len(trained)} model(s); every reference model of the {profile.name} profile"
          f"{' for ' + ', '.join(args.only) if args.only else ''} is present")
    return 0


def run_checkpoints_pack(args) -> int:
    from dfkit.model_pack import pack
    from dfkit.profiles import get_profile

    pack(get_profile(args.profile), args.destination)
    return 0


def run_checkpoints_install(args) -> int:
    import os

    from dfkit.model_pack import install
    from dfkit.profiles import ENV_VAR, get_profile

    wanted = args.profile or os.environ.get(ENV_VAR)       # else: the pack's own profile
    install(args.source, get_profile(wanted) if wanted else None)
    return 0


def run_course_release(args) -> int:
    from dfkit import course

    if args.check:
        problems = course.release_differences()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run `dfkit course release` to regenerate them", file=sys.stderr)
            return 1
        print("notebooks/ is up to date with solutions/")
        return 0
    for path in course.release():
        print(f"wrote {path}")
    return 0


def run_course_bundle(args) -> int:
    from dfkit import course

    files = course.student_bundle(args.destination, checkpoints=args.checkpoints)
    print(f"wrote the student bundle to {args.destination} ({len(files)} files)")
    return 0


def run_course_gradescope(args) -> int:
    from autograder.gradescope import build_zip

    path = build_zip(args.assignment, args.out)
    print(f"wrote {path}: upload it as the assignment's autograder on Gradescope (see autograder/README.md)")
    return 0


def _add_config_arguments(parser: argparse.ArgumentParser, config_class) -> None:
    group = parser.add_argument_group("dataset parameters (defaults: the profile, else the dataset's own)")
    for field in dataclasses.fields(config_class):
        flag = "--" + field.name.replace("_", "-")
        if field.type in (bool, "bool"):
            group.add_argument(flag, dest=field.name, action=argparse.BooleanOptionalAction, default=None)
        else:
            kind = {"int": int, "float": float}.get(str(field.type), type(field.default))
            group.add_argument(flag, dest=field.name, type=kind, default=None, help=f"default {field.default}")


def _config_from_args(args):
    from dfkit.data import make_config
    from dfkit.profiles import get_profile

    base = getattr(get_profile(args.profile), args.dataset) if args.profile else args.config_class()
    params = dataclasses.asdict(base)
    for field in dataclasses.fields(args.config_class):
        value = getattr(args, field.name)
        if value is not None:
            params[field.name] = value
    return make_config(args.dataset, **params)


def run_preview(args) -> int:
    from dfkit import viz
    from dfkit.data import moving_mnist, pendulum

    suffix = Path(args.out).suffix.lower()
    if suffix not in (".gif", ".png"):
        raise ValueError(f"expected --out to end in .gif or .png, got {args.out!r}")
    if args.count < 1:
        raise ValueError(f"expected --count >= 1, got {args.count}")
    config = dataclasses.replace(_config_from_args(args), num_sequences=args.count)
    module = moving_mnist if args.dataset == "moving_mnist" else pendulum
    frames = module.generate(config, args.split)["frames"]
    path = viz.save_gif(frames, args.out) if suffix == ".gif" else viz.save_strip(frames, args.out)
    n, t, _, h, w = frames.shape
    print(f"wrote {path}: {n} {args.dataset} clips of {t} frames at {h}x{w}")
    return 0


def run_build(args) -> int:
    from dfkit.data import load

    config = _config_from_args(args)
    clips = load(args.dataset, args.split, **dataclasses.asdict(config))
    print(f"ready: {clips}")
    return 0


def run_figures(args) -> int:
    from dfkit import figures

    if args.list:
        for spec in figures.available().values():
            print(f"{spec.name:<24} {spec.lecture:<20} {spec.caption}")
        return 0
    written = figures.regenerate(args.names or None, out_dir=args.out, profile=args.profile, force=args.force)
    total = sum(seconds for _, seconds in written)
    for path, seconds in written:
        print(f"  {path}  ({seconds:.1f} s)")
    folder = Path(args.out) if args.out else figures.OUTPUT_DIR / args.profile
    print(f"wrote {len(written)} figure(s) with profile {args.profile!r} in {total:.1f} s to {folder.resolve()}")
    if not args.out:
        print(f"the lectures' own figures are in {figures.LECTURE_DIR}; `--out lectures/figures` updates them "
              f"(a figure drawn at a higher profile is kept)")
    return 0


def run_info(args) -> int:
    import numpy
    import torch

    import dfkit
    from dfkit.checkpoint import checkpoint_root
    from dfkit.data.cache import cache_dir
    from dfkit.data.digits import describe_source
    from dfkit.profiles import get_profile

    rows = [
        ("dfkit", dfkit.__version__),
        ("python", platform.python_version()),
        ("torch", torch.__version__),
        ("numpy", numpy.__version__),
        ("device", str(dfkit.pick_device())),
        ("threads", str(torch.get_num_threads())),
        ("profile", get_profile().name),
        ("digits", describe_source()),
        ("cache", str(cache_dir())),
        ("checkpoints", str(checkpoint_root())),
    ]
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
