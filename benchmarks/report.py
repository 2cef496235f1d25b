"""What the small benchmark scripts share: the command line (profile, threads) and the report file.

A script runs as ``python benchmarks/<name>.py``, so this folder is on its import path::

    from report import benchmark_parser, parse_arguments, write_report

    parser = benchmark_parser(__doc__)            # --profile, --threads
    args = parse_arguments(parser)                # and applies --threads to torch
    write_report(HERE / f"<name>_{args.profile}.md", "Title", "What was measured, how.", rows)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from dfkit.metrics.video import format_markdown_table

PROFILES = ("quick", "class", "gpu")


def benchmark_parser(doc: str) -> argparse.ArgumentParser:
    """A parser with the script's docstring as help, ``--profile`` and ``--threads``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="class", choices=PROFILES)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    return parser


def parse_arguments(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The parsed command line; ``--threads`` is applied to torch before anything runs."""
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    return args


def parse_distinct(text: str, convert, valid, what: str) -> tuple:
    """``"a,b"`` -> ``(convert("a"), convert("b"))``; anything but distinct values that pass ``valid`` stops the
    script with "expected distinct <what> separated by commas"."""
    try:
        values = tuple(convert(part) for part in text.split(","))
    except ValueError:
        values = ()
    if not values or len(set(values)) != len(values) or not all(valid(value) for value in values):
        raise SystemExit(f"expected distinct {what} separated by commas, got {text!r}")
    return values


def models_report_path(folder: Path, stem: str, profile_name: str, names: tuple[str, ...], default_names: tuple[str, ...]) -> Path:
    """``<stem>_<profile>.md`` for a script's default models; other models add their names, so that measuring one
    more recipe does not overwrite the table of the default ones."""
    suffix = "" if tuple(names) == tuple(default_names) else "_" + "_".join(names)
    return folder / f"{stem}_{profile_name}{suffix}.md"


def write_report(path: Path, title: str, description: str, rows: list[dict], sections: tuple = ()) -> None:
    """``# title``, the description (with the date and torch's thread count appended), then the rows as a table,
    then each ``(heading, rows)`` of ``sections`` as a ``## heading`` and its table."""
    stamp = f"Written {time.strftime('%Y-%m-%d %H:%M')}, torch {torch.__version__}, torch threads: {torch.get_num_threads()}."
    lines = [f"# {title}", "", f"{description} {stamp}", "", format_markdown_table(rows), ""]
    for heading, section_rows in sections:
        lines += [f"## {heading}", "", format_markdown_table(section_rows), ""]
    path.write_text("\n".join(lines))
    print(f"wrote {path}")
