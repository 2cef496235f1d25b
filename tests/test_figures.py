import re
from pathlib import Path

import pytest

from dfkit import figures
from dfkit.cli import main

LECTURES = Path(__file__).resolve().parents[1] / "lectures"


def test_every_figure_a_lecture_references_is_registered():
    registered = set(figures.available())
    for note in LECTURES.glob("*.md"):
        for name in re.findall(r"figures/([\w\-]+)\.png", note.read_text()):
            assert name in registered, f"{note.name} references figures/{name}.png, which no registered figure produces"


def test_figures_are_deterministic(tmp_path):
    first = figures.regenerate(["noise_schedules", "forward_process", "pendulum_clip"], out_dir=tmp_path / "a", profile="quick", progress=False)
    second = figures.regenerate(["noise_schedules", "forward_process", "pendulum_clip"], out_dir=tmp_path / "b", profile="quick", progress=False)
    for (a, _), (b, _) in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), f"{a.name} differs between two runs"


def test_sampler_errors_shrink_with_steps_to_the_real_floor():
    from dfkit.figures.image_figures import sampler_errors

    errors = sampler_errors(steps_grid=(2, 50), samples=1000)
    floor = errors["two real samples"][0]
    for name in ("DDIM (η = 0)", "flow, Euler", "flow, Heun"):
        few, many = errors[name]
        assert few > 3 * floor and many < 1.5 * floor, f"{name}: {few:.3f} -> {many:.3f}, floor {floor:.3f}"


def test_cli_lists_and_rejects_unknown(capsys, tmp_path):
    assert main(["figures", "--list"]) == 0
    assert "noise_schedules" in capsys.readouterr().out
    assert main(["figures", "no_such_figure", "--out", str(tmp_path)]) == 2
    assert "unknown figure" in capsys.readouterr().err
    assert main(["figures", "noise_schedules", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "noise_schedules.png").exists()


def test_registering_twice_is_an_error():
    with pytest.raises(ValueError, match="registered twice"):
        figures.register("noise_schedules", lecture="x", caption="y")(lambda profile: None)
