import pytest


@pytest.fixture(scope="session")
def trained_digit_classifier():
    """The metric digit classifier, trained once per test session (400 steps, about a minute on 2 cores)."""
    from dfkit.metrics.classifier import train_classifier

    model, test_accuracy = train_classifier(steps=400, progress=False)
    return model, test_accuracy


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test writes generated datasets to its own temporary cache."""
    monkeypatch.setenv("DFKIT_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("DFKIT_MNIST", raising=False)
    monkeypatch.delenv("DFKIT_PROFILE", raising=False)
