"""Lesson 02 (DDPM and DDIM): the notebook helpers and the assignment's grading."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from autograder.assignments import load_assignment  # noqa: E402
from autograder.plugin import DEFAULT_SEED, run_tests  # noqa: E402
from autograder.selfcheck import LocalBackend  # noqa: E402
from dfkit.diffusion import GaussianMixture, ddpm, make_schedule  # noqa: E402
from dfkit.lessons import ddpm as lesson  # noqa: E402

ASSIGNMENT = "02_ddpm"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def digits_like(count=12, size=16, seed=0):
    """Blobs in [-1, 1] with a falling spectrum, standing in for digits."""
    generator = torch.Generator().manual_seed(seed)
    image = torch.randn(count, 1, size, size, generator=generator)
    for _ in range(3):                                           # smooth: power moves to low frequencies
        image = (image + image.roll(1, -1) + image.roll(1, -2) + image.roll((1, 1), (-1, -2))) / 4
    return (image / image.abs().amax() * 3).clamp(-1, 1)


# ----------------------------------------------------------------------------- pictures and widgets

def test_plot_schedule_and_show_images_draw():
    figure = lesson.plot_schedule(make_schedule("cosine", 100))
    assert len(figure.axes) == 3
    figure = lesson.show_images(torch.zeros(5, 1, 8, 8), titles=list("abcde"), ncols=3, title="grid")
    assert len(figure.axes) == 6
    with pytest.raises(ValueError, match="expected grayscale images"):
        lesson.show_images(torch.zeros(2, 3, 8, 8))


def test_noise_spectrum_masks_more_frequencies_at_higher_levels():
    schedule = make_schedule("cosine", 1000)
    x0 = digits_like(64)
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(1))
    cutoffs = [lesson.noise_spectrum(x0, level, schedule, noise, ddpm.q_sample)["cutoff"] for level in (0, 200, 500, 900)]
    assert cutoffs == sorted(cutoffs, reverse=True) and cutoffs[0] == pytest.approx(0.5) and cutoffs[-1] < cutoffs[1]
    spectrum = lesson.noise_spectrum(x0, 500, schedule, noise, ddpm.q_sample)
    # the measured spectrum of noisy images follows alpha_bar P(f) + (1 - alpha_bar)
    np.testing.assert_allclose(spectrum["noisy"], spectrum["predicted"], rtol=0.35)
    assert spectrum["floor"] == pytest.approx(float(schedule.one_minus_alpha_bars[500]))


def test_masking_figure_and_explorer(monkeypatch, capsys):
    schedule = make_schedule("cosine", 1000)
    x0 = digits_like(8)
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(2))
    figure = lesson.masking_figure(x0, schedule, ddpm.q_sample, noise, levels=(0, 300, 1000))
    assert len(figure.axes) == 6
    widget = lesson.masking_explorer(x0, schedule, ddpm.q_sample, noise, level=100)
    assert widget is not None
    slider = widget.children[0]
    slider.value = 700                                           # redraws without error
    import sys

    monkeypatch.setitem(sys.modules, "ipywidgets", None)         # as if ipywidgets were not installed
    assert lesson.masking_explorer(x0, schedule, ddpm.q_sample, noise) is None
    assert "ipywidgets is not installed" in capsys.readouterr().out


def test_mixture_plots_trajectory_and_steps_figures():
    mixture = GaussianMixture([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.0]], np.stack([np.eye(2) * 0.1] * 2))
    axis = lesson.plot_mixture(mixture, mixture.sample(50), title="two blobs")
    assert axis.get_title() == "two blobs"
    states = [torch.zeros(3, 1, 8, 8)] * 4
    figure = lesson.plot_trajectory(states, states, [30, 20, 10, 0], count=2)
    assert len(figure.axes) == 4 * 4
    figure = lesson.plot_steps_vs_quality([2, 5, 10], [0.3, 0.1, 0.05])
    assert len(figure.axes) == 1
    figure = lesson.plot_steps_vs_quality([2, 5, 10], [0.3, 0.1, 0.05], fid_steps=[2, 5, 10, 20], fids=[90, 40, 30, 28], fid_floor=20)
    assert len(figure.axes) == 2


def test_mixture_denoiser_shapes_and_validation():
    net = lesson.MixtureDenoiser(num_levels=50)
    out = net(torch.randn(7, 2), torch.randint(0, 51, (7,)))
    assert out.shape == (7, 2)
    with pytest.raises(ValueError, match=r"expected points of shape \(N, D\)"):
        net(torch.randn(7, 1, 2), torch.zeros(7, dtype=torch.long))


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with lesson.one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


# ----------------------------------------------------------------------------- the assignment

RIGHT_IN_ANOTHER_WAY = '''
import torch
import torch.nn.functional as F

def q_sample(x0, k, noise, schedule):
    a = schedule.alpha_bars[k].reshape(k.shape + (1,) * (x0.dim() - k.dim()))
    return a.sqrt() * x0 + (1 - a).sqrt() * noise          # 1 - alpha_bar in float32: a little less accurate

def posterior_mean_variance(x0, x_k, k, schedule):
    view = lambda t: t[k].reshape(-1, *[1] * (x0.dim() - 1))
    a, a_prev, b = view(schedule.alpha_bars), view(torch.cat([schedule.alpha_bars[:1], schedule.alpha_bars[:-1]])), view(schedule.betas)
    mean = a_prev.sqrt() * b / (1 - a) * x0 + (1 - b).sqrt() * (1 - a_prev) / (1 - a) * x_k
    return mean, ((1 - a_prev) / (1 - a) * b).expand_as(x_k)

def diffusion_loss(denoiser, x0, schedule, k, noise):
    return F.mse_loss(denoiser(q_sample(x0, k, noise, schedule), k), noise)

def ancestral_step(x_k, k, eps_prediction, schedule, noise):
    a = schedule.alpha_bars[k].reshape(-1, *[1] * (x_k.dim() - 1))
    x0_hat = (x_k - (1 - a).sqrt() * eps_prediction) / a.sqrt()
    mean, variance = posterior_mean_variance(x0_hat, x_k, k, schedule)
    return mean + variance.sqrt() * noise

def ddim_step(x_k, k, k_prev, eps_prediction, schedule, eta, noise):
    a = schedule.alpha_bar(k, like=x_k)
    a_prev = schedule.alpha_bar(k_prev, like=x_k)
    x0_hat = (x_k - (1 - a).sqrt() * eps_prediction) / a.sqrt()
    variance = eta**2 * (1 - a_prev) / (1 - a) * (1 - a / a_prev)
    return a_prev.sqrt() * x0_hat + (1 - a_prev - variance).clamp(min=0).sqrt() * eps_prediction + variance.sqrt() * noise
'''


def test_correct_solutions_written_another_way_get_full_marks():
    """Other formulations (x0_hat then the posterior, float32 1 - alpha_bar, full-size variance) pass every test."""
    assignment = load_assignment(ASSIGNMENT)
    namespace: dict = {}
    exec(compile(RIGHT_IN_ANOTHER_WAY, "<right in another way>", "exec"), namespace)
    _, results = run_tests(assignment, LocalBackend(namespace, assignment), DEFAULT_SEED, capture="no")
    assert [r.name for r in results if r.status != "passed"] == []
    assert sum(r.points for r in results) == 22


def test_check_in_a_notebook_explains_a_wrong_level_with_the_sample_and_its_level():
    from autograder.selfcheck import check

    wrong = '''
def q_sample(x0, k, noise, schedule):
    shape = (-1,) + (1,) * (x0.dim() - 1)
    alpha_bar = schedule.alpha_bars[k - 1].view(shape)
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
'''
    namespace: dict = {}
    exec(wrong, namespace)
    result = check(f"{ASSIGNMENT}.q_sample", namespace=namespace, verbose=False)
    assert not result.passed
    message = result.results[0].output
    assert "x0=float32 tensor of shape (3, 1, 5, 6)" in message and "schedule=make_schedule('cosine', 1000)" in message
    assert "where sample 0 is at level k = 1" in message and "is wrong at index" in message
