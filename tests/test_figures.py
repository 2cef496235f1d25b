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


def test_figures_go_to_outputs_by_default_and_record_their_profile(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["figures", "noise_schedules"]) == 0
    path = tmp_path / "outputs" / "figures" / "quick" / "noise_schedules.png"
    assert figures.figure_profile(path) == "quick"
    out = capsys.readouterr().out
    assert str(path.parent) in out and "--out lectures/figures" in out


def test_a_lower_profile_never_replaces_a_figure_drawn_at_a_higher_one(tmp_path, capsys):
    from PIL import Image, PngImagePlugin

    drawn = PngImagePlugin.PngInfo()
    drawn.add_text(figures.PROFILE_KEY, "class")
    Image.new("RGB", (4, 4), "white").save(tmp_path / "noise_schedules.png", pnginfo=drawn)
    Image.new("RGB", (4, 4), "white").save(tmp_path / "forward_process.png")            # no record: counts as class
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    logged = []
    written = figures.regenerate(["noise_schedules", "forward_process", "pendulum_clip"], out_dir=tmp_path, profile="quick",
                                 progress=False, log=logged.append)
    assert [path.name for path, _ in written] == ["pendulum_clip.png"]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name in before} == before
    assert len(logged) == 2 and all("above 'quick'" in line for line in logged)
    figures.regenerate(["noise_schedules"], out_dir=tmp_path, profile="quick", progress=False, force=True, log=logged.append)
    assert figures.figure_profile(tmp_path / "noise_schedules.png") == "quick"
    assert figures.replaces(tmp_path / "noise_schedules.png", "class")                 # a higher profile replaces it


def test_every_lecture_figure_records_the_profile_that_drew_it():
    for path in sorted((LECTURES / "figures").glob("*.png")):
        assert figures.figure_profile(path) in figures.PROFILE_RANK, f"{path.name} records no profile"
