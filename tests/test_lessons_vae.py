"""Lesson 01 (VAE): the notebook helpers of dfkit.lessons.vae, and the grading of the 01_vae assignment."""

import dataclasses
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from dfkit.budgets import VAEBudget  # noqa: E402
from dfkit.lessons import vae as lesson  # noqa: E402
from dfkit.models.vae import VAE, VAEConfig, bernoulli_log_likelihood, gaussian_kl  # noqa: E402
from dfkit.profiles import PROFILES, get_profile  # noqa: E402

ASSIGNMENT = "01_vae"
TINY = VAEConfig(base_channels=4, latent_dim=3)


@pytest.fixture
def tiny_vae():
    torch.manual_seed(0)
    return VAE(TINY).eval()


@pytest.fixture
def images():
    return torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def tiny_budget():
    """The quick profile with trainings of a couple of steps."""
    quick = get_profile("quick")
    budget = VAEBudget(frame_clips=4, frame_steps=2, beta_steps=2, eval_digits=8, bound_digits=4, betas=(0.5, 2.0))
    return dataclasses.replace(quick, lessons=dataclasses.replace(quick.lessons, vae=budget))


# ----------------------------------------------------------------------------- budgets and data


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_has_a_budget_and_a_frame_vae_that_fits_its_clips(name):
    profile = get_profile(name)
    budget = lesson.lesson_budget(profile)
    assert budget is profile.lessons.vae
    assert budget.frame_steps > 0 and budget.beta_steps > 0 and 1.0 in budget.betas
    config = lesson.frame_vae_config(profile)
    size = profile.moving_mnist.canvas_size
    assert config.image_size == size and config.latent_dim == profile.vae.latent_dim
    assert size // 2 ** len(config.channel_mults) <= 8                      # the flattened map stays small
    if name != "gpu":                                                        # the gpu model is large for a unit test
        mu, logvar = VAE(config).encode(torch.zeros(1, 2, 1, size, size))
        assert mu.shape == logvar.shape == (1, 2, config.latent_dim)


def test_bad_clips_get_a_clear_message():
    with pytest.raises(ValueError, match=r"expected clips of shape \(N, T, C, H, W\), got \(3, 1, 8, 8\)"):
        lesson.frames_as_images(torch.zeros(3, 1, 8, 8))


def test_frames_as_images_keeps_frame_order():
    clips = torch.arange(2 * 3 * 4.0).reshape(2, 3, 1, 2, 2)
    frames = lesson.frames_as_images(clips)
    assert frames.shape == (6, 1, 2, 2) and torch.equal(frames[4], clips[1, 1])


def test_train_frame_vae_uses_the_given_loss_on_moving_mnist_frames(tiny_budget):
    seen = []

    def loss_fn(model, x, generator):
        seen.append(tuple(x.shape))
        from dfkit.models.vae import vae_loss
        return vae_loss(model, x, generator)

    model, result = lesson.train_frame_vae(loss_fn, tiny_budget, progress=False)
    size = tiny_budget.moving_mnist.canvas_size
    assert result.steps == 2 and len(seen) == 2
    assert seen[0] == (tiny_budget.vae_training.batch_size, 1, size, size)
    assert model.config.image_size == size and model.config.likelihood == "bernoulli" and not model.training
    gaussian, _ = lesson.train_frame_vae(loss_fn, tiny_budget, likelihood="gaussian", progress=False)
    assert gaussian.config.likelihood == "gaussian"


# ----------------------------------------------------------------------------- numbers


def test_elbo_terms_add_up_and_are_seeded(tiny_vae, images):
    terms = lesson.elbo_terms(tiny_vae, images, beta=1.0, seed=3)
    assert terms["elbo"] == pytest.approx(terms["reconstruction"] - terms["kl"], rel=1e-5)
    assert terms == lesson.elbo_terms(tiny_vae, images, beta=1.0, seed=3)
    assert terms["kl"] >= 0


def test_kl_per_dimension_sums_to_the_mean_kl(tiny_vae, images):
    per_dimension = lesson.kl_per_dimension(tiny_vae, images)
    with torch.no_grad():
        mu, logvar = tiny_vae.encode(images)
    assert per_dimension.shape == (TINY.latent_dim,)
    assert float(per_dimension.sum()) == pytest.approx(float(gaussian_kl(mu, logvar).mean()), rel=1e-5)


def test_bound_comparison_reports_the_elbo_and_tighter_iwae_bounds(tiny_vae, images):
    numbers = lesson.bound_comparison(tiny_vae, images, samples=(1, 64))
    assert list(numbers) == ["ELBO", "IWAE, K = 1", "IWAE, K = 64"]
    assert numbers["IWAE, K = 64"] > numbers["ELBO"]


def test_fine_tune_leaves_the_original_untouched(tiny_vae, images):
    before = [p.clone() for p in tiny_vae.parameters()]
    tuned = lesson.fine_tune(tiny_vae, images, beta=2.0, steps=2, profile=get_profile("quick"))
    assert all(torch.equal(a, b) for a, b in zip(before, tiny_vae.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before, tuned.parameters()))


def test_beta_sweep_gives_one_row_per_beta_and_a_table(tiny_vae, images, tiny_budget):
    rows = lesson.beta_sweep(tiny_vae, images, images, tiny_budget, progress=False)
    assert [row["beta"] for row in rows] == [0.5, 2.0]
    for row in rows:
        assert row["elbo"] == pytest.approx(row["reconstruction"] - row["kl"], rel=1e-5)
        assert 0 <= row["active"] <= TINY.latent_dim and isinstance(row["model"], VAE)
    table = lesson.beta_table(rows)
    assert "active dims" in table and len(table.splitlines()) == 2 + len(rows)
    lesson.beta_tradeoff_figure(rows, images, samples=3)


def test_interpolation_starts_and_ends_at_the_reconstructions(tiny_vae, images):
    path = lesson.interpolate(tiny_vae, images[0], images[1], torch.linspace(0, 1, 5))
    assert path.shape == (5, 1, 28, 28)
    ends = tiny_vae.reconstruct(images[:2])
    torch.testing.assert_close(path[0], ends[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(path[-1], ends[1], atol=1e-5, rtol=0)


def test_stability_table_shows_the_textbook_formula_failing():
    def textbook(x, logits):
        p = torch.sigmoid(logits)
        return (x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)

    table = lesson.stability_table(textbook, bernoulli_log_likelihood, logits=(2.0, 200.0))
    last = table.splitlines()[-1].split("|")
    assert "-inf" in last[1] and float(last[2]) == pytest.approx(-200.0)


# ----------------------------------------------------------------------------- figures and the widget


def test_figures_draw(tiny_vae, images):
    assert lesson.strip(images[:3], gap=2).shape == (28, 3 * 30 - 2)
    lesson.show_images({"a": images, "b": images[:2]}, title="t")
    lesson.clips_figure({"clip": torch.rand(4, 1, 8, 8), "batch": torch.rand(2, 4, 1, 8, 8)})
    lesson.loss_curve_figure({"loss": [3.0, 2.0, 1.5, 1.2]}, smooth=2)
    lesson.latent_trajectory_figure(torch.randn(6, 3))
    lesson.kl_landscape_figure(gaussian_kl)
    lesson.interpolation_figure(tiny_vae, images[0], images[1], steps=4)
    with pytest.raises(ValueError, match=r"shape \(T, D\)"):
        lesson.latent_trajectory_figure(torch.randn(2, 6, 3))


def test_latent_walk_is_a_slider_widget(tiny_vae, images):
    widgets = pytest.importorskip("ipywidgets")
    walk = lesson.latent_walk(tiny_vae, images)
    assert isinstance(walk, widgets.VBox)

    def descendants(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from descendants(child)

    kinds = [type(w).__name__ for w in descendants(walk)]
    assert kinds.count("IntSlider") == 2 and kinds.count("FloatSlider") == 1


def test_latent_walk_without_ipywidgets_draws_a_static_strip(tiny_vae, images, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)        # import ipywidgets now raises ImportError
    figure = lesson.latent_walk(tiny_vae, images)
    assert isinstance(figure, matplotlib.figure.Figure)
    assert "ipywidgets is not installed" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the assignment


@pytest.fixture(scope="module")
def assignment():
    from autograder.assignments import load_assignment

    return load_assignment(ASSIGNMENT)


def test_own_or_library_falls_back_to_the_library_with_a_notice(capsys):
    import __main__

    from dfkit import course
    from dfkit.models.vae import gaussian_kl as library_kl

    def unwritten(mu, logvar):
        raise NotImplementedError()

    vars(__main__)["gaussian_kl"] = unwritten
    try:
        chosen = course.own_or_library("01_vae.gaussian_kl", unwritten)
    finally:
        del vars(__main__)["gaussian_kl"]
    assert chosen is library_kl
    assert "Notice: 01_vae.gaussian_kl did not pass its checks yet" in capsys.readouterr().out


def test_release_equals_nbgrader_generate_assignment(tmp_path):
    """notebooks/01_vae is what nbgrader's own generate_assignment makes of the solution (no execution)."""
    import os
    import shutil
    import subprocess

    from autograder import testing

    course = tmp_path / "course"
    shutil.copytree(testing.solution_path(ASSIGNMENT).parent, course / "source" / ASSIGNMENT)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\nc.CourseDirectory.course_id = 'dfkit'\n")
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"],
                          cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "ERROR" not in done.stderr, done.stderr[-3000:]
    released = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert released.read_text() == testing.released_path(ASSIGNMENT).read_text()
