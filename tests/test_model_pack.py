"""The reference-model pack and `dfkit checkpoints`: train, pack, install, status, and every way an
install can go wrong (corrupted, truncated, another profile, stale presets, a download cut off half
way) leaving the installed checkpoints as they were."""

import hashlib
import http.server
import io
import json
import tarfile
import threading
from pathlib import Path

import pytest
import torch

from dfkit import cli, model_pack, recipes, reference_models
from dfkit.checkpoint import MissingModelError, checkpoint_paths
from dfkit.profiles import get_profile
from dfkit.reference_models import ReferenceModel, model_status, train_missing

QUICK = get_profile("quick")
VAE = ReferenceModel("image", "vae")
LESSON = ["01_vae"]                 # the smallest lesson with a model: the quick VAE trains in a second or two


@pytest.fixture(scope="module")
def trained_root(tmp_path_factory):
    """A checkpoint root with the quick VAE trained by `train_missing`, and the environment to reach it."""
    root = tmp_path_factory.mktemp("instructor_checkpoints")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DFKIT_CHECKPOINTS", str(root))
        patch.setenv("DFKIT_CACHE", str(tmp_path_factory.mktemp("instructor_cache")))
        train_missing(QUICK, LESSON, progress=False, log=lambda line: None)
    return root


@pytest.fixture(scope="module")
def pack_file(trained_root, tmp_path_factory):
    path = tmp_path_factory.mktemp("pack") / "dfkit-quick-models.tar"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DFKIT_CHECKPOINTS", str(trained_root))
        model_pack.pack(QUICK, path, lessons=LESSON, log=lambda line: None)
    return path


def files_under(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every file below ``root``."""
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def rewrite_pack(source: Path, target: Path, manifest_change=None, file_change=None) -> Path:
    """A copy of the pack with its manifest edited (``manifest_change(manifest)``) or a file's bytes edited."""
    with tarfile.open(source) as archive:
        members = [(member, archive.extractfile(member).read()) for member in archive.getmembers()]
    with tarfile.open(target, "w") as archive:
        for member, data in members:
            if member.name == model_pack.MANIFEST and manifest_change:
                manifest = json.loads(data)
                manifest_change(manifest)
                data = json.dumps(manifest).encode()
            elif file_change and member.name.endswith(".safetensors"):
                data = file_change(data)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return target


# ----------------------------------------------------------------------------- round trip


def test_pack_then_install_into_an_empty_root_gives_the_same_checkpoints(trained_root, pack_file, tmp_path, monkeypatch):
    with tarfile.open(pack_file) as archive:
        manifest = json.loads(archive.extractfile(model_pack.MANIFEST).read())
        names = archive.getnames()
    assert manifest["profile"] == "quick" and manifest["format"] == model_pack.FORMAT
    (entry,) = manifest["models"]
    assert (entry["kind"], entry["name"], entry["steps"]) == ("image", "vae", QUICK.vae_training.steps)
    assert entry["config"]["latent_dim"] == QUICK.vae.latent_dim and entry["training"]["train_seconds"] > 0
    assert set(entry["files"]) == {"quick/vae.json", "quick/vae.safetensors"} and names[0] == model_pack.MANIFEST
    assert entry["files"] == {name: sha for name, sha in files_under(trained_root).items() if name in entry["files"]}

    student = tmp_path / "student"
    monkeypatch.setenv("DFKIT_CHECKPOINTS", str(student))
    assert model_status(VAE, QUICK).state == "missing"
    installed = model_pack.install(pack_file, log=lambda line: None)
    assert installed == [VAE] and model_status(VAE, QUICK).state == "present"
    assert files_under(student) == {name: files_under(trained_root)[name] for name in entry["files"]}
    monkeypatch.setenv("DFKIT_TRAINING", "never")              # loads, never trains
    loaded = recipes.image_model("vae", QUICK)
    assert isinstance(loaded, torch.nn.Module)


def test_checkpoints_command_line_train_pack_install_status(trained_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DFKIT_CHECKPOINTS", str(trained_root))
    assert cli.main(["checkpoints", "train", "--profile", "quick", "--only", "01_vae"]) == 0
    assert "present  vae" in capsys.readouterr().out            # trained by the fixture: skipped
    pack = tmp_path / "p.tar"
    assert cli.main(["checkpoints", "pack", str(pack), "--profile", "quick"]) == 2   # the other lessons' models are missing
    assert "cannot pack the quick profile" in capsys.readouterr().err

    monkeypatch.setenv("DFKIT_CHECKPOINTS", str(tmp_path / "empty"))
    assert cli.main(["checkpoints", "status", "--profile", "quick", "--only", "00_warmup", "01_vae"]) == 0
    out = capsys.readouterr().out
    assert "00_warmup: needs no trained model" in out and "01_vae: 1 of 1 missing" in out
    assert "about" in out and "to train here" in out            # an estimate measured on this machine
    assert "dfkit checkpoints install PACK" in out


# ----------------------------------------------------------------------------- refusals


@pytest.fixture
def student_root(tmp_path, monkeypatch):
    """A student's checkpoint root that already holds a file an install must not touch on failure."""
    root = tmp_path / "student"
    (root / "quick").mkdir(parents=True)
    (root / "quick" / "keep.txt").write_text("installed earlier\n")
    monkeypatch.setenv("DFKIT_CHECKPOINTS", str(root))
    return root


def refused(source, root: Path, match: str, profile=None):
    before = files_under(root)
    with pytest.raises(ValueError, match=match):
        model_pack.install(source, profile, log=lambda line: None)
    assert files_under(root) == before and not list(root.glob(".install-*"))    # nothing placed, nothing left over


def test_a_corrupted_file_in_the_pack_installs_nothing(pack_file, student_root, tmp_path):
    flipped = rewrite_pack(pack_file, tmp_path / "flipped.tar",
                           file_change=lambda data: data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:])
    refused(flipped, student_root, "vae.safetensors is corrupted")


def test_a_truncated_pack_installs_nothing(pack_file, student_root, tmp_path):
    data = pack_file.read_bytes()
    for fraction in (0.1, 0.5, 0.9):
        cut = tmp_path / f"cut{fraction}.tar"
        cut.write_bytes(data[: int(len(data) * fraction)])
        refused(cut, student_root, "truncated|corrupted|not a dfkit model pack|does not contain")


def test_a_pack_of_another_profile_is_refused_with_both_names(pack_file, student_root, monkeypatch, capsys):
    refused(pack_file, student_root, "'quick' profile, not of 'class'", get_profile("class"))
    monkeypatch.setenv("DFKIT_PROFILE", "class")               # the command line takes the student's profile
    assert cli.main(["checkpoints", "install", str(pack_file)]) == 2
    assert "--profile quick" in capsys.readouterr().err


@pytest.mark.parametrize("change, message", [
    (lambda m: m["models"][0].update(steps=7), "trained with steps 7, but this dfkit's quick presets train 150"),
    (lambda m: m["models"][0]["config"].update(latent_dim=3), "trained with config"),
    (lambda m: m.update(dfkit_version="9.4.0"), "made by dfkit 9.4.0"),
    (lambda m: m.update(format_version=99), "format 99"),
    (lambda m: m["models"][0].update(name="vae_large"), "vae_large is not a reference model"),
    (lambda m: m["models"][0]["files"].update({"../../escape.json": "0" * 64}), "refusing the file name"),
    (lambda m: m.update(format="something-else"), "not a dfkit model pack"),
], ids=["steps", "config", "version", "format version", "unknown model", "path escape", "format"])
def test_a_pack_that_does_not_fit_these_presets_is_refused(pack_file, student_root, tmp_path, change, message):
    refused(rewrite_pack(pack_file, tmp_path / "edited.tar", manifest_change=change), student_root, message)


def test_a_missing_file_is_a_clear_error(student_root, tmp_path):
    with pytest.raises(FileNotFoundError, match="no model pack at"):
        model_pack.install(tmp_path / "nothing.tar")
    not_a_tar = tmp_path / "notes.tar"
    not_a_tar.write_text("hello\n")
    refused(not_a_tar, student_root, "not a dfkit model pack")


# ----------------------------------------------------------------------------- download


class PackServer:
    """An HTTP server on 127.0.0.1 that serves ``data``; with ``cut`` it announces the full length,
    sends only the first ``cut`` bytes and closes the connection."""

    def __init__(self, data: bytes, cut: int | None = None):
        served = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data if cut is None else data[:cut])
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dfkit-quick-models.tar"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        served.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_install_from_a_url(pack_file, student_root):
    with PackServer(pack_file.read_bytes()) as server:
        assert model_pack.install(server.url, log=lambda line: None) == [VAE]
    assert model_status(VAE, QUICK).state == "present" and (student_root / "quick" / "keep.txt").exists()


def test_a_download_cut_off_half_way_installs_nothing_and_keeps_what_was_there(pack_file, student_root):
    with PackServer(pack_file.read_bytes()) as server:                     # an earlier, complete install
        model_pack.install(server.url, log=lambda line: None)
    data = pack_file.read_bytes()
    with PackServer(data, cut=len(data) // 2) as server:
        refused(server.url, student_root, "nothing was installed")
    assert model_status(VAE, QUICK).state == "present"


def test_a_server_that_refuses_is_a_clear_error(student_root):
    with PackServer(b"") as server:
        url = server.url
    refused(url, student_root, "downloading .* failed")


# ----------------------------------------------------------------------------- training


class Interrupt:
    """Wraps a loss so that its ``stop_at``-th call raises KeyboardInterrupt, as Ctrl-C would."""

    def __init__(self, loss_fn, stop_at: int):
        self.loss_fn, self.calls, self.stop_at = loss_fn, 0, stop_at

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        return self.loss_fn(*args, **kwargs)


def test_train_interrupted_then_resumed_gives_the_uninterrupted_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("DFKIT_CHECKPOINTS", str(tmp_path / "uninterrupted"))
    train_missing(QUICK, LESSON, progress=False, log=lambda line: None)
    reference = recipes.image_model("vae", QUICK).state_dict()

    monkeypatch.setenv("DFKIT_CHECKPOINTS", str(tmp_path / "interrupted"))
    original = recipes.model_and_loss
    monkeypatch.setattr(recipes, "model_and_loss", lambda *a: (lambda m, l: (m, Interrupt(l, 100)))(*original(*a)))
    with pytest.raises(KeyboardInterrupt):
        train_missing(QUICK, LESSON, progress=False, log=lambda line: None)
    work = recipes.training_folder(VAE.path(QUICK))
    saved = sorted(path.name for path in work.glob("step_*.json"))
    assert saved == ["step_0000090.json"]                       # every 15 steps, only the newest kept
    assert model_status(VAE, QUICK).state == "missing"

    monkeypatch.setattr(recipes, "model_and_loss", original)
    lines = []
    assert train_missing(QUICK, LESSON, progress=False, log=lines.append) == [VAE]
    resumed = recipes.image_model("vae", QUICK).state_dict()
    assert all(torch.equal(resumed[name], reference[name]) for name in reference)
    assert not work.exists()                                    # the resumable state is gone once the model is saved
    assert train_missing(QUICK, LESSON, progress=False, log=lines.append) == []       # present: skipped
    assert lines[-1] == "present  vae"


def test_a_stale_checkpoint_is_reported_and_retrained(trained_root, tmp_path, monkeypatch):
    monkeypatch.setenv("DFKIT_CHECKPOINTS", str(tmp_path))
    model, _ = recipes.model_and_loss("vae", QUICK)
    from dfkit.checkpoint import save_checkpoint

    save_checkpoint(VAE.path(QUICK), model, step=3)                     # the presets train 150 steps
    status = model_status(VAE, QUICK, estimate=True)
    assert status.state == "stale" and "trained for 3 steps" in status.detail and status.seconds > 0
    assert train_missing(QUICK, LESSON, progress=False, log=lambda line: None) == [VAE]
    assert model_status(VAE, QUICK).state == "present"


def test_training_switched_off_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("DFKIT_TRAINING", "never")
    with pytest.raises(MissingModelError, match="dfkit checkpoints install PACK"):
        recipes.image_model("vae", QUICK)
    from dfkit.metrics.classifier import get_classifier
    with pytest.raises(MissingModelError, match="digit classifier"):
        get_classifier()
    monkeypatch.setenv("DFKIT_TRAINING", "sometimes")
    with pytest.raises(ValueError, match="DFKIT_TRAINING"):
        recipes.image_model("vae", QUICK)


def test_every_lesson_lists_known_models_once():
    for lesson, models in reference_models.LESSONS.items():
        assert len(set(models)) == len(models), lesson
        for model in models:
            assert reference_models.from_record({"kind": model.kind, "name": model.name, "dataset": model.dataset}) == model
            model.record(QUICK)                                          # every model has presets in every profile
            model.record(get_profile("class"))
    assert checkpoint_paths(VAE.path(QUICK))["json"].name == "vae.json"
