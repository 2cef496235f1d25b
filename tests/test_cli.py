import numpy as np
import pytest
from PIL import Image

from dfkit import profiles
from dfkit.cli import main


def test_preview_writes_a_gif_and_a_png(tmp_path, capsys):
    gif = tmp_path / "mm.gif"
    assert main(["data", "preview", "moving_mnist", "--out", str(gif), "--profile", "quick", "--count", "2", "--num-frames", "6"]) == 0
    with Image.open(gif) as image:
        assert image.n_frames == 6
    png = tmp_path / "p.png"
    assert main(["data", "preview", "pendulum", "--out", str(png), "--image-size", "16", "--num-frames", "5", "--seed", "3"]) == 0
    with Image.open(png) as image:
        pixels = np.asarray(image)
    assert pixels.max() == 255
    assert "wrote" in capsys.readouterr().out


def test_preview_rejects_bad_input(tmp_path, capsys):
    assert main(["data", "preview", "moving_mnist", "--out", str(tmp_path / "x.gif"), "--digit-size", "80"]) == 2
    assert "digit_size <= canvas_size" in capsys.readouterr().err
    assert main(["data", "preview", "pendulum", "--out", str(tmp_path / "x.mp4")]) == 2
    assert ".gif or .png" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["data", "preview", "cifar", "--out", str(tmp_path / "x.gif")])


def test_build_fills_the_cache(capsys):
    assert main(["data", "build", "pendulum", "--profile", "quick", "--num-sequences", "4"]) == 0
    assert "clips=4" in capsys.readouterr().out


def test_info_prints_versions_device_and_profile(capsys, monkeypatch):
    monkeypatch.setenv("DFKIT_PROFILE", "quick")
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for word in ("torch", "device", "cpu", "quick"):
        assert word in out


def test_profiles_are_data_and_unknown_names_fail():
    assert profiles.get_profile("gpu").moving_mnist.canvas_size == 64
    assert profiles.get_profile("gpu").moving_mnist.num_digits == 2
    assert profiles.get_profile("quick").moving_mnist.canvas_size == 32
    for profile in profiles.PROFILES.values():
        profile.moving_mnist.validate()
        profile.pendulum.validate()
    with pytest.raises(ValueError, match="unknown profile"):
        profiles.get_profile("huge")
