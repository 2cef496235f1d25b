"""The models a checkpoint can rebuild by name: ``@register_model(ConfigClass)`` on a model class.

:func:`dfkit.checkpoint.load_checkpoint` reads the class name and config from a checkpoint's JSON
and looks the class up here; the models register themselves when :mod:`dfkit.models` is imported.
"""

from __future__ import annotations

import dataclasses

# model class name -> (model class, config dataclass)
MODEL_REGISTRY: dict[str, tuple[type, type]] = {}


def register_model(config_class: type):
    """Class decorator: make ``load_checkpoint`` able to rebuild this model from ``config_class``."""
    if not dataclasses.is_dataclass(config_class):
        raise ValueError(f"expected a dataclass as the model's config class, got {config_class!r}")

    def decorate(model_class: type) -> type:
        MODEL_REGISTRY[model_class.__name__] = (model_class, config_class)
        return model_class

    return decorate
