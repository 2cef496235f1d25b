import pytest


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test writes generated datasets to its own temporary cache."""
    monkeypatch.setenv("DFKIT_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("DFKIT_MNIST", raising=False)
    monkeypatch.delenv("DFKIT_PROFILE", raising=False)
