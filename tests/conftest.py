import pytest


@pytest.fixture(scope="session")
def trained_digit_classifier():
    """The metric digit classifier, trained once per test session (400 steps, about a minute on 2 cores)."""
    from dfkit.metrics.classifier import train_classifier

    model, test_accuracy = train_classifier(steps=400, progress=False)
    return model, test_accuracy


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test writes generated datasets and reference models to its own temporary folders."""
    monkeypatch.setenv("DFKIT_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("DFKIT_CHECKPOINTS", str(tmp_path_factory.mktemp("checkpoints")))
    monkeypatch.delenv("DFKIT_TRAINING", raising=False)
    monkeypatch.delenv("DFKIT_MNIST", raising=False)
    monkeypatch.delenv("DFKIT_PROFILE", raising=False)


@pytest.fixture
def one_thread():
    """One torch thread for tests made of thousands of tiny tensor operations, where a second thread
    only adds synchronisation (on a busy 2-core machine it made such tests up to 30x slower).
    Opt in with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
