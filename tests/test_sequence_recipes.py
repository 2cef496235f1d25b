"""Sequence-model recipes (train once, then load), their presets, rollouts, and the rollout benchmark's core."""

import dataclasses
import json
import math
import os

import pytest
import torch

from dfkit.data.moving_mnist import MovingMNISTConfig
from dfkit.data.pendulum import PendulumConfig
from dfkit.models.vae import VAEConfig
from dfkit.models.video import VideoBackboneConfig
from dfkit.profiles import PROFILES, SEQUENCE_DATASETS, SequencePresets, get_profile
from dfkit.sequence import recipes
from dfkit.sequence.objectives import DiffusionForcing, FullSequenceDiffusion, NextFrameRegression, TeacherForcing
from dfkit.train import TrainConfig
from helpers import load_benchmark

pytestmark = pytest.mark.usefixtures("one_thread")

TINY_TRAINING = TrainConfig(steps=3, batch_size=4, lr=1e-3, ema_decay=0.9, log_every=1, progress=False)
TINY_PRESETS = SequencePresets(
    backbone=VideoBackboneConfig(image_size=16, widths=(8, 16), d_model=16, num_layers=1, num_heads=2, max_frames=4),
    horizon=4, context=2, chunk=2, sampling_steps=2, stabilization_level=50, eval_clips=2, markov_clips=4,
    teacher_forcing=TINY_TRAINING, markov=TINY_TRAINING, regressor=TINY_TRAINING, full_sequence=TINY_TRAINING,
    diffusion_forcing=TINY_TRAINING,
)
TINY_MOVING_MNIST = dataclasses.replace(      # as the course's Moving-MNIST presets: neighbor skips, latent models
    TINY_PRESETS, backbone=dataclasses.replace(TINY_PRESETS.backbone, neighbor_skips=True),
    frame_vae=VAEConfig(image_size=16, latent_dim=4, base_channels=4, channel_mults=(1, 2), beta=0.5),
    frame_vae_training=TINY_TRAINING, latent=TINY_TRAINING,
    latent_backbone=VideoBackboneConfig(image_size=1, widths=(), d_model=16, num_layers=1, num_heads=2),
)
OBJECTIVES = {"teacher_forcing": TeacherForcing, "regression": NextFrameRegression,
              "full_sequence": FullSequenceDiffusion, "diffusion_forcing": DiffusionForcing}


@pytest.fixture
def tiny_profile(tmp_path, monkeypatch):
    monkeypatch.setenv("DFKIT_CHECKPOINTS", str(tmp_path))
    return dataclasses.replace(
        get_profile("quick"),
        pendulum=PendulumConfig(num_sequences=12, num_frames=8, image_size=16),
        moving_mnist=MovingMNISTConfig(num_sequences=8, num_frames=8, canvas_size=16, num_digits=1, digit_size=8, speed=1.0),
        pendulum_sequence=TINY_PRESETS,
        moving_mnist_sequence=TINY_MOVING_MNIST,

    )


def unit_context(B=2, c=2, seed=0):
    return torch.rand(B, c, 1, 16, 16, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------- presets


@pytest.mark.parametrize("profile_name", sorted(PROFILES))
@pytest.mark.parametrize("dataset", SEQUENCE_DATASETS)
def test_presets_validate_for_every_profile(profile_name, dataset):
    profile = get_profile(profile_name)
    chosen = recipes.presets(dataset, profile)
    data_config = getattr(profile, dataset)
    assert chosen.parameterization == "v"
    size = data_config.image_size if dataset == "pendulum" else data_config.canvas_size
    assert chosen.backbone.image_size == size
    assert chosen.rollout_lengths == (4 * chosen.horizon, 10 * chosen.horizon)
    bands = chosen.bands
    assert bands[0] == (1, chosen.horizon) and bands[-1][1] == 10 * chosen.horizon
    assert all(later[0] == earlier[1] + 1 for earlier, later in zip(bands, bands[1:]))
    for name in recipes.available_models(dataset, profile):
        config = recipes.backbone_config(name, dataset, profile)
        assert config.max_frames == recipes.window_length(name, dataset, profile) <= data_config.num_frames


def test_class_pendulum_presets_match_the_course_bands():
    from dfkit.metrics.pendulum import PENDULUM_BANDS

    chosen = get_profile("class").pendulum_sequence
    assert chosen.horizon == 16 and chosen.bands == PENDULUM_BANDS
    assert get_profile("class").moving_mnist_sequence.backbone.image_size == 32


def test_presets_that_do_not_fit_fail_clearly():
    with pytest.raises(ValueError, match="chunk"):
        dataclasses.replace(TINY_PRESETS, chunk=4).validate()
    with pytest.raises(ValueError, match="parameterization"):
        dataclasses.replace(TINY_PRESETS, parameterization="score").validate()
    for shift in (0.0, -2.0, True):
        with pytest.raises(ValueError, match="finite level_shift > 0"):
            dataclasses.replace(TINY_PRESETS, level_shift=shift).validate()
    with pytest.raises(ValueError, match="32x32 frames, got image_size=16"):
        TINY_PRESETS.validate(PendulumConfig(image_size=32))
    with pytest.raises(ValueError, match="within the dataset's clips of 3 frames"):
        TINY_PRESETS.validate(PendulumConfig(image_size=16, num_frames=3))
    with pytest.raises(ValueError, match="unknown dataset"):
        get_profile("quick").sequence("kitti")


# --------------------------------------------------------------------------- building and training


@pytest.mark.parametrize("name", recipes.SEQUENCE_MODELS)
def test_every_name_builds_its_objective_and_backbone_kind(name, tiny_profile):
    spec = recipes.spec(name)
    dataset = "moving_mnist" if spec.latent else "pendulum"
    presets = recipes.presets(dataset, tiny_profile)
    model, loss_fn, clips, config = recipes.build(name, dataset, tiny_profile, progress=False)
    assert isinstance(loss_fn, OBJECTIVES[spec.objective])
    assert model.config.temporal == spec.temporal
    bidirectional = ("full_sequence", "diffusion_forcing_bidirectional")
    assert model.is_causal == (name not in bidirectional)
    expected_temporal = "bidirectional" if name in bidirectional else "gru" if name.endswith("_gru") else "causal"
    assert model.config.temporal == expected_temporal
    if spec.objective == "teacher_forcing":
        assert loss_fn.context == {"teacher_forcing_1frame": 1, "teacher_forcing_2frame": 2}.get(name, TINY_PRESETS.context)
        assert model.config.max_frames == loss_fn.context + 1
        expected_noise = TINY_PRESETS.stabilization_level if name == "teacher_forcing_noisy_history" else 0
        assert loss_fn.history_noise == expected_noise
    else:
        assert loss_fn.window == TINY_PRESETS.horizon == model.config.max_frames
    if spec.objective != "regression":
        assert loss_fn.parameterization == "v"
    if spec.objective == "diffusion_forcing":
        expected_share = TINY_PRESETS.clean_history_fraction if name == "diffusion_forcing_clean_history" else 0.0
        assert loss_fn.clean_history_fraction == expected_share and 0 < TINY_PRESETS.clean_history_fraction < 1
    assert config == (TINY_PRESETS.markov if "frame" in name else getattr(presets, spec.training))
    if spec.latent:                                                    # standardized latents of the frame VAE, not rescaled
        batch = clips[:4]
        assert batch.shape[2:] == (presets.frame_vae.latent_dim, 1, 1) and not loss_fn.rescale
        assert model.config.widths == () and model.config.channels == presets.frame_vae.latent_dim
    else:
        batch = clips.frames(range(4))                                 # [0, 1]; the objective rescales
        assert batch.min() >= 0 and batch.max() <= 1 and loss_fn.rescale
    loss = loss_fn(model, batch, torch.Generator().manual_seed(0))
    assert torch.isfinite(loss) and loss > 0


@pytest.mark.parametrize("name", ["teacher_forcing_2frame", "full_sequence", "diffusion_forcing_gru"])
def test_trains_once_then_loads_the_checkpoint(name, tiny_profile, tmp_path, monkeypatch):
    dataset = "moving_mnist" if name == "full_sequence" else "pendulum"
    trained = recipes.sequence_model(name, dataset, tiny_profile, progress=False)
    assert (tmp_path / "quick" / f"{dataset}_{name}.json").exists()
    record = recipes.training_record(name, dataset, tiny_profile)
    assert record["steps"] == 3 and record["train_seconds"] > 0 and record["torch_threads"] == 1
    monkeypatch.setattr(recipes, "train_resumable", lambda *a, **k: pytest.fail("a saved checkpoint must not be retrained"))
    loaded = recipes.sequence_model(name, dataset, tiny_profile, progress=False)
    assert loaded.config == trained.config and not loaded.training
    for (key, a), (_, b) in zip(trained.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), key


def test_a_latent_model_trains_its_frame_vae_first_then_loads_and_rolls_out_frames(tiny_profile, tmp_path, monkeypatch):
    from dfkit.sequence.latent import LatentSequenceModel

    trained = recipes.sequence_model("latent_diffusion_forcing", "moving_mnist", tiny_profile, progress=False)
    assert isinstance(trained, LatentSequenceModel) and not trained.training
    for name in ("moving_mnist_frame_vae", "moving_mnist_latent_diffusion_forcing"):
        assert (tmp_path / "quick" / f"{name}.json").exists()
    context = torch.rand(2, 2, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    for method in recipes.spec("latent_diffusion_forcing").rollouts:
        frames = recipes.rollout("latent_diffusion_forcing", trained, context, 5, tiny_profile, dataset="moving_mnist", method=method)
        assert frames.shape == (2, 5, 1, 16, 16) and frames.min() >= 0 and frames.max() <= 1
    monkeypatch.setattr(recipes, "train", lambda *a, **k: pytest.fail("a saved frame VAE must not be retrained"))
    monkeypatch.setattr(recipes, "train_resumable", lambda *a, **k: pytest.fail("a saved checkpoint must not be retrained"))
    loaded = recipes.sequence_model("latent_diffusion_forcing", "moving_mnist", tiny_profile, progress=False)
    again = recipes.rollout("latent_diffusion_forcing", loaded, context, 5, tiny_profile, dataset="moving_mnist")
    assert torch.equal(again, recipes.rollout("latent_diffusion_forcing", trained, context, 5, tiny_profile, dataset="moving_mnist"))
    # a pixel model under a latent name (and the reverse) is refused, not silently fed the wrong frames
    pixel = trained.backbone
    with pytest.raises(ValueError, match="expected a LatentSequenceModel"):
        recipes.rollout("latent_diffusion_forcing", pixel, context, 2, tiny_profile, dataset="moving_mnist")


def test_a_latent_model_of_another_frame_vae_is_refused(tiny_profile, tmp_path):
    from dfkit.checkpoint import load_checkpoint, save_checkpoint

    recipes.sequence_model("latent_teacher_forcing", "moving_mnist", tiny_profile, progress=False)
    path = tmp_path / "quick" / "moving_mnist_frame_vae"
    vae, meta = load_checkpoint(path)
    with torch.no_grad():
        vae.to_posterior.bias.add_(0.1)                                # a frame VAE trained anew
    save_checkpoint(path, vae, step=meta["step"], extra_state=meta["extra_state"])
    with pytest.raises(ValueError, match="another frame VAE"):
        recipes.sequence_model("latent_teacher_forcing", "moving_mnist", tiny_profile, progress=False)
    other = dataclasses.replace(tiny_profile, moving_mnist_sequence=dataclasses.replace(
        TINY_MOVING_MNIST, frame_vae=dataclasses.replace(TINY_MOVING_MNIST.frame_vae, latent_dim=6)))
    with pytest.raises(ValueError, match="retrain it or remove the checkpoint"):
        recipes.frame_codec("moving_mnist", other, progress=False)
    with pytest.raises(ValueError, match="no frame VAE, so no latent models"):
        recipes.build("latent_teacher_forcing", "pendulum", tiny_profile, progress=False)
    assert "latent_teacher_forcing" not in recipes.available_models("pendulum", tiny_profile)
    assert "latent_teacher_forcing" in recipes.available_models("moving_mnist", tiny_profile)


def test_initial_weights_come_from_the_training_seed_alone(tiny_profile):
    first = recipes.build("diffusion_forcing", "pendulum", tiny_profile, progress=False)[0]
    torch.rand(100)                                                    # whatever ran before must not matter
    state = torch.get_rng_state()
    second = recipes.build("diffusion_forcing", "pendulum", tiny_profile, progress=False)[0]
    assert torch.equal(torch.get_rng_state(), state)                   # the global RNG is left alone
    for (key, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items()):
        assert torch.equal(a, b), key
    reseeded = dataclasses.replace(tiny_profile, pendulum_sequence=dataclasses.replace(
        TINY_PRESETS, diffusion_forcing=dataclasses.replace(TINY_TRAINING, seed=1)))
    third = recipes.build("diffusion_forcing", "pendulum", reseeded, progress=False)[0]
    assert not torch.equal(first.encoder.to_token.weight, third.encoder.to_token.weight)


def test_another_seed_is_another_training_with_its_own_checkpoint(tiny_profile, tmp_path):
    default = recipes.sequence_model("regressor", "pendulum", tiny_profile, progress=False)
    assert recipes.checkpoint_path("regressor", "pendulum", tiny_profile, seed=TINY_TRAINING.seed) == \
        recipes.checkpoint_path("regressor", "pendulum", tiny_profile)        # the presets' seed is the central table's model
    other = recipes.sequence_model("regressor", "pendulum", tiny_profile, progress=False, seed=7)
    assert (tmp_path / "quick" / "pendulum_regressor_seed7.json").exists()
    assert recipes.training_record("regressor", "pendulum", tiny_profile, seed=7)["steps"] == TINY_TRAINING.steps
    assert recipes.training_config("regressor", "pendulum", tiny_profile, seed=7).seed == 7
    assert not torch.equal(default.encoder.to_token.weight, other.encoder.to_token.weight)
    reloaded = recipes.sequence_model("regressor", "pendulum", tiny_profile, progress=False, seed=7)
    assert torch.equal(reloaded.encoder.to_token.weight, other.encoder.to_token.weight)
    for bad in (-1, 1.5, True, "1"):
        with pytest.raises(ValueError, match="seed"):
            recipes.sequence_model("regressor", "pendulum", tiny_profile, progress=False, seed=bad)


def test_seed_and_stabilization_benchmarks_run_on_a_tiny_profile(tiny_profile):
    seeds = load_benchmark("training_seeds")
    rows = seeds.seed_rows(tiny_profile, names=("diffusion_forcing",), seeds=(0, 3))
    labels = [label for label, name, _ in seeds.methods("pendulum", tiny_profile) if name == "diffusion_forcing"]
    assert [(row["method"], row["seed"]) for row in rows] == [(label, seed) for label in labels for seed in (0, 3)]
    assert all(math.isfinite(row["angle err° 1-4"]) and row["train (min)"] > 0 for row in rows)
    summary = seeds.spread(rows)
    assert [entry["method"] for entry in summary] == labels and all(entry["seeds"] == 2 for entry in summary)
    first = [row["angle err° 1-4"] for row in rows[:2]]
    assert summary[0]["angle err° 1-4"] == f"{sum(first) / 2:.3g} ({min(first):.3g}-{max(first):.3g})"
    assert seeds.parse_seeds("0,2") == (0, 2)
    assert seeds.report_path("class", seeds.DEFAULT_MODELS).name == "training_seeds_class.md"
    assert seeds.report_path("class", ("diffusion_forcing_clean_history",)).name == (
        "training_seeds_class_diffusion_forcing_clean_history.md")       # never overwrites the default table
    for bad in ("0,0", "one", "-1", ""):
        with pytest.raises(SystemExit, match="distinct"):
            seeds.parse_seeds(bad)

    stabilization = load_benchmark("stabilization_level")
    rows = stabilization.sweep(tiny_profile, levels=(0, 50), clips=2, multiple=2, models=stabilization.MODELS)
    rows, baselines = rows[:-3], {row["model"]: row for row in rows[-3:]}
    assert [(row["model"], row["matrix"], row["k_small"]) for row in rows] == [
        (name, matrix, level) for name in stabilization.MODELS for matrix in ("autoregressive", "pyramid") for level in (0, 50)]
    assert [row["preset"] for row in rows] == ["", "yes"] * 4
    assert rows[0]["noise std"] == 0 and rows[1]["noise std"] == pytest.approx(0.09, abs=0.02)
    assert all(math.isfinite(row["angle err° 5-8"]) for row in rows)
    assert list(baselines) == ["copy last frame", "hanging still", "true frames"]          # measured, not quoted
    assert baselines["true frames"]["angle err° 5-8"] < 3 < baselines["copy last frame"]["angle err° 5-8"]
    assert rows[0].keys() == baselines["true frames"].keys()
    with pytest.raises(ValueError, match="unknown model"):
        stabilization.sweep(tiny_profile, models=("teacher_forcing",))

    from dfkit.metrics.classifier import DigitClassifier

    rows = stabilization.sweep(tiny_profile, levels=(0, 50), clips=2, multiple=2, dataset="moving_mnist",
                               classifier=DigitClassifier().eval())
    rows, baselines = rows[:-3], {row["model"]: row for row in rows[-3:]}
    assert [(row["matrix"], row["k_small"]) for row in rows] == [(m, level) for m in ("autoregressive", "pyramid") for level in (0, 50)]
    columns = [f"{metric} {band}" for metric in ("identity", "MSE", "abs intensity drift") for band in ("1-4", "5-8")]
    assert all(math.isfinite(row[column]) and 0 <= row["identity 5-8"] <= 1 for row in rows for column in columns)
    assert list(baselines) == ["copy last frame", "all black", "ground truth"]
    assert baselines["ground truth"]["MSE 5-8"] == 0 < baselines["all black"]["MSE 5-8"]
    assert rows[0].keys() == baselines["ground truth"].keys()


def test_first_frames_benchmark_runs_on_a_tiny_profile(tiny_profile):
    from dfkit.metrics.classifier import DigitClassifier

    first = load_benchmark("moving_mnist_first_frames")
    torch.manual_seed(0)
    rows = first.first_frames(tiny_profile, steps=(2, 3), clips=3, classifier=DigitClassifier().eval())
    assert [(row["model"], row["DDIM steps"]) for row in rows] == [
        (name, steps) for name in first.MODELS for steps in ((2, 3) if name != "regressor" else ("—",))
    ] + [("copy last frame", "—"), ("all black", "—"), ("ground truth", "—")]
    columns = ["MSE 1-1", "MSE 2-2", "identity 1-1", "identity 2-2"]           # chunk 2: the first frame, then one more
    assert all(math.isfinite(row[column]) for row in rows for column in columns)
    assert rows[-1]["MSE 1-1"] == 0 and all(row["rollout (s)"] > 0 for row in rows[:-3])
    one_call = first.one_call_at_level_k(tiny_profile, clips=3, classifier=DigitClassifier().eval())
    causal = [name for name in first.MODELS if recipes.spec(name).temporal == "causal"]
    assert [row["model"] for row in one_call] == causal and "full_sequence" not in causal
    assert all(math.isfinite(row["MSE"]) and row["MSE"] > 0 and 0 <= row["identity"] <= 1 for row in one_call)


def test_digit_loss_benchmark_runs_on_a_tiny_profile(tiny_profile):
    from dfkit.metrics.classifier import DigitClassifier

    benchmark = load_benchmark("moving_mnist_digit_loss")
    classifier, bands = DigitClassifier().eval(), ((1, 1), (1, 3))
    ladder = benchmark.along_the_ladder(tiny_profile, clips=3, seed=0, classifier=classifier)
    rungs = [1000, 500]                                                 # 2 DDIM steps per frame in the tiny presets
    assert [(row["model"], row["level k"]) for row in ladder] == [(name, k) for name in benchmark.LADDER_MODELS for k in rungs]
    assert all(0 <= row["identity of sampled x̂_0"] <= 1 and row["MSE from the noised truth"] > 0 for row in ladder)
    guided = benchmark.with_history_guidance(tiny_profile, 3, 3, 0, classifier, bands)
    assert [row["history guidance w"] for row in guided] == list(benchmark.GUIDANCE_SCALES)
    latent, picture = benchmark.latent_against_pixels(tiny_profile, 3, 3, 0, classifier, bands)
    assert picture.shape == (3 * (1 + len(benchmark.LATENT_ROWS)), 3, 1, 16, 16)          # 3 clips < PICTURE_CLIPS, 3 frames
    assert [(row["model"], row["rollout"]) for row in latent[:-4]] == list(benchmark.LATENT_ROWS)
    assert [row["model"] for row in latent[-4:]] == ["frame VAE reconstruction of the truth", "ground truth", "copy last frame",
                                                     "all black"]
    assert latent[-3]["MSE 1-3"] == 0 and latent[-4]["MSE 1-3"] > 0
    # guidance with w = 1 is the plain conditional: the same frames as the stabilized rollout of the latent table
    stabilized = next(row for row in latent if row["model"] == "diffusion_forcing")
    assert guided[0]["MSE 1-3"] == pytest.approx(stabilized["MSE 1-3"], rel=1e-6)
    assert guided[0]["identity 1-3"] == stabilized["identity 1-3"]


def test_backbones_benchmark_runs_on_a_tiny_profile(tiny_profile, tmp_path):
    from dfkit.metrics.classifier import DigitClassifier

    benchmark = load_benchmark("moving_mnist_backbones")
    classifier = DigitClassifier().eval()
    variant = benchmark.variant_profile(tiny_profile, "stacked2_clean50", "diffusion_forcing_clean_history", 3)
    chosen = variant.moving_mnist_sequence
    assert chosen.backbone.stacked_frames == 2 and not chosen.backbone.neighbor_skips and chosen.clean_history_fraction == 0.5
    assert chosen.diffusion_forcing.steps == 3 and chosen.teacher_forcing == TINY_MOVING_MNIST.teacher_forcing
    row = benchmark.measure(tiny_profile, "stacked2", "teacher_forcing", 3, None, 0, classifier, progress=False)
    assert (row["backbone"], row["model"], row["steps"], row["rollout"]) == ("stacked2", "teacher_forcing", 3, "autoregressive")
    bands = ["1-1"] + [f"{a}-{b}" for a, b in chosen.bands]
    assert all(0 <= row[f"identity {band}"] <= 1 and row[f"MSE {band}"] > 0 for band in bands)
    assert 0 <= row["x̂_0 at K: identity"] <= 1 and row["x̂_0 at K: MSE"] > 0
    regressor = benchmark.measure(tiny_profile, "presets", "regressor", 3, None, 0, classifier, progress=False)
    assert "x̂_0 at K: MSE" not in regressor                             # one call at level K means nothing to a regressor
    benchmark.write_table([row, regressor], tmp_path / "table.md", "tiny")
    table = (tmp_path / "table.md").read_text()
    assert "`tiny` profile" in table and table.index("| regressor") < table.index("| teacher_forcing")


def test_a_checkpoint_from_other_presets_is_refused(tiny_profile):
    recipes.sequence_model("regressor", "pendulum", tiny_profile, progress=False)
    wider = dataclasses.replace(tiny_profile, pendulum_sequence=dataclasses.replace(
        TINY_PRESETS, backbone=dataclasses.replace(TINY_PRESETS.backbone, d_model=32)))
    with pytest.raises(ValueError, match="retrain"):
        recipes.sequence_model("regressor", "pendulum", wider, progress=False)
    assert recipes.sequence_model("regressor", "pendulum", wider, retrain=True, progress=False).config.d_model == 32


def test_a_checkpoint_trained_with_other_training_levels_is_refused(tiny_profile):
    recipes.sequence_model("teacher_forcing", "pendulum", tiny_profile, progress=False)
    record = recipes.training_record("teacher_forcing", "pendulum", tiny_profile)["objective"]
    assert record["class"] == "TeacherForcing" and record["level_shift"] == 1.0 and record["schedule"] == "cosine"
    shifted = dataclasses.replace(tiny_profile, pendulum_sequence=dataclasses.replace(TINY_PRESETS, level_shift=3.0))
    for read in (recipes.sequence_model, recipes.training_record):    # nor is its record read as the presets'
        with pytest.raises(ValueError, match="retrain"):
            read("teacher_forcing", "pendulum", shifted)
    retrained = recipes.sequence_model("teacher_forcing", "pendulum", shifted, retrain=True, progress=False)
    assert recipes.training_record("teacher_forcing", "pendulum", shifted)["objective"]["level_shift"] == 3.0
    assert isinstance(retrained, torch.nn.Module)
    recipes.sequence_model("regressor", "pendulum", shifted, progress=False)      # the regressor has no levels: not affected


def test_sorted_training_levels_are_a_recorded_option_that_older_checkpoints_lack(tiny_profile):
    recipes.sequence_model("diffusion_forcing", "pendulum", tiny_profile, progress=False)
    path = recipes.checkpoint_path("diffusion_forcing", "pendulum", tiny_profile).with_suffix(".json")
    meta = json.loads(path.read_text())
    assert meta["extra"]["objective"]["sorted_levels"] is False
    del meta["extra"]["objective"]["sorted_levels"]                       # a record written before the option existed
    path.write_text(json.dumps(meta))
    assert recipes.training_record("diffusion_forcing", "pendulum", tiny_profile)["steps"] == 3   # read as trained unsorted
    recipes.sequence_model("diffusion_forcing", "pendulum", tiny_profile, progress=False)
    ordered = dataclasses.replace(tiny_profile, pendulum_sequence=dataclasses.replace(TINY_PRESETS, sorted_levels=True))
    assert recipes.objective("diffusion_forcing", "pendulum", ordered).sorted_levels
    with pytest.raises(ValueError, match="retrain"):
        recipes.sequence_model("diffusion_forcing", "pendulum", ordered, progress=False)


def test_a_checkpoint_trained_for_other_steps_is_refused(tiny_profile):
    """A longer preset (the pendulum's diffusion models went from 2,400 to 3,600 steps) must not load old weights."""
    recipes.sequence_model("diffusion_forcing", "pendulum", tiny_profile, progress=False)
    longer = dataclasses.replace(tiny_profile, pendulum_sequence=dataclasses.replace(
        TINY_PRESETS, diffusion_forcing=dataclasses.replace(TINY_TRAINING, steps=5)))
    for read in (recipes.sequence_model, recipes.training_record):
        with pytest.raises(ValueError, match="trained for 3 steps, but the quick presets train 5; retrain"):
            read("diffusion_forcing", "pendulum", longer)
    recipes.sequence_model("teacher_forcing", "pendulum", longer, progress=False)     # its own steps did not change
    recipes.sequence_model("diffusion_forcing", "pendulum", longer, retrain=True, progress=False)
    assert recipes.training_record("diffusion_forcing", "pendulum", longer)["steps"] == 5
    assert recipes.sequence_model("diffusion_forcing", "pendulum", longer, progress=False) is not None


def test_a_checkpoint_without_an_objective_record_counts_as_uniform_levels(tiny_profile):
    """Checkpoints written before objectives were recorded were all trained on uniform levels."""
    recipes.sequence_model("teacher_forcing", "pendulum", tiny_profile, progress=False)
    path = recipes.checkpoint_path("teacher_forcing", "pendulum", tiny_profile).with_suffix(".json")
    meta = json.loads(path.read_text())
    del meta["extra"]["objective"]
    path.write_text(json.dumps(meta))
    assert recipes.sequence_model("teacher_forcing", "pendulum", tiny_profile, progress=False) is not None
    shifted = dataclasses.replace(tiny_profile, pendulum_sequence=dataclasses.replace(TINY_PRESETS, level_shift=3.0))
    with pytest.raises(ValueError, match="level_shift': 1.0.*retrain"):
        recipes.sequence_model("teacher_forcing", "pendulum", shifted, progress=False)


def test_unknown_names_fail_clearly(tiny_profile):
    with pytest.raises(ValueError, match="unknown sequence model 'gan'"):
        recipes.sequence_model("gan", "pendulum", tiny_profile, progress=False)
    with pytest.raises(ValueError, match="unknown dataset 'kitti'"):
        recipes.sequence_model("regressor", "kitti", tiny_profile, progress=False)
    with pytest.raises(ValueError, match="unknown sequence model"):
        recipes.rollout("transformer", None, unit_context(), 2, tiny_profile, dataset="pendulum")


# --------------------------------------------------------------------------- rollouts


class Windows:
    """Records how many frames every call of a model sees."""

    def __init__(self, model):
        self.lengths = []
        model.register_forward_pre_hook(self.record, with_kwargs=True)

    def record(self, module, args, kwargs):
        history = kwargs.get("history")                  # a cached history is part of the window
        self.lengths.append((history.window_frames if history else 0) + args[0].shape[1])


@pytest.fixture
def pendulum_models(tiny_profile):
    return {name: recipes.sequence_model(name, "pendulum", tiny_profile, progress=False)
            for name in ("teacher_forcing", "teacher_forcing_noisy_history", "regressor", "full_sequence", "diffusion_forcing",
                         "diffusion_forcing_bidirectional", "diffusion_forcing_gru")}


def test_rollouts_dispatch_to_the_right_sampler(pendulum_models, tiny_profile):
    context, N = unit_context(), 5
    run = lambda name, method=None, seed=0, **kw: recipes.rollout(name, pendulum_models[name], context, N, tiny_profile,
                                                                  dataset="pendulum", method=method, seed=seed, **kw)
    for name, model in pendulum_models.items():
        for method in recipes.spec(name).rollouts:
            windows = Windows(model)
            frames = run(name, method)
            assert frames.shape == (2, N, 1, 16, 16) and frames.min() >= 0 and frames.max() <= 1, (name, method)
            if model.max_window is not None:
                limit = recipes.window_length(name, "pendulum", tiny_profile)
                assert max(windows.lengths) <= limit, (name, method)
    teacher = Windows(pendulum_models["teacher_forcing"])
    run("teacher_forcing")
    assert set(teacher.lengths) == {TINY_PRESETS.context + 1}              # c clean frames + the one being sampled
    assert torch.equal(run("diffusion_forcing", "autoregressive"), run("diffusion_forcing", "autoregressive"))
    assert not torch.equal(run("diffusion_forcing", "autoregressive"), run("diffusion_forcing", "autoregressive", seed=1))
    assert not torch.equal(run("diffusion_forcing", "autoregressive"), run("diffusion_forcing", "stabilized"))
    assert torch.equal(run("teacher_forcing_noisy_history"), run("teacher_forcing_noisy_history", "stabilized"))
    assert not torch.equal(run("teacher_forcing_noisy_history", "autoregressive"), run("teacher_forcing_noisy_history"))
    assert not torch.equal(run("full_sequence", "reconstruction"), run("full_sequence", "replacement"))
    assert not torch.equal(run("diffusion_forcing_bidirectional", "autoregressive"), run("diffusion_forcing_bidirectional", "stabilized"))
    assert torch.equal(run("regressor", seed=0), run("regressor", seed=5))   # deterministic: no noise at all
    assert not torch.equal(run("diffusion_forcing", "stabilized"), run("diffusion_forcing", "stabilized", stabilization_level=10))


def test_rollout_inputs_are_checked(pendulum_models, tiny_profile):
    model = pendulum_models["diffusion_forcing"]
    with pytest.raises(ValueError, match="unknown rollout method 'reconstruction'"):
        recipes.rollout("diffusion_forcing", model, unit_context(), 2, tiny_profile, dataset="pendulum", method="reconstruction")
    with pytest.raises(ValueError, match="unknown rollout option"):
        recipes.rollout("diffusion_forcing", model, unit_context(), 2, tiny_profile, dataset="pendulum", temperature=0.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        recipes.rollout("diffusion_forcing", model, unit_context() * 2 - 1, 2, tiny_profile, dataset="pendulum")
    with pytest.raises(ValueError, match="at least 2 context frames"):
        recipes.rollout("teacher_forcing", pendulum_models["teacher_forcing"], unit_context(c=1), 2, tiny_profile, dataset="pendulum")


# --------------------------------------------------------------------------- the benchmark's core


def test_benchmark_core_runs_end_to_end_on_a_tiny_profile(tiny_profile):
    from dfkit.metrics.classifier import DigitClassifier

    benchmark = load_benchmark("sequence_rollouts")
    torch.manual_seed(0)
    results = benchmark.run(tiny_profile, progress=False, classifier=DigitClassifier().eval())
    first, middle, last = ((1, 4), (5, 16), (17, 40))
    assert results["pendulum"]["bands"] == (first, middle, last)

    pendulum = results["pendulum"]["rows"]
    labels = [row["method"] for row in pendulum]
    assert len(labels) == len(benchmark.METHODS + benchmark.PENDULUM_METHODS) + 3 and labels[-3:] == ["copy last frame", "hanging still", "true frames"]
    numbers = ["angle err° 1-4", "angle err° 5-16", "angle err° 17-40", "valid 17-40", "energy drift 17-40",
               "VPT@10° (frames)", "VPT@20° (frames)"]
    for row in pendulum:
        assert set(numbers) <= set(row), row["method"]
        assert all(math.isfinite(row[column]) for column in numbers), row
    for row in pendulum[:-3]:
        assert row["train (min)"] > 0 and row["rollout (s)"] > 0
    truth = pendulum[-1]
    assert truth["angle err° 17-40"] < 2 and truth["valid 17-40"] == 1.0

    markov = results["markov"]["rows"]
    assert [row["context frames"] for row in markov] == [1, 2, 2, 1, None]
    assert markov[-1]["accuracy"] == 1.0 or markov[-1]["included"] == 0

    mnist = results["moving_mnist"]["rows"]
    assert [row["method"] for row in mnist][-3:] == ["copy last frame", "all black", "ground truth"]
    columns = [f"{metric} {a}-{b}" for metric in ("MSE", "SSIM", "identity", "abs intensity drift") for a, b in (first, middle, last)]
    for row in mnist:
        assert all(math.isfinite(row[column]) for column in columns), row
    assert mnist[-1]["MSE 17-40"] == 0 and mnist[-1]["SSIM 17-40"] == pytest.approx(1.0)

    text = benchmark.markdown(results)
    for heading in ("## Pendulum", "### Markov experiment", "### Against the course's targets", "## Moving-MNIST", "with 1 threads"):
        assert heading in text
    assert "| Diffusion Forcing, autoregressive, stabilized |" in text and "say nothing about the quality" in text
    # --from-json writes the same report from the JSON file the run saved
    assert benchmark.markdown(json.loads(json.dumps(results, default=benchmark._json_value))) == text
    assert "\nNote: one row from another run.\n" in benchmark.markdown({**results, "notes": ["one row from another run."]})


def test_the_central_table_reads_each_rollout_against_the_course_targets():
    benchmark = load_benchmark("sequence_rollouts")
    bands = ((1, 16), (17, 64), (65, 160))

    def row(method, errors, valid=1.0):
        return {"method": method, **{f"angle err° {a}-{b}": e for (a, b), e in zip(bands, errors)}, "valid 65-160": valid}

    pendulum = {"bands": bands, "rows": [row("teacher forcing", (0.5, 0.5, 0.5)),
                                         row("Diffusion Forcing, stabilized", (2.84, 6.6, 12.0)),
                                         row("Diffusion Forcing, pyramid", (3.3, 4.0, float("nan")), valid=0.75)]}
    verdicts = benchmark.target_rows(pendulum)
    assert [v["method"] for v in verdicts] == ["Diffusion Forcing, stabilized", "Diffusion Forcing, pyramid"]
    assert list(verdicts[0].values())[1:] == ["2.84 met", "6.6, 1.10x", "12 met", "met"]
    assert list(verdicts[1].values())[1:] == ["3.3, 1.10x", "4 met", "—", "0.75"]

    def markov(accuracy_1, accuracy_2):
        return [{"method": "teacher forcing, 1 context frame", "context frames": 1, "accuracy": accuracy_1, "stderr": 0.04},
                {"method": "teacher forcing, 2 context frames", "context frames": 2, "accuracy": accuracy_2, "stderr": 0.02},
                {"method": "swing towards the bottom (1-frame prior)", "context frames": 1, "accuracy": 0.9, "stderr": 0.02}]

    models = [{"model": "teacher_forcing", "train (min)": 7.3}, {"model": "diffusion_forcing", "train (min)": 11.3},
              {"model": "regressor", "train (min)": float("nan")}]
    text = benchmark.target_summary({"pendulum_models": models, "markov": {"rows": markov(0.52, 0.92)}})
    assert "1 of 3 models (over: diffusion_forcing 11.3) (no record: regressor)" in text
    assert "+0.5 standard errors from chance (target near chance, within 2 standard errors: met)" in text
    assert "+21.0 standard errors from chance (target above chance by more than 2 standard errors: met)" in text
    missed = benchmark.target_summary({"pendulum_models": models, "markov": {"rows": markov(0.62, 0.53)}})
    assert missed.count("missed") == 2


def test_level_shift_benchmark_trains_other_shifts_apart_from_the_presets(tiny_profile, tmp_path):
    shifts = load_benchmark("level_shift")
    assert shifts.share_above(1.0) == pytest.approx(0.2) and shifts.share_above(3.0) == pytest.approx(3 / 7)
    preset = recipes.sequence_model("diffusion_forcing", "pendulum", tiny_profile, progress=False)   # level_shift 1
    before = {path: path.stat().st_mtime_ns for path in (tmp_path / "quick").iterdir()}
    rows = shifts.shift_rows(tiny_profile, (1.0, 4.0), names=("diffusion_forcing",), seeds=(0,))
    labels = [label for label, name, _ in load_benchmark("training_seeds").methods("pendulum", tiny_profile)
              if name == "diffusion_forcing"]
    assert [(row["level shift"], row["method"]) for row in rows] == [(shift, label) for shift in ("1 (preset)", "4") for label in labels]
    assert {path: path.stat().st_mtime_ns for path in (tmp_path / "quick").iterdir()} == before   # presets' folder untouched
    assert recipes.training_record("diffusion_forcing", "pendulum", tiny_profile)["objective"]["level_shift"] == 1.0
    record = json.loads((tmp_path / "level_shift_4" / "quick" / "pendulum_diffusion_forcing.json").read_text())
    assert record["extra"]["objective"]["level_shift"] == 4.0   # the other shift trained into its own folder
    assert "DFKIT_CHECKPOINTS" in os.environ and os.environ["DFKIT_CHECKPOINTS"] == str(tmp_path)   # restored
    assert rows[0]["levels above 0.8 K"] == 0.2 and all(math.isfinite(row["angle err° 1-4"]) for row in rows)
    summary = shifts.shift_spread(rows)
    assert [(entry["level shift"], entry["seeds"]) for entry in summary] == [(shift, 1) for shift in ("1 (preset)", "4") for _ in labels]
    assert isinstance(preset, torch.nn.Module) and shifts.parse_shifts("2,3.5") == (2.0, 3.5)
    for bad in ("2,2", "0", "x", "-1", "inf"):
        with pytest.raises(SystemExit, match="distinct level shifts"):
            shifts.parse_shifts(bad)
    with pytest.raises(ValueError, match="finite level_shift"):
        shifts.shift_rows(tiny_profile, (float("nan"),))


def test_the_full_sequence_model_can_keep_its_own_level_shift(tiny_profile, tmp_path):
    """The pendulum presets train the full-sequence model at another shift than the others."""
    own = dataclasses.replace(TINY_PRESETS, level_shift=5.0, full_sequence_level_shift=3.0)
    profile = dataclasses.replace(tiny_profile, pendulum_sequence=own)
    assert recipes.objective("full_sequence", "pendulum", profile).level_shift == 3.0
    for name in ("teacher_forcing", "teacher_forcing_noisy_history", "diffusion_forcing", "diffusion_forcing_bidirectional"):
        assert recipes.objective(name, "pendulum", profile).level_shift == 5.0, name
    shared = dataclasses.replace(tiny_profile, pendulum_sequence=dataclasses.replace(own, full_sequence_level_shift=None))
    assert recipes.objective("full_sequence", "pendulum", shared).level_shift == 5.0
    for bad in (0.0, float("nan"), True):
        with pytest.raises(ValueError, match="finite level_shift"):
            dataclasses.replace(own, full_sequence_level_shift=bad).validate()
    rows = load_benchmark("level_shift").shift_rows(profile, (3.0,), names=("full_sequence", "diffusion_forcing"), seeds=(0,))
    assert {row["level shift"] for row in rows if row["method"].startswith("full sequence")} == {"3 (preset)"}
    assert {row["level shift"] for row in rows if not row["method"].startswith("full sequence")} == {"3"}
    assert (tmp_path / "quick" / "pendulum_full_sequence.json").exists()       # the presets' own shift: their folder
    assert (tmp_path / "level_shift_3" / "quick" / "pendulum_diffusion_forcing.json").exists()
    assert not (tmp_path / "level_shift_3" / "quick" / "pendulum_full_sequence.json").exists()
