import pytest
import torch

from dfkit.models.video import TEMPORAL_KINDS, VideoBackbone, VideoBackboneConfig

@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models gain nothing from a second thread, and on a busy machine a single one is far steadier."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


TINY = dict(image_size=16, widths=(8, 16), d_model=32, num_layers=2, num_heads=2, max_frames=8)
# the ways a frame's output can see its neighbours beside the temporal model's tokens
SPATIAL_PATHS = {"tokens only": {}, "neighbor skips": dict(neighbor_skips=True), "stacked frames": dict(stacked_frames=2),
                 "stacked frames, residual blocks": dict(stacked_frames=2, res_blocks=1)}


def tiny_model(temporal: str, seed: int = 0, **overrides) -> VideoBackbone:
    """A small backbone whose zero-initialized output layers are randomized, so that outputs are not all 0."""
    torch.manual_seed(seed)
    model = VideoBackbone(VideoBackboneConfig(temporal=temporal, **{**TINY, **overrides}))
    torch.nn.init.normal_(model.decoder.to_pixels.weight, std=0.1)
    torch.nn.init.normal_(model.decoder.gain.weight, std=0.1)
    for conv in model.neighbors.modules() if model.neighbors is not None else ():
        if isinstance(conv, torch.nn.Conv2d):
            torch.nn.init.normal_(conv.weight, std=0.3)
    return model.eval()


def clip(B=2, T=6, size=16, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, 1, size, size, generator=g), torch.randint(0, 1001, (B, T), generator=g)


def test_default_backbone_shapes_and_parameter_budget():
    frames, levels = clip(B=1, T=3, size=32)
    for temporal in TEMPORAL_KINDS:
        model = VideoBackbone(VideoBackboneConfig(temporal=temporal))
        assert 1_000_000 <= model.num_parameters() <= 2_200_000
        out = model(frames, levels)
        assert out.shape == frames.shape and out.dtype == frames.dtype
        assert torch.count_nonzero(out) == 0, "the output layers start at zero: an untrained model predicts 0"
    assert VideoBackbone(VideoBackboneConfig(temporal="causal")).is_causal
    assert not VideoBackbone(VideoBackboneConfig(temporal="bidirectional")).is_causal
    assert VideoBackbone(VideoBackboneConfig(temporal="gru")).max_window is None


@pytest.mark.parametrize("size", [16, 28, 32, 64])
def test_every_course_image_size_round_trips(size):
    model = tiny_model("causal", image_size=size, widths=(4, 8, 8))
    frames, levels = clip(B=1, T=2, size=size)
    assert model(frames, levels).shape == (1, 2, 1, size, size)
    assert model.double()(frames.double(), levels.int()).dtype == torch.float64


@pytest.mark.parametrize("spatial", SPATIAL_PATHS)
@pytest.mark.parametrize("temporal", ["causal", "gru"])
def test_causal_models_never_look_at_later_frames(temporal, spatial):
    model = tiny_model(temporal, **SPATIAL_PATHS[spatial])
    frames, levels = clip()
    out = model(frames, levels)
    for t in (0, 2, 4):
        changed_frames, changed_levels = frames.clone(), levels.clone()
        changed_frames[:, t + 1 :] = torch.randn_like(changed_frames[:, t + 1 :])
        changed_levels[:, t + 1 :] = 1000 - changed_levels[:, t + 1 :]
        changed = model(changed_frames, changed_levels)
        assert torch.equal(changed[:, : t + 1], out[:, : t + 1]), f"frames <= {t} saw a later frame"
        assert not torch.allclose(changed[:, t + 1], out[:, t + 1])


def test_bidirectional_model_sees_later_frames():
    model = tiny_model("bidirectional")
    frames, levels = clip()
    changed = frames.clone()
    changed[:, -1] = torch.randn_like(changed[:, -1])
    assert not torch.allclose(model(changed, levels)[:, 0], model(frames, levels)[:, 0], atol=1e-6)


@pytest.mark.parametrize("temporal", TEMPORAL_KINDS)
def test_neighbor_skips_start_as_the_plain_backbone(temporal):
    frames, levels = clip()
    plain = tiny_model(temporal)
    torch.manual_seed(0)
    with_skips = VideoBackbone(VideoBackboneConfig(temporal=temporal, neighbor_skips=True, **TINY)).eval()
    missing, unexpected = with_skips.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(name.startswith("neighbors.") for name in missing)
    assert torch.equal(with_skips(frames, levels), plain(frames, levels)), "zero-initialized: the same function at the start"


@pytest.mark.parametrize("temporal", TEMPORAL_KINDS)
def test_residual_blocks_start_as_the_plain_backbone(temporal):
    frames, levels = clip()
    plain = tiny_model(temporal)
    torch.manual_seed(0)
    deeper = VideoBackbone(VideoBackboneConfig(temporal=temporal, res_blocks=2, **TINY)).eval()
    missing, unexpected = deeper.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(".refine." in name for name in missing)
    assert torch.equal(deeper(frames, levels), plain(frames, levels)), "zero-initialized: the same function at the start"


# frames whose output changes with frame t when the token path is cut: (before t, after t) with a causal model
REACH = {"tokens only": 0, "neighbor skips": 1, "stacked frames": 2, "stacked frames, residual blocks": 2}


@pytest.mark.parametrize("spatial", SPATIAL_PATHS)
@pytest.mark.parametrize("temporal", TEMPORAL_KINDS)
def test_the_spatial_paths_carry_a_neighbour_past_the_token(temporal, spatial):
    """Cut the token path (from_token = 0): frame t's output still changes with frames t-1 .. t-n, n the
    path's reach (1 for the neighbour skips, stacked_frames for stacked frames), and with t+1 .. t+n if bidirectional."""
    frames, levels = clip(T=8)
    model = tiny_model(temporal, **SPATIAL_PATHS[spatial])
    torch.nn.init.zeros_(model.decoder.from_token.weight)
    torch.nn.init.zeros_(model.decoder.from_token.bias)
    reach = REACH[spatial]
    for t_changed in (3, 4):
        changed = frames.clone()
        changed[:, t_changed] = torch.randn_like(changed[:, t_changed])
        moved = (model(frames, levels) - model(changed, levels)).abs().amax(dim=(0, 2, 3, 4))     # (T,)
        after = set(range(t_changed + 1, t_changed + reach + 1))
        before = set(range(t_changed - reach, t_changed)) if temporal == "bidirectional" else set()
        for t in range(8):
            reached = t == t_changed or t in after or t in before
            assert (moved[t] > 1e-4) == reached, f"frame {t} {'should' if reached else 'should not'} see frame {t_changed}"


@pytest.mark.parametrize("temporal", TEMPORAL_KINDS)
def test_the_level_of_a_frame_changes_that_frames_output(temporal):
    model = tiny_model(temporal)
    frames, levels = clip()
    t = 3
    changed = levels.clone()
    changed[:, t] = torch.where(levels[:, t] > 500, 0, 1000)
    before, after = model(frames, levels), model(frames, changed)
    assert (after[:, t] - before[:, t]).abs().amax() > 1e-3
    if temporal != "bidirectional":
        assert torch.equal(after[:, :t], before[:, :t])


@pytest.mark.parametrize("spatial", SPATIAL_PATHS)
@pytest.mark.parametrize("temporal", TEMPORAL_KINDS)
def test_no_information_crosses_the_batch(temporal, spatial):
    model = tiny_model(temporal, **SPATIAL_PATHS[spatial]).train()                 # train mode: BatchNorm would leak here
    frames, levels = clip(B=3)
    changed_frames, changed_levels = frames.clone(), levels.clone()
    changed_frames[1] = torch.randn_like(frames[1])
    changed_levels[1] = torch.randint(0, 1001, levels[1].shape)
    out, changed = model(frames, levels), model(changed_frames, changed_levels)
    assert torch.equal(out[0], changed[0]) and torch.equal(out[2], changed[2])
    assert not torch.allclose(out[1], changed[1])


@pytest.mark.parametrize("spatial", SPATIAL_PATHS)
def test_gru_state_carries_a_clip_across_calls(spatial):
    model = tiny_model("gru", **SPATIAL_PATHS[spatial])
    frames, levels = clip(T=8)
    full, full_state = model(frames, levels, return_state=True)
    if spatial == "neighbor skips":                       # (hidden, the last frame's encoder map of each stage)
        assert full_state[0].shape == (2, 2, 32) and [m.shape for m in full_state[1]] == [(2, 8, 8, 8), (2, 16, 4, 4)]
    elif spatial.startswith("stacked frames"):            # (hidden, (the last 2 frames, their levels))
        assert full_state[0].shape == (2, 2, 32) and torch.equal(full_state[1][0], frames[:, -2:])
        assert torch.equal(full_state[1][1], levels[:, -2:])
    else:
        assert full_state.shape == (2, 2, 32)
    first, state = model(frames[:, :3], levels[:, :3], return_state=True)
    second, state = model(frames[:, 3:], levels[:, 3:], state=state, return_state=True)
    torch.testing.assert_close(torch.cat([first, second], dim=1), full, atol=1e-6, rtol=0)
    torch.testing.assert_close(state, full_state, atol=1e-6, rtol=0)
    state, pieces = None, []                              # one frame at a time, as in a long rollout
    for t in range(8):
        out, state = model(frames[:, t : t + 1], levels[:, t : t + 1], state=state, return_state=True)
        pieces.append(out)
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-6, rtol=0)
    assert not torch.allclose(model(frames[:, 3:], levels[:, 3:]), second), "a fresh state must differ from the carried one"


@pytest.mark.parametrize("spatial", SPATIAL_PATHS)
def test_causal_transformer_window_only_depends_on_its_own_frames(spatial):
    model = tiny_model("causal", **SPATIAL_PATHS[spatial])
    frames, levels = clip(T=12)
    start, width = 4, 8                                   # a window of max_frames frames sliding over a longer clip
    window = model(frames[:, start : start + width], levels[:, start : start + width])
    for j in (0, 3, 7):                                   # frame j of the window sees window frames 0..j, nothing else
        prefix = model(frames[:, start : start + j + 1], levels[:, start : start + j + 1])
        torch.testing.assert_close(window[:, j], prefix[:, j], atol=1e-6, rtol=0)  # other shapes: equal up to rounding
    other = frames.clone()
    other[:, :start] = torch.randn_like(other[:, :start])  # a different past outside the window changes nothing
    torch.testing.assert_close(model(other[:, start : start + width], levels[:, start : start + width]), window, atol=0, rtol=0)
    # positions count from the window start: the same frames later in a window give other outputs
    shifted = model(frames[:, start - 1 : start + width - 1], levels[:, start - 1 : start + width - 1])
    assert not torch.allclose(shifted[:, 1], window[:, 0])
    with pytest.raises(ValueError, match="at most max_frames=8"):
        model(frames[:, :9], levels[:, :9])


@pytest.mark.parametrize("spatial", SPATIAL_PATHS)
@pytest.mark.parametrize("temporal", ["causal", "gru"])
@pytest.mark.parametrize("c", [1, 5])
def test_an_encoded_history_gives_the_outputs_of_the_whole_clip(temporal, c, spatial):
    model = tiny_model(temporal, **SPATIAL_PATHS[spatial])
    frames, levels = clip(T=8)
    whole = model(frames, levels)
    history = model.encode_history(frames[:, :c], levels[:, :c])
    assert history.num_frames == c and history.batch_size == 2
    assert history.window_frames == (c if temporal == "causal" else 0)   # a GRU state takes no room in a window
    rest = model(frames[:, c:], levels[:, c:], history=history)
    torch.testing.assert_close(rest, whole[:, c:], atol=1e-5, rtol=0)
    for n in range(1, 8 - c):                              # the same history serves every later call (a sampler's rows)
        torch.testing.assert_close(model(frames[:, c:c + n], levels[:, c:c + n], history=history), whole[:, c:c + n], atol=1e-5, rtol=0)
    other = frames.clone()
    other[:, c - 1] = torch.randn_like(other[:, c - 1])    # the history is really used
    changed = model(frames[:, c:], levels[:, c:], history=model.encode_history(other[:, :c], levels[:, :c]))
    assert not torch.allclose(changed, rest, atol=1e-4)


def test_a_history_cache_is_refused_where_it_cannot_be_right():
    frames, levels = clip(T=8)
    with pytest.raises(ValueError, match="expected a causal model"):
        tiny_model("bidirectional").encode_history(frames[:, :3], levels[:, :3])
    model = tiny_model("causal")
    history = model.encode_history(frames[:, :3], levels[:, :3])
    with pytest.raises(ValueError, match=r"at most max_frames=8 frames for the causal transformer, got 3 history \+ 6 = 9"):
        model(torch.cat([frames, frames], 1)[:, :6], torch.cat([levels, levels], 1)[:, :6], history=history)
    with pytest.raises(ValueError, match="expected 2 clips as in the history, got 1"):
        model(frames[:1, 3:], levels[:1, 3:], history=history)
    with pytest.raises(ValueError, match="encoded by a gru model"):
        tiny_model("gru")(frames[:, 3:], levels[:, 3:], history=history)
    with pytest.raises(ValueError, match="from model.encode_history"):
        model(frames[:, 3:], levels[:, 3:], history=(frames, levels))
    with pytest.raises(ValueError, match="encoded by a model with neighbor_skips=True"):
        tiny_model("causal", neighbor_skips=True)(frames[:, 3:], levels[:, 3:], history=history)
    with pytest.raises(ValueError, match="encoded by a model with stacked_frames=2"):
        tiny_model("causal", stacked_frames=2)(frames[:, 3:], levels[:, 3:], history=history)
    gru = tiny_model("gru")
    with pytest.raises(ValueError, match="either state= or history="):
        gru(frames[:, 3:], levels[:, 3:], state=torch.zeros(2, 2, 32), history=gru.encode_history(frames[:, :3], levels[:, :3]))


def bad_input_cases():
    frames, levels = clip(T=4)
    return [
        ("causal", frames[0], levels, {}, r"expected frames of shape \(B, T, 1, 16, 16\), got \(4, 1, 16, 16\)"),
        ("causal", torch.randn(2, 4, 1, 32, 32), levels, {}, r"expected frames of shape \(B, T, 1, 16, 16\), got \(2, 4, 1, 32, 32\)"),
        ("causal", torch.randn(2, 4, 3, 16, 16), levels, {}, r"expected frames of shape"),
        ("causal", frames.to(torch.uint8), levels, {}, "floating-point frames"),
        ("causal", frames, levels[:, :3], {}, r"expected levels of shape \(B, T\) = \(2, 4\)"),
        ("causal", frames, levels[0], {}, r"expected levels of shape \(B, T\)"),
        ("causal", frames, [[0] * 4] * 2, {}, r"expected levels of shape \(B, T\)"),
        ("causal", frames, levels.float() / 1000, {}, "expected integer levels in 0..1000"),
        ("causal", frames, levels > 0, {}, "expected integer levels"),
        ("causal", frames, levels.clone().fill_(1001), {}, r"expected levels in 0..1000, got values from 1001 to 1001"),
        ("causal", frames, levels - 2000, {}, r"expected levels in 0..1000"),
        ("causal", frames, levels, {"state": torch.zeros(2, 2, 32)}, "state is only supported by the 'gru'"),
        ("bidirectional", frames, levels, {"return_state": True}, "state is only supported by the 'gru'"),
        ("gru", frames, levels, {"state": torch.zeros(2, 3, 32)}, r"expected a GRU state of shape \(num_layers, B, d_model\) = \(2, 2, 32\)"),
        ("gru+neighbors", frames, levels, {"state": torch.zeros(2, 2, 32)}, r"expected the GRU state \(hidden, maps\)"),
        ("gru+neighbors", frames, levels, {"state": (torch.zeros(2, 2, 32), (torch.zeros(2, 8, 8, 8),))},
         r"expected the state's maps of shapes \(\(2, 8, 8, 8\), \(2, 16, 4, 4\)\), got \(\(2, 8, 8, 8\),\)"),
        ("gru+stacked", frames, levels, {"state": torch.zeros(2, 2, 32)}, r"expected the GRU state \(hidden, \(frames, levels\)\)"),
        ("gru+stacked", frames, levels, {"state": (torch.zeros(2, 2, 32), (frames[:, :1], levels[:, :1]))},
         r"expected the state's last 2 frames \(B, 2, C, H, W\) and levels \(B, 2\) for B = 2, got \(\(2, 1, 1, 16, 16\), \(2, 1\)\)"),
    ]


@pytest.mark.parametrize("temporal, frames, levels, kwargs, message", bad_input_cases())
def test_bad_inputs_fail_with_a_clear_message(temporal, frames, levels, kwargs, message):
    temporal, _, path = temporal.partition("+")
    with pytest.raises(ValueError, match=message):
        tiny_model(temporal, neighbor_skips=path == "neighbors", stacked_frames=2 if path == "stacked" else 0)(frames, levels, **kwargs)


def test_bad_configs_fail_with_a_clear_message():
    with pytest.raises(ValueError, match="expected temporal in"):
        VideoBackbone(VideoBackboneConfig(temporal="lstm"))
    with pytest.raises(ValueError, match="image_size >= 2\\*\\*len\\(widths\\) = 8"):
        VideoBackbone(VideoBackboneConfig(image_size=4, widths=(8, 8, 8)))
    with pytest.raises(ValueError, match="divisible by num_heads"):
        VideoBackbone(VideoBackboneConfig(d_model=30, num_heads=4))
    with pytest.raises(ValueError, match="num_heads, max_frames, num_levels >= 1"):
        VideoBackbone(VideoBackboneConfig(num_heads=0))
    with pytest.raises(ValueError, match="one spatial history path"):
        VideoBackbone(VideoBackboneConfig(stacked_frames=1, neighbor_skips=True))
    with pytest.raises(ValueError, match="stacked_frames >= 0 and res_blocks >= 0"):
        VideoBackbone(VideoBackboneConfig(res_blocks=-1))
    assert VideoBackboneConfig(widths=[8, 16]).widths == (8, 16)      # as read back from JSON


@pytest.mark.parametrize("spatial", SPATIAL_PATHS)
@pytest.mark.parametrize("temporal", TEMPORAL_KINDS)
def test_a_tiny_model_overfits_a_tiny_batch(temporal, spatial):
    torch.manual_seed(0)
    model = VideoBackbone(VideoBackboneConfig(temporal=temporal, **SPATIAL_PATHS[spatial], **{**TINY, "max_frames": 4})).train()
    frames, levels = clip(B=2, T=4)
    target = torch.roll(frames, 1, dims=1).tanh()          # depends on other frames and on the input
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        loss = (model(frames, levels) - target).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 10, f"loss went from {losses[0]:.4f} to {losses[-1]:.4f}"
    silent = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not silent, f"no gradient reached {silent}"


def test_checkpoint_round_trip(tmp_path):
    from dfkit.checkpoint import load_checkpoint, save_checkpoint

    frames = torch.randn(2, 3, 1, 16, 16)
    levels = torch.tensor([[0, 5, 999], [3, 0, 1]])
    for spatial in (dict(neighbor_skips=True), dict(stacked_frames=2, res_blocks=1)):
        config = VideoBackboneConfig(image_size=16, widths=(8, 16), d_model=32, num_layers=1, num_heads=2, temporal="gru", **spatial)
        model = VideoBackbone(config).eval()
        save_checkpoint(tmp_path / "video", model)
        loaded, _ = load_checkpoint(tmp_path / "video")
        assert loaded.config == config and torch.equal(model(frames, levels), loaded.eval()(frames, levels))


@pytest.mark.parametrize("temporal", TEMPORAL_KINDS)
def test_a_backbone_without_convolutions_runs_on_latent_frames(temporal):
    """widths=(): a frame is a small latent (D x 1 x 1, or D x h x w) mapped to its token and back by linear maps."""
    torch.manual_seed(0)
    config = VideoBackboneConfig(image_size=1, channels=6, widths=(), d_model=16, num_layers=2, num_heads=2, max_frames=8,
                                 temporal=temporal)
    model = VideoBackbone(config).eval()
    latents, levels = torch.randn(2, 6, 6, 1, 1), torch.randint(0, 1001, (2, 6))
    assert torch.count_nonzero(model(latents, levels)) == 0, "the output map starts at zero: an untrained model predicts 0"
    torch.nn.init.normal_(model.decoder.from_token.weight, std=0.1)
    torch.nn.init.normal_(model.decoder.gain.weight, std=0.1)
    out = model(latents, levels)
    assert out.shape == latents.shape and model.decoder.to_pixels is None
    if temporal == "bidirectional":
        return
    changed = latents.clone()
    changed[:, 3:] = torch.randn_like(changed[:, 3:])
    assert torch.equal(model(changed, levels)[:, :3], out[:, :3]), "a causal latent model saw a later frame"
    history = model.encode_history(latents[:, :3], levels[:, :3])
    torch.testing.assert_close(model(latents[:, 3:], levels[:, 3:], history=history), out[:, 3:], atol=1e-5, rtol=0)
    spatial = VideoBackbone(VideoBackboneConfig(image_size=2, channels=3, widths=(), d_model=16, num_heads=2, temporal=temporal))
    assert spatial(torch.randn(1, 2, 3, 2, 2), torch.zeros(1, 2, dtype=torch.long)).shape == (1, 2, 3, 2, 2)
    with pytest.raises(ValueError, match="positive widths \\(empty: latent frames"):
        VideoBackbone(VideoBackboneConfig(widths=(8, 0)))
