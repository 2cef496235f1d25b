import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from dfkit import viz  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def frames(T: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(T, 1, 8, 8, generator=torch.Generator().manual_seed(seed))


def test_show_clips_draws_one_row_per_entry_and_hides_the_missing_frames():
    figure = viz.show_clips({"a": frames(5), "b": frames(3).numpy()[:, 0]}, title="t", labels={"a": list("vwxyz")})
    axes = np.array(figure.axes).reshape(2, 5)
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["a", "b"]
    assert [ax.get_title() for ax in axes[0]] == list("vwxyz") and not axes[1, 0].get_title()
    assert [ax.axison for ax in axes[1]] == [True] * 3 + [False] * 2
    shown = axes[0, 2].get_images()[0].get_array()
    assert np.array_equal(shown, frames(5)[2, 0].numpy())


def test_show_clips_frames_the_highlighted_frames_and_cuts_rows():
    figure = viz.show_clips({"long": frames(12)}, highlight=[1], max_frames=4, film=True)
    axes = figure.axes
    assert len(axes) == 4
    assert all(spine.get_visible() for spine in axes[1].spines.values())
    assert matplotlib.colors.same_color(axes[1].spines["top"].get_edgecolor(), "tab:orange")
    assert not any(spine.get_visible() for spine in axes[0].spines.values())          # a film strip: no frame lines
    plain = viz.show_clips({"long": frames(3)}, highlight=[1]).axes
    assert all(spine.get_visible() for spine in plain[0].spines.values())             # the others keep theirs


def test_show_clips_sizes_the_figure_per_frame_plus_margins():
    figure = viz.show_clips({"a": frames(4), "b": frames(4)}, size=(0.5, 1.0), margin=(1.0, 0.25))
    assert tuple(figure.get_size_inches()) == pytest.approx((0.5 * 4 + 1.0, 1.0 * 2 + 0.25))
