"""Objects a grading test passes to a student's function: sent as plain data, rebuilt in the worker.

The worker that runs a submission receives only data (see :mod:`autograder.protocol`). Some
exercises take an object as an argument: a noise schedule, a stand-in denoiser, a toy sequence
model. The test sends a *tagged dict* and the receiving side rebuilds the object with a builder
that a trusted module registered under the tag::

    # dfkit/lessons/ddpm.py  (listed in the assignment's MODULES, imported before confinement)
    @arguments.builder("dfkit.ddpm.ToyDenoiser")
    def _toy_denoiser(scale, offset):
        return ToyDenoiser(scale, offset)

    # in a test
    submission.diffusion_loss(arguments.tagged("dfkit.ddpm.ToyDenoiser", scale=0.5, offset=1.0), ...)

Only registered tags are rebuilt; any other tagged dict is refused with a clear error, so a
message can never name an arbitrary function to call.
"""

from __future__ import annotations

from typing import Callable

TAG_KEY = "$argument"
BUILDERS: dict[str, Callable] = {}


def builder(tag: str):
    """Decorator registering ``function(**fields) -> object`` as the builder of ``tag``."""
    def register(function: Callable) -> Callable:
        existing = BUILDERS.get(tag)
        if existing is not None and existing.__qualname__ != function.__qualname__:
            raise ValueError(f"argument tag {tag!r} already has a builder ({existing.__module__}.{existing.__qualname__})")
        BUILDERS[tag] = function
        return function
    return register


def tagged(tag: str, **fields) -> dict:
    """The plain-data form of an object: its builder's tag and keyword arguments (data only)."""
    if tag not in BUILDERS:
        raise KeyError(f"no builder is registered for argument tag {tag!r}: import the module that defines it")
    return {TAG_KEY: tag, **fields}


def is_tagged(value) -> bool:
    return isinstance(value, dict) and TAG_KEY in value


def rebuild(value: dict):
    """The object a tagged dict describes (its fields already decoded)."""
    fields = dict(value)
    tag = fields.pop(TAG_KEY)
    build = BUILDERS.get(tag) if isinstance(tag, str) else None
    if build is None:
        raise ValueError(f"unknown argument tag {str(tag)[:60]!r}: the assignment's MODULES must import its builder")
    return build(**fields)
