import dataclasses
import importlib
import typing

import pytest

from dfkit import budgets
from dfkit.budgets import LessonBudgets
from dfkit.profiles import PROFILES

LESSONS = [field.name for field in dataclasses.fields(LessonBudgets)]
# lengths in training horizons rather than counts: quick's short horizons are rolled out further
HORIZON_MULTIPLES = {("teacher_forcing", "mnist_multiple"), ("diffusion_forcing", "spread_horizons")}


def counts(budget) -> dict:
    """The integer fields of a lesson budget that count work (clips, steps, samples ...), by name."""
    return {field.name: getattr(budget, field.name) for field in dataclasses.fields(budget)
            if field.name != "threads" and type(getattr(budget, field.name)) is int}


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_carries_every_lessons_budget(name):
    lessons = PROFILES[name].lessons
    hints = typing.get_type_hints(LessonBudgets, vars(budgets))
    for lesson in LESSONS:
        assert isinstance(getattr(lessons, lesson), hints[lesson]), (name, lesson)
        module = importlib.import_module(f"dfkit.lessons.{lesson}")
        assert module.lesson_budget(PROFILES[name]) is getattr(lessons, lesson)    # the notebooks' accessor


@pytest.mark.parametrize("lesson", LESSONS)
def test_quick_counts_are_no_larger_than_class_and_class_no_larger_than_gpu(lesson):
    quick, class_, gpu = (counts(getattr(PROFILES[name].lessons, lesson)) for name in ("quick", "class", "gpu"))
    shared = quick.keys() & class_.keys() & gpu.keys()          # curve_frames None (the whole rollout) is no count
    assert shared
    for field in shared:
        if (lesson, field) not in HORIZON_MULTIPLES:
            assert quick[field] <= class_[field], (lesson, field)
        assert class_[field] <= gpu[field], (lesson, field)
