"""The autograder on 00_warmup: protocol, notebook reading, scores of the solution and the release, CLI."""

import base64
import csv
import json
import os

import numpy as np
import pytest

from autograder import protocol, testing
from autograder.assignments import available, load_assignment
from autograder.grade import grade_notebook
from autograder.notebook import MalformedNotebook, read_submission
from autograder.plugin import collect_tests

ASSIGNMENT = "00_warmup"


@pytest.fixture(scope="module")
def warmup():
    return load_assignment(ASSIGNMENT)


# ----------------------------------------------------------------------------- protocol

def roundtrip(value):
    return protocol.decode(json.loads(protocol.frame(protocol.encode(value))[4:]))


def test_protocol_round_trip_gives_exact_plain_types():
    value = (1, 2.5, True, None, "s", [np.arange(3.0)], {"k": np.float32(1.5)})
    got = roundtrip(value)
    assert type(got) is tuple and type(got[5]) is list and type(got[6]) is dict
    assert type(got[5][0]) is np.ndarray and got[5][0].tolist() == [0.0, 1.0, 2.0]
    assert type(got[6]["k"]) is np.float32


def test_protocol_turns_subclasses_into_plain_values():
    class Sneaky(float):
        def __eq__(self, other):
            return True

    class SneakyArray(np.ndarray):
        def __eq__(self, other):
            return np.ones(self.shape, bool)

    got = roundtrip((Sneaky(1.0), np.zeros(2).view(SneakyArray)))
    assert type(got[0]) is float and type(got[1]) is np.ndarray


@pytest.mark.parametrize("bad", [
    {"$": "ndarray", "dtype": "object", "shape": [1], "data": ""},
    {"$": "ndarray", "dtype": "float64", "shape": [2], "data": base64.b64encode(b"\0" * 8).decode()},
    {"$": "ndarray", "dtype": "float64", "shape": [-1], "data": ""},
    {"$": "pickle", "data": "gASVAAAAAAAAAAA="},
    {"no": "tag"},
    {"$": "dict", "items": [[[1], 2]]},
])
def test_protocol_rejects_anything_it_cannot_rebuild_safely(bad):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(bad)


def test_protocol_refuses_oversize_frames():
    reader = protocol.FrameReader(max_bytes=10)
    with pytest.raises(protocol.ProtocolError, match="larger than"):
        reader.feed(protocol.HEADER.pack(11) + b"x" * 11)


# ----------------------------------------------------------------------------- notebooks

def test_reader_keeps_graded_cells_and_imports_only(tmp_path, warmup):
    notebook = testing.with_cells(testing.load(testing.solution_path(ASSIGNMENT)),
                                  append=("import time\ntime.sleep(1000)\nfrom math import pi\nimport matplotlib.pyplot as plt",))
    submission = read_submission(testing.write(notebook, tmp_path / "nb.ipynb"), list(warmup.questions))
    assert set(submission.cells) == set(warmup.questions)
    assert submission.imports == "import numpy as np"      # the only import the graded cells use
    assert not submission.problems


@pytest.mark.parametrize("content, message", [
    (b"{not json", "not valid JSON"),
    (b'{"nbformat": 4, "metadata": {}}', "no list of cells"),
    (b"[1, 2]", "not a notebook"),
    (json.dumps({"nbformat": 4, "cells": [], "metadata": {"kernelspec": {"language": "R", "name": "ir"}}}).encode(), "'R' kernel"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_malformed_notebooks_are_refused_with_a_reason(tmp_path, warmup, content, message):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    with pytest.raises(MalformedNotebook, match=message):
        read_submission(path, list(warmup.questions))


def test_malformed_notebooks_get_complete_results(tmp_path, warmup):
    huge = tmp_path / "huge.ipynb"
    with open(huge, "wb") as handle:             # a sparse 100 MB file: nothing is read
        handle.truncate(100 * 2**20)
    results = grade_notebook(huge, warmup)
    assert results["score"] == 0 and results["max_score"] == 12
    assert len(results["tests"]) == len(collect_tests(warmup))
    assert all(t["status"] == "error" and "MiB" in t["output"] for t in results["tests"])


# ----------------------------------------------------------------------------- scores

def test_solution_scores_everything_and_release_scores_nothing(warmup):
    solution = grade_notebook(testing.solution_path(ASSIGNMENT), warmup)
    assert (solution["score"], solution["max_score"]) == (12, 12), [t for t in solution["tests"] if t["status"] != "passed"]
    released = grade_notebook(testing.released_path(ASSIGNMENT), warmup)
    assert released["score"] == 0 and released["max_score"] == 12
    assert all(t["status"] == "error" and "is not written yet" in t["output"] for t in released["tests"])
    meta = solution["extra_data"]["dfkit_grade"]
    assert meta["seed"] and len(meta["tests_sha256"]) == 64 and len(meta["submission_sha256"]) == 64
    assert set(meta["versions"]) >= {"python", "numpy", "torch", "dfkit"} and meta["limits"]["memory_bytes"] > 0
    assert solution["execution_time"] < 60 and released["execution_time"] < 60


def test_tests_are_declared_consistently(warmup):
    infos = collect_tests(warmup)
    assert {i.question for i in infos} == set(warmup.questions)
    for question in warmup.questions:
        assert any(i.visible for i in infos if i.question == question), f"{question} has no visible test"
        assert any(not i.visible for i in infos if i.question == question), f"{question} has no hidden test"


def test_notebook_test_cells_carry_the_points_of_their_tests(warmup):
    infos = collect_tests(warmup)
    notebook = testing.load(testing.solution_path(ASSIGNMENT))
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            question = meta["grade_id"].replace("-", ".", 1).rsplit("-check", 1)[0]
            assert meta["points"] == sum(i.points for i in infos if i.question == question), question


# ----------------------------------------------------------------------------- command line

def test_grade_command_grades_a_class_in_parallel(tmp_path):
    from autograder.cli import main

    submitted = tmp_path / "course" / "submitted"
    testing.write(testing.load(testing.solution_path(ASSIGNMENT)), submitted / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    testing.write(testing.load(testing.released_path(ASSIGNMENT)), submitted / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    (submitted / "carol" / ASSIGNMENT).mkdir(parents=True)
    (submitted / "carol" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text('{"nbformat": 4}')
    out = tmp_path / "out"
    assert main(["grade", str(tmp_path / "course"), "--assignment", ASSIGNMENT, "--out", str(out), "-j", "2", "--no-progress"]) == 0
    rows = {row["student"]: row for row in csv.DictReader(open(out / "grades.csv"))}
    assert {name: rows[name]["score"] for name in rows} == {"alice": "12", "bob": "0", "carol": "0"}
    for student in rows:
        results = json.loads((out / student / "results.json").read_text())
        assert {"score", "max_score", "tests"} <= set(results)
        for test in results["tests"]:
            assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
    assert "no list of cells" in (out / "carol" / "results.json").read_text()
    assert not [p for p in out.rglob("*.tmp")]


def test_feedback_never_shows_hidden_test_source_or_values(tmp_path, warmup):
    from autograder.grade import Graded, feedback_markdown

    wrong = testing.with_cells(testing.load(testing.solution_path(ASSIGNMENT)),
                               {"00_warmup.energy": "import numpy as np\ndef energy(states, gravity=9.81, length=1.0):\n    return np.zeros(np.shape(states)[:-1])\n"})
    results = grade_notebook(testing.write(wrong, tmp_path / "w.ipynb"), warmup, question="00_warmup.energy")
    hidden = [t for t in results["tests"] if t["visibility"] == "hidden"]
    assert hidden and all(t["status"] == "failed" for t in hidden)
    text = feedback_markdown(Graded("w", results))
    assert "expected the result" in text                         # the visible test's message is shown
    for test in hidden:
        assert test["output"] and test["output"] not in text
        assert test["name"].split(" :: ")[1] not in text


def test_flat_folder_and_single_notebook_layouts(tmp_path):
    from autograder.grade import find_submissions

    testing.write(testing.load(testing.released_path(ASSIGNMENT)), tmp_path / "flat" / "dora.ipynb")
    testing.write(testing.load(testing.released_path(ASSIGNMENT)), tmp_path / "flat" / ".ipynb_checkpoints" / "dora-checkpoint.ipynb")
    testing.write(testing.load(testing.released_path(ASSIGNMENT)), tmp_path / "flat" / "eve" / "mine.ipynb")
    assert [s for s, _ in find_submissions(tmp_path / "flat", ASSIGNMENT)] == ["dora", "eve"]
    assert find_submissions(tmp_path / "flat" / "dora.ipynb", ASSIGNMENT)[0][0] == "dora"


def test_check_command_shows_visible_tests_only(capsys):
    from autograder.cli import main

    assert main(["check", str(testing.released_path(ASSIGNMENT)), "--question", "00_warmup.energy"]) == 0
    out = capsys.readouterr().out
    assert "[ERROR] 00_warmup.energy :: test_energy_of_a_few_states" in out and "NotImplementedError" in out
    assert "hidden" not in out.split("visible tests:")[0]
    assert "0/1 points" in out


def test_unknown_assignment_is_a_clear_error(capsys):
    from autograder.cli import main

    assert main(["grade", ".", "--assignment", "99_nope", "--out", os.devnull]) == 2
    assert "unknown assignment '99_nope'" in capsys.readouterr().err


def test_fresh_worker_processes_grade_the_same_as_forked_ones(tmp_path, warmup, monkeypatch):
    """Where Landlock cannot scope signals, every worker is a fresh process instead of a fork of a template."""
    monkeypatch.setenv("DFKIT_GRADE_FORK", "0")
    notebook = testing.with_cells(testing.load(testing.solution_path(ASSIGNMENT)),
                                  {"00_warmup.energy": "import os\nos._exit(1)\n"})
    results = grade_notebook(testing.write(notebook, tmp_path / "nb.ipynb"), warmup)
    assert results["score"] == 10
    assert {t["status"] for t in results["tests"] if "energy" in t["name"]} == {"crashed"}


def test_a_grader_fault_on_one_submission_still_writes_its_results(tmp_path, monkeypatch):
    from autograder import grade as grading

    testing.write(testing.load(testing.solution_path(ASSIGNMENT)), tmp_path / "class" / "ann.ipynb")
    testing.write(testing.load(testing.solution_path(ASSIGNMENT)), tmp_path / "class" / "ben.ipynb")
    real = grading.grade_notebook

    def flaky(path, *args, **kwargs):
        if "ben" in str(path):
            raise OSError("disk on fire")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(grading, "grade_notebook", flaky)
    graded = grading.grade_class(tmp_path / "class", ASSIGNMENT, tmp_path / "out", progress=False)
    assert [g.score for g in graded] == [12, 0]
    ben = json.loads((tmp_path / "out" / "ben" / "results.json").read_text())
    assert ben["max_score"] == 12 and all("disk on fire" in t["output"] for t in ben["tests"])


def test_protocol_carries_tensors_as_marked_arrays():
    import torch

    from autograder.worker import _to_worker_values

    got = roundtrip((torch.arange(3.0), np.arange(2)))
    assert protocol.is_tensor(got[0]) and not protocol.is_tensor(got[1])
    assert type(protocol.as_array(got[0])) is np.ndarray and protocol.as_array(got[0]).tolist() == [0.0, 1.0, 2.0]
    back = _to_worker_values(got)
    assert isinstance(back[0], torch.Tensor) and type(back[1]) is np.ndarray


def test_protocol_keeps_zero_dimensional_arrays_and_tensors_zero_dimensional():
    import torch

    from autograder.worker import _to_worker_values

    array, tensor = roundtrip((np.array(2.5), torch.tensor(3.0)))
    assert array.shape == () and float(array) == 2.5
    assert tensor.shape == () and _to_worker_values(tensor).shape == torch.Size([])
    transposed = roundtrip(np.arange(6.0).reshape(2, 3).T)          # a non-contiguous array keeps its values
    assert transposed.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]


# ----------------------------------------------------------------------------- stand-ins

def through_the_wire(value):
    """What the worker's function receives for ``value`` sent by a test."""
    from autograder.worker import _to_worker_values

    return _to_worker_values(roundtrip(value))


def test_stand_ins_cross_the_wire_and_come_back_as_the_same_objects():
    import torch

    from autograder import standins
    from dfkit.diffusion.schedules import make_schedule

    schedule = make_schedule("sigmoid", 20)
    sent = (standins.schedule_argument(schedule), standins.ToyDenoiser(0.3, -1.0).as_argument(), {"plain": 1})
    rebuilt, denoiser, plain = through_the_wire(sent)
    assert isinstance(rebuilt, type(schedule)) and rebuilt.num_levels == 20 and rebuilt.kind == "sigmoid"
    for name in standins.SCHEDULE_TENSORS:
        assert torch.equal(getattr(rebuilt, name), getattr(schedule, name))
    assert isinstance(denoiser, standins.ToyDenoiser) and (denoiser.scale, denoiser.offset) == (0.3, -1.0)
    assert plain == {"plain": 1}
    generator = through_the_wire(standins.generator_argument(7))
    assert torch.equal(torch.rand(3, generator=generator), torch.rand(3, generator=torch.Generator().manual_seed(7)))
    window, frames, levels = torch.rand(3, 2, 1, 3, 3), torch.randn(2, 4, 1, 2, 2), torch.tensor([[0, 5, 900, 3], [1, 2, 3, 4]])
    for toy, inputs in ((standins.ToyNextFrame([0.5, 0.25], -0.2), (window,)),
                        (standins.ToyJointDenoiser(0.8, 1.5, 0.3), (frames, levels)),
                        (standins.ToyVideoDenoiser(0.5, 0.25, 0.4, 0.2), (frames, levels))):
        back = through_the_wire(toy.as_argument())
        assert type(back) is type(toy) and repr(back) == repr(toy) and torch.equal(back(*inputs), toy(*inputs))


def test_only_declared_stand_ins_are_rebuilt():
    from autograder import standins
    from dfkit.diffusion.schedules import make_schedule

    with pytest.raises(ValueError, match="unknown stand-in 'os.system'"):
        through_the_wire({protocol.STANDIN_KEY: "os.system", "command": "true"})
    with pytest.raises(KeyError, match="not a declared stand-in"):
        standins.tagged("nothing.declared")
    schedule = standins.schedule_argument(make_schedule("linear", 5))
    del schedule["betas"]
    with pytest.raises(ValueError, match="exactly the tensors"):
        through_the_wire(schedule)
    with pytest.raises(ValueError, match="non-negative int"):
        through_the_wire({protocol.STANDIN_KEY: "Generator", "seed": -1})


def test_toy_denoiser_uses_both_inputs_and_keeps_the_dtype():
    import torch

    from autograder.standins import ToyDenoiser

    denoiser = ToyDenoiser(0.5, 2.0)
    x = torch.ones(2, 1, 3, 3)
    out = denoiser(x, torch.tensor([0, 3]))
    assert out.dtype == torch.float32 and out.shape == x.shape
    torch.testing.assert_close(out[0], torch.full((1, 3, 3), 0.5 + 2.0))
    torch.testing.assert_close(out[1], torch.full((1, 3, 3), 0.5 + 2.0 * float(np.cos(3.0))))


def test_toy_next_frame_uses_every_frame_in_order_and_refuses_other_lengths():
    import torch

    from autograder.standins import ToyNextFrame

    sampler = ToyNextFrame([0.9, -0.5, 0.3], 0.1)
    window = torch.rand(2, 3, 1, 2, 2)
    assert not torch.allclose(sampler(window), sampler(window.flip(1)))
    for frame in range(3):
        changed = window.clone()
        changed[:, frame] += 0.5
        assert not torch.allclose(sampler(window), sampler(changed))
    with pytest.raises(ValueError, match=r"expected a window of the last 3 frames, shape \(B, 3, C, H, W\)"):
        sampler(window[:, 1:])


def test_toy_video_denoiser_is_causal_and_uses_every_input_it_may():
    import torch

    from autograder.standins import ToyVideoDenoiser

    toy = ToyVideoDenoiser(0.5, 0.3, 0.4, 0.2)
    x = torch.randn(2, 4, 1, 3, 3, generator=torch.Generator().manual_seed(7))
    levels = torch.tensor([[0, 100, 500, 1000], [20, 20, 999, 3]])
    out = toy(x, levels)
    changed_future = x.clone()
    changed_future[:, 2:] += 1
    assert torch.equal(toy(changed_future, levels)[:, :2], out[:, :2])             # frames after t never matter
    assert not torch.allclose(toy(changed_future, levels)[:, 2:], out[:, 2:])
    changed_past = x.clone()
    changed_past[:, 0] += 1
    assert not torch.allclose(toy(changed_past, levels)[:, 1:], out[:, 1:])        # the history does
    other_levels = levels.clone()
    other_levels[:, 1] += 1
    assert not torch.allclose(toy(x, other_levels)[:, 1:3], out[:, 1:3])           # its level and the next frame's
    with pytest.raises(ValueError, match=r"expected levels of shape \(B, T\) = \(2, 4\)"):
        toy(x, levels[0])
    with pytest.raises(ValueError, match="expected integer levels"):
        toy(x, levels.float())


def test_constructs_worth_a_look_are_flagged_but_not_scored(tmp_path, warmup):
    from autograder.flags import flag_constructs

    assert flag_constructs("import gc\nf.__code__ = g.__code__\nimport importlib\n") == [
        "imports or reloads modules by hand (importlib)", "inspects the interpreter's objects (gc)",
        "reads or replaces a function's code object"]
    solution = grade_notebook(testing.solution_path(ASSIGNMENT), warmup, question="00_warmup.energy")
    assert solution["extra_data"]["dfkit_grade"]["flags"] == {}
    right = "import gc\nimport numpy as np\ndef energy(states, gravity=9.81, length=1.0):\n    s = np.asarray(states, dtype=float)\n" \
            "    return 0.5 * length**2 * s[..., 1]**2 + gravity * length * (1 - np.cos(s[..., 0]))\n"
    notebook = testing.with_cells(testing.load(testing.solution_path(ASSIGNMENT)), {"00_warmup.energy": right})
    flagged = grade_notebook(testing.write(notebook, tmp_path / "nb.ipynb"), warmup, question="00_warmup.energy")
    assert flagged["score"] == 2
    assert flagged["extra_data"]["dfkit_grade"]["flags"] == {"00_warmup.energy": ["inspects the interpreter's objects (gc)"]}


def test_gradescope_status_keeps_only_passed_and_failed(tmp_path):
    from autograder.cli import main

    testing.write(testing.load(testing.released_path(ASSIGNMENT)), tmp_path / "class" / "fay.ipynb")
    assert main(["grade", str(tmp_path / "class"), "--assignment", ASSIGNMENT, "--out", str(tmp_path / "out"),
                 "--no-progress", "--gradescope-status"]) == 0
    tests = json.loads((tmp_path / "out" / "fay" / "results.json").read_text())["tests"]
    assert {t["status"] for t in tests} == {"failed"}
    assert all(t["extra_data"]["status"] == "error" and t["output"].startswith("[error]") for t in tests)


# ----------------------------------------------------------------------------- the library without the answers

def test_redaction_keeps_the_signature_and_removes_the_body():
    from autograder.redaction import REMOVED_MARKER, redact_source

    source = 'import torch\n\n@torch.no_grad()\ndef answer(x, k=1):\n    """Doc."""\n    return x + k\n\nclass Holder:\n    def method(self):\n        return 1\n\ndef kept():\n    return 2\n'
    redacted = redact_source(source, {"answer": f"answer {REMOVED_MARKER} x", "Holder.method": "gone"})
    namespace: dict = {}
    exec(redacted, namespace)
    with pytest.raises(RuntimeError, match=REMOVED_MARKER):
        namespace["answer"](1)
    with pytest.raises(RuntimeError, match="gone"):
        namespace["Holder"]().method()
    assert namespace["kept"]() == 2 and "return x + k" not in redacted and "@torch.no_grad()" in redacted
    with pytest.raises(ValueError, match="misspelt"):
        redact_source(source, {"misspelt": "x"})


@pytest.mark.parametrize("name", available())
def test_every_answer_and_equivalent_listed_is_absent_from_the_worker(name, tmp_path):
    """Inside a real worker, each function a question lists (its own answer and every equivalent) is the
    removed stub, dfkit comes from the grader's copy, and the installed files cannot be read."""
    from autograder.notebook import Submission
    from autograder.redaction import REMOVED_MARKER, installed_package, removed_functions
    from autograder.session import Session

    assignment = load_assignment(name)
    paths = sorted(removed_functions(assignment.references()))
    question = next(iter(assignment.questions))
    probe = f'''
import importlib, os

def probe():
    import dfkit
    present = []
    for path in {paths!r}:
        parts = path.split(".")
        for split in range(len(parts) - 1, 0, -1):
            try:
                owner = importlib.import_module(".".join(parts[:split]))
                break
            except ImportError:
                continue
        for part in parts[split:]:
            owner = getattr(owner, part)
        while hasattr(owner, "__wrapped__"):
            owner = owner.__wrapped__
        if not any({REMOVED_MARKER!r} in str(c) for c in owner.__code__.co_consts):
            present.append(path)
    try:
        readable = os.listdir({str(installed_package())!r})
    except OSError:
        readable = []
    return present, os.path.dirname(dfkit.__file__), readable
'''
    session = Session(Submission(path=tmp_path / "probe.ipynb", sha256="0", cells={question: probe}), assignment, assignment.limits)
    try:
        present, imported_from, readable = session.call(question, "probe")
        sandbox = session.enforcement
    finally:
        session.close()
    assert paths and present == [], present
    assert imported_from.startswith(session.library), imported_from
    if "NOT out of reach" not in sandbox["reference_answers"]:
        assert readable == [], readable


# ----------------------------------------------------------------------------- what a call may not do besides returning

def test_a_function_that_writes_into_its_input_fails_with_the_reason(warmup, tmp_path):
    source = load_assignment(ASSIGNMENT).catalog()["00_warmup.bounce_step"]["moves the caller's position array in place"]
    notebook = testing.with_cells(testing.load(testing.solution_path(ASSIGNMENT)), {"00_warmup.bounce_step": source})
    results = grade_notebook(testing.write(notebook, tmp_path / "in_place.ipynb"), warmup, question="00_warmup.bounce_step")
    assert results["score"] == 0 and {t["status"] for t in results["tests"]} == {"failed"}, results["tests"]
    assert all("changed its input `position` in place" in t["output"] for t in results["tests"] if t["visibility"] == "visible")


def test_a_nan_answer_never_passes_even_against_values_built_from_it():
    from autograder.expect import expect_array, expect_number

    with pytest.raises(AssertionError, match="NaN or infinite"):
        expect_array(np.array([1.0, np.nan]), np.array([1.0, np.nan]), call="f()")
    with pytest.raises(AssertionError, match="finite number"):
        expect_number(float("inf"), float("inf"), call="f()")
    expect_array(np.array([1.0, np.nan]), np.array([1.0, np.nan]), call="f()", finite=False)


# ----------------------------------------------------------------------------- cgroup v2, on a stand-in cgroup tree

def fake_unified_hierarchy(tmp_path, monkeypatch, controllers="cpu memory pids"):
    """A folder laid out like a cgroup v2 mount with the grader in /grader; mkdir adds the control files as the kernel does."""
    import os

    from autograder import cgroups

    parent = tmp_path / "grader"
    parent.mkdir()
    (tmp_path / "cgroup.controllers").write_text(controllers + "\n")
    (parent / "cgroup.controllers").write_text(controllers + "\n")
    (parent / "cgroup.subtree_control").write_text("")
    real_mkdir = os.mkdir

    def kernel_mkdir(path, mode=0o777):
        real_mkdir(path, mode)
        for name in ("cgroup.procs", "pids.max", "memory.max", "memory.swap.max", "memory.events"):
            open(os.path.join(path, name), "w").close()

    monkeypatch.setattr(cgroups, "ROOT", str(tmp_path))
    monkeypatch.setattr(cgroups, "_own_path", lambda hierarchy: "/grader" if hierarchy == "" else pytest.fail("v1 asked on v2"))
    monkeypatch.setattr(cgroups.os, "mkdir", kernel_mkdir)
    return parent


def test_a_cgroup_v2_group_gets_both_controllers_and_its_limits(tmp_path, monkeypatch):
    from autograder import cgroups

    parent = fake_unified_hierarchy(tmp_path, monkeypatch)
    group, reason = cgroups.open_group(64, 2**30)
    assert group is not None and reason == "" and group.version == 2
    assert (parent / "cgroup.subtree_control").read_text() == "+pids +memory"      # enabled for the children first
    folder = parent / group.folders[0].rsplit("/", 1)[1]
    assert (folder / "pids.max").read_text() == "64" and (folder / "memory.max").read_text() == str(2**30)
    assert (folder / "memory.swap.max").read_text() == "0"
    assert group.procs_files() == [str(folder / "cgroup.procs")]
    assert "cgroup v2" in group.describe()["processes"] and "cgroup v2" in group.describe()["memory"]
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 5\noom 2\noom_kill 2\n")
    assert group.oom_kills() == 2


def test_a_cgroup_v2_tree_that_cannot_hold_the_limits_is_reported_not_used(tmp_path, monkeypatch):
    import errno

    from autograder import cgroups

    fake_unified_hierarchy(tmp_path, monkeypatch, controllers="cpu pids")
    group, reason = cgroups.open_group(64, 2**30)
    assert group is None and "offers ['cpu', 'pids'], not pids and memory" in reason

    def busy(path, mode=0o777):
        raise OSError(errno.EBUSY, "Device or resource busy")

    (tmp_path / "cgroup.controllers").write_text("memory pids\n")
    (tmp_path / "grader" / "cgroup.controllers").write_text("memory pids\n")
    monkeypatch.setattr(cgroups.os, "mkdir", busy)       # the grader's own group holds processes: no child group
    group, reason = cgroups.open_group(64, 2**30)
    assert group is None and reason.startswith("cannot make a cgroup v2 group under") and "busy" in reason
