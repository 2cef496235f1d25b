"""Course tooling: release matches notebooks/, the student bundle holds no secret, check() in a notebook, the catalog."""

import json
import os
import subprocess
import sys

import pytest

from autograder import testing
from autograder.assignments import available, load_assignment
from autograder.grade import grade_notebook
from autograder.plugin import DEFAULT_SEED, run_tests
from autograder.selfcheck import LocalBackend, check
from dfkit import course
from helpers import readme_command

ASSIGNMENT = "00_warmup"
CANARY = "dfkit-canary"


def test_notebooks_equal_their_regeneration_from_solutions():
    assert course.release_differences() == [], "run `dfkit course release` and commit notebooks/"


def test_release_writes_student_notebooks_without_solutions(tmp_path):
    written = {p.relative_to(tmp_path).as_posix(): p for p in course.release(notebooks=tmp_path)}
    assert set(written) == {f"{s.parent.name}/{s.name}" for s in course.solution_notebooks()}
    text = written[f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"].read_text()
    assert CANARY not in text and "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "raise NotImplementedError()" in text


def test_release_differences_reports_a_stale_notebook(tmp_path):
    course.release(notebooks=tmp_path)
    target = tmp_path / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    target.write_text(target.read_text().replace("Warm-up", "Warm up"))
    (tmp_path / "99_extra").mkdir()
    (tmp_path / "99_extra" / "99_extra.ipynb").write_text("{}")
    problems = course.release_differences(notebooks=tmp_path)
    assert any("differs" in p for p in problems) and any("no solution notebook" in p for p in problems)


def test_course_command_line(tmp_path, capsys):
    from dfkit.cli import main

    assert main(["course", "release", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["course", "student-bundle", str(tmp_path / "bundle")]) == 0
    assert (tmp_path / "bundle" / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()
    assert main(["course", "student-bundle", str(tmp_path / "bundle")]) == 2     # refuses a non-empty folder


def test_the_library_reaches_the_grader_only_through_the_check_bridge():
    """dfkit imports autograder only in course.py (check() in a notebook, the bundle) and cli.py (its commands):
    the grading stand-ins live on the grader's side (autograder/standins.py)."""
    import ast
    from pathlib import Path

    package = Path(course.__file__).parent
    importers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            if any(name.split(".")[0] == "autograder" for name in names):
                importers.add(path.relative_to(package).as_posix())
    assert importers <= {"course.py", "cli.py"}, sorted(importers)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    destination = tmp_path_factory.mktemp("bundle") / "dfkit-student"
    course.student_bundle(destination)
    return destination


def test_student_bundle_has_no_solution_hidden_test_or_reference_answer(bundle):
    files = [p for p in bundle.rglob("*") if p.is_file()]
    leaks = [str(p) for p in files if CANARY.encode() in p.read_bytes()]
    assert not leaks, leaks
    names = {p.relative_to(bundle).as_posix() for p in files}
    assert not any(n.startswith(("solutions/", ".git/")) or n.endswith(("_hidden.py", "catalog.py")) for n in names)
    visible = {n for n in names if n.startswith(f"autograder/tests/{ASSIGNMENT}/test_")}
    assert visible == {f"autograder/tests/{ASSIGNMENT}/test_{q}.py" for q in ("bounce_step", "energy", "rk4_step", "estimate_angle")}
    assert f"notebooks/{ASSIGNMENT}/{ASSIGNMENT}.ipynb" in names and "dfkit/data/pendulum.py" in names


def test_the_bundle_readme_is_the_students_guide(bundle):
    readme = (bundle / "README.md").read_text()
    assert readme == course.STUDENT_README.read_text()
    for instructor_only in ("solutions/", "benchmarks/", ".ci/run", "dfkit-grade", "dfkit course", "pytest"):
        assert instructor_only not in readme, instructor_only
    # one install line for students
    assert readme_command("student-install", bundle / "README.md") == readme_command("student-install")


def test_visible_checks_work_from_the_student_bundle(bundle):
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1])\n"
        "import autograder.assignments as a\n"
        "from autograder.selfcheck import check\n"
        "from dfkit.data.pendulum import render\n"
        "import numpy as np\n"
        "def energy(states, gravity=9.81, length=1.0):\n"
        "    s = np.asarray(states, dtype=float)\n"
        "    return 0.5 * length**2 * s[..., 1]**2 + gravity * length * (1 - np.cos(s[..., 0]))\n"
        "r = check('00_warmup.energy', hidden=True, namespace={'energy': energy}, verbose=False)\n"
        "print(json.dumps([r.score, r.max_score, a.__file__]))\n"
    )
    env = dict(os.environ, DFKIT_AUTOGRADER_TESTS=str(bundle / "autograder" / "tests"))
    done = subprocess.run([sys.executable, "-c", script, str(bundle)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    score, max_score, module = json.loads(done.stdout.strip().splitlines()[-1])
    assert (score, max_score) == (1, 1) and module.startswith(str(bundle))   # hidden tests are simply absent


# ----------------------------------------------------------------------------- check() in a notebook

def energy_right(states, gravity=9.81, length=1.0):
    import numpy as np
    s = np.asarray(states, dtype=float)
    return 0.5 * length**2 * s[..., 1]**2 + gravity * length * (1 - np.cos(s[..., 0]))


def test_check_passes_a_right_function_and_explains_a_wrong_one(capsys):
    result = check("00_warmup.energy", namespace={"energy": energy_right})
    assert result.passed and (result.score, result.max_score) == (1, 1) and repr(result) == "1.0"
    assert "all checks passed" in capsys.readouterr().out
    wrong = check("00_warmup.energy", namespace={"energy": lambda states, gravity=9.81, length=1.0: energy_right(states) * 2})
    out = capsys.readouterr().out
    assert not wrong.passed and wrong.score == 0
    assert "expected" in out and "got" in out and "energy(states=" in out


@pytest.mark.parametrize("question, label, concept", [
    ("02_ddpm.q_sample", "variances where standard deviations belong", "which are variances"),
    ("02_ddpm.q_sample", "square root on the signal only", "a variance, instead of its square root"),
    ("02_ddpm.q_sample", "off by one level: alpha_bar[k - 1]", "off by one"),
    ("02_ddpm.q_sample", "signal and noise weights swapped", "swap the weights"),
    ("02_ddpm.q_sample", "one forward step (beta_k) instead of the kernel", "one forward step"),
    ("02_ddpm.posterior_mean_variance", "beta_k where beta-tilde belongs", "the forward step's variance"),
    ("02_ddpm.posterior_mean_variance", "alpha_bar_k where alpha_bar_(k-1) belongs", "ᾱ_k where ᾱ_(k-1) belongs"),
    ("02_ddpm.posterior_mean_variance", "coefficients of x_0 and x_k swapped", "swap the coefficients"),
    ("02_ddpm.posterior_mean_variance", "alpha_k without its square root", "by α_k where its square root belongs"),
    ("02_ddpm.posterior_mean_variance", "standard deviation returned as the variance", "the standard deviation"),
    ("04_teacher_forcing.teacher_forcing_pairs", "target inside its own history (the window starts one frame late)",
     "inside its own history"),
    ("04_teacher_forcing.teacher_forcing_pairs", "target is the last history frame (off by one)", "the last frame of its history"),
    ("04_teacher_forcing.teacher_forcing_pairs", "history newest first", "newest frame first"),
    ("01_vae.reparameterize", "exp(logvar) as the standard deviation", "the variance σ²"),
    ("01_vae.reparameterize", "logvar used as the standard deviation", "by logvar itself"),
    ("01_vae.reparameterize", "noise added without the scale", "without scaling it"),
    ("01_vae.gaussian_kl", "no factor one half", "factor ½"),
    ("01_vae.gaussian_kl", "sigma where sigma squared belongs", "where the variance σ² = exp(logvar) belongs"),
    ("01_vae.gaussian_kl", "mean over the latent dimensions", "average over the latent dimensions"),
    ("01_vae.gaussian_kl", "sign flipped", "flip the sign"),
    ("01_vae.gaussian_kl", "no minus one", "the -1"),
    ("03_flow_matching.interpolate", "noise and data swapped (t = 0 is data)", "swap noise and data"),
    ("03_flow_matching.interpolate", "variance-preserving mix (square roots, as in DDPM)", "variance preserving"),
    ("03_flow_matching.target_velocity", "sign flipped (noise - data)", "flip the sign"),
    ("03_flow_matching.target_velocity", "the data itself (an x-prediction habit)", "x_0-predicting"),
    ("03_flow_matching.target_velocity", "the noise (an eps-prediction habit)", "ε-predicting"),
    ("06_diffusion_forcing.stabilized_history", "noised, but reported clean (levels 0)", "at level 0"),
    ("06_diffusion_forcing.stabilized_history", "noise added even when add_noise is False", "add_noise=False"),
    ("06_diffusion_forcing.stabilized_history", "never noised (only labelled)", "only label the history"),
    ("06_diffusion_forcing.stabilized_history", "variances where standard deviations belong", "which are variances"),
    ("06_diffusion_forcing.stabilized_history", "noise added without shrinking the signal", "without shrinking"),
    ("04_teacher_forcing.teacher_forcing_input", "history noised too, at the target's level (full-sequence noise)",
     "clean frames are at level 0"),                                  # its levels are checked first
    ("04_teacher_forcing.teacher_forcing_input", "history labelled with level k", "clean frames are at level 0"),
    ("04_teacher_forcing.teacher_forcing_input", "noise mixed without square roots", "which are variances"),
    ("04_teacher_forcing.teacher_forcing_input", "signal of the previous level (alpha_bars[k - 1])", "off by one"),
    ("04_teacher_forcing.teacher_forcing_input", "target left clean (only its level says k)", "leave the target clean"),
    ("00_warmup.energy", "no factor one half", "the ½"),
    ("00_warmup.energy", "potential measured from the pivot", "from the pivot"),
    ("02_ddpm.ancestral_step", "beta_k where beta-tilde belongs, noise at k = 1 too", "last step too"),
    ("02_ddpm.ancestral_step", "variance used as the standard deviation", "the variance β̃_k as the noise's scale"),
    ("02_ddpm.ancestral_step", "sqrt(1 - alpha_bar) where beta / sqrt(1 - alpha_bar) belongs", "Algorithm 2 subtracts"),
    ("02_ddpm.ancestral_step", "sign error in the mean", "add the predicted noise"),
    ("02_ddpm.ancestral_step", "divides by alpha_k instead of its square root", "divide by α_k"),
    ("02_ddpm.ancestral_step", "returns the guess of x_0 plus noise", "guess of x_0"),
    ("07_guidance.raise_level", "q_sample from x as if it were clean", "as if it were clean"),
    ("07_guidance.raise_level", "ratio of alpha-bars without the square root", "a ratio of variances"),
    ("07_guidance.raise_level", "added variance not divided by alpha_bar_s", "without dividing by ᾱ_s"),
    ("07_guidance.cost_guided_x0", "moves up the cost (+ instead of -)", "up the cost"),
    ("07_guidance.cost_guided_x0", "no level weighting: x0_hat - w grad", "the level's weight"),
    ("07_guidance.cost_guided_x0", "the two weightings swapped", "weighting where the"),
    ("07_guidance.cost_guided_x0", "history frames moved as well", "move the history frames"),
    ("05_full_sequence.full_sequence_noise", "no square roots (alpha_bar x_0 + (1 - alpha_bar) eps)", "which are variances"),
    ("05_full_sequence.full_sequence_noise", "signal and noise swapped", "swap the weights"),
    ("05_full_sequence.full_sequence_noise", "alpha_bar read one level too low (alpha_bars[k - 1])", "off by one"),
    ("02_ddpm.ddim_step", "x0 guessed with the target level's alpha_bar", "the target level's"),
    ("02_ddpm.ddim_step", "x_k where the guess of x_0 belongs", "rescale x_k"),
    ("02_ddpm.ddim_step", "variances where standard deviations belong in the guess of x_0", "which are variances"),
    ("02_ddpm.diffusion_loss", "regresses x_0 instead of the noise", "regress x_0"),
    ("02_ddpm.diffusion_loss", "the denoiser sees x_0 instead of x_k", "give the denoiser x_0"),
    ("02_ddpm.diffusion_loss", "corruption without square roots", "which are variances"),
    ("02_ddpm.diffusion_loss", "sum instead of mean", "sum the squared errors"),
    ("02_ddpm.diffusion_loss", "the denoiser is told level k - 1", "level k - 1"),
    ("02_ddpm.diffusion_loss", "absolute error instead of squared error", "absolute error"),
    ("06_diffusion_forcing.noisy_clips", "variances where standard deviations belong", "which are variances"),
    ("05_full_sequence.replace_known", "known frames replaced by the clean truth (no noise)", "the clean truth"),
    ("05_full_sequence.replace_known", "noise added to the current x instead of the truth", "to the current x"),
    ("07_guidance.view_levels", "keeps the first frames of the history, not the last", "the first frames"),
    ("07_guidance.view_levels", "keep = 0 sliced as [-0:], which keeps everything", "keep = 0"),
    ("07_guidance.view_levels", "masked frames at K - 1", "mask at K - 1"),
    ("07_guidance.view_levels", "level None read as level 0", "level None as level 0"),
    ("07_guidance.view_levels", "the view's level given to the generated frames too", "generated frames too"),
    ("00_warmup.rk4_step", "explicit Euler", "explicit Euler"),
    ("00_warmup.rk4_step", "weights 1-1-1-1", "weight the four slopes equally"),
    ("04_teacher_forcing.swing_direction", "angle change not wrapped (a swing through the top goes the wrong way)",
     "raw angle change"),
    ("04_teacher_forcing.swing_direction", "direction reversed (before minus after)", "reverse the direction"),
    ("00_warmup.bounce_step", "no clamping at the wall", "outside the box"),
    ("00_warmup.bounce_step", "flips both components", "flip both components"),
    ("00_warmup.bounce_step", "only the low wall", "low walls only"),
    ("00_warmup.bounce_step", "walls tested before moving", "before moving"),
    ("00_warmup.estimate_angle", "rows and columns swapped", "arctan2(column offset, row offset)"),
    ("00_warmup.estimate_angle", "pixel corners instead of centres", "from their corners"),
    ("01_vae.gaussian_log_likelihood", "no log 2 pi", "½ log 2π"),
    ("01_vae.gaussian_log_likelihood", "log_scale read as a log-variance", "a log-variance"),
    ("01_vae.gaussian_log_likelihood", "divided by sigma instead of sigma squared", "by σ where σ² belongs"),
    ("01_vae.gaussian_log_likelihood", "normalizer counted once per example", "once per example"),
    ("01_vae.gaussian_log_likelihood", "mean over dimensions", "average over the dimensions"),
    ("01_vae.gaussian_log_likelihood", "sign flipped (the loss, not the log-likelihood)", "negative log-likelihood"),
    ("01_vae.bernoulli_log_likelihood", "sign flipped (the loss, not the log-likelihood)", "binary cross-entropy, a loss"),
    ("01_vae.bernoulli_log_likelihood", "mean over pixels", "average over the pixels"),
    ("03_flow_matching.marginal_velocity", "variance (1 - t) instead of (1 - t) squared", "variance (1 - t)²"),
    ("03_flow_matching.marginal_velocity", "Gaussians centred on the points, not on t times the points", "has mean t p_i"),
    ("03_flow_matching.marginal_velocity", "uniform weights (the plain average of the conditional velocities)", "equal weights"),
    ("03_flow_matching.marginal_velocity", "sign flipped (pushes away from the data)", "from the data towards x_t"),
    ("03_flow_matching.marginal_velocity", "one time for the whole batch (t[0])", "one time for the whole batch"),
    ("04_teacher_forcing.autoregressive_rollout", "the window never slides (every frame sampled from the context)", "the window slides"),
    ("04_teacher_forcing.autoregressive_rollout", "window newest first", "newest first"),
    ("04_teacher_forcing.autoregressive_rollout", "the newest frame left out of the window (off by one)", "the newest included"),
    ("04_teacher_forcing.autoregressive_rollout", "the first history frames of the context", "the first frames of the context"),
    ("05_full_sequence.reconstruction_gradient", "the gradient with respect to x0_hat instead of x_k", "with respect to x̂_0"),
    ("05_full_sequence.reconstruction_gradient", "the known frames' own gradient only (unknown frames zeroed)", "the known frames only"),
    ("05_full_sequence.reconstruction_gradient", "mean squared error instead of the sum", "average the squared errors"),
    ("05_full_sequence.reconstruction_gradient", "half the squared error (the factor 2 lost)", "has no ½"),
    ("05_full_sequence.reconstruction_gradient", "the last a frames compared with the truth", "the last a frames"),
    ("05_full_sequence.reconstruction_gradient", "the denoiser asked at level 0", "at level 0"),
    ("05_full_sequence.reconstruction_guided_x0", "sign flipped (moves up the error gradient)", "move up the gradient"),
    ("05_full_sequence.reconstruction_guided_x0", "without the 1/2", "leave out the ½"),
    ("05_full_sequence.reconstruction_guided_x0", "alpha_bar instead of its square root", "where its square root belongs"),
    ("05_full_sequence.reconstruction_guided_x0", "the classifier weighting (1 - alpha_bar) / sqrt(alpha_bar)", "classifier-guidance weighting"),
    ("05_full_sequence.reconstruction_guided_x0", "the known frames corrected too", "correct the known frames too"),
    ("05_full_sequence.reconstruction_guided_x0", "only the known frames corrected", "instead of the unknown ones"),
    ("05_full_sequence.reconstruction_guided_x0", "off by one frame (the last known frame corrected)", "the last known frame too"),
    ("05_full_sequence.border_inconsistency", "the first difference |θ_t - θ_(t-1)| instead of the surprise", "the change of the step"),
    ("05_full_sequence.border_inconsistency", "surprise read one frame late (at b + 1)", "one frame late"),
    ("05_full_sequence.border_inconsistency", "the borders counted inside too", "border frames inside too"),
    ("05_full_sequence.border_inconsistency", "squared surprise instead of its size", "square the surprise"),
    ("05_full_sequence.border_inconsistency", "wrapped into [0, 2π) instead of [-π, π)", "wrap into [0, 2π)"),
    ("06_diffusion_forcing.autoregressive_matrix", "chunk_size ignored (always one frame at a time)", "every frame on its own"),
    ("06_diffusion_forcing.autoregressive_matrix", "an idle row between chunks (next chunk starts steps + 1 rows later)", "an idle row"),
    ("06_diffusion_forcing.autoregressive_matrix", "the next chunk starts one row before the previous one is clean", "one row before"),
    ("06_diffusion_forcing.autoregressive_matrix", "ladder from range(K, -1, -(K // steps))", "by K // steps"),
    ("06_diffusion_forcing.autoregressive_matrix", "the matrix transposed (frames as rows)", "put the frames on the rows"),
    ("06_diffusion_forcing.autoregressive_matrix", "rows in reverse order (clean first, columns going up)", "clean first"),
    ("06_diffusion_forcing.pyramid_matrix", "delay ignored (one row between chunks)", "one row apart"),
    ("06_diffusion_forcing.pyramid_matrix", "chunk_size ignored (delay per frame)", "delay every frame"),
    ("06_diffusion_forcing.pyramid_matrix", "upside-down pyramid (the last frame first)", "start with the last chunk"),
    ("06_diffusion_forcing.pyramid_matrix", "the final all-clean row is missing", "stop before the last row"),
    ("06_diffusion_forcing.pyramid_matrix", "a frame walks two rungs per row", "two rungs per row"),
    ("06_diffusion_forcing.walk_matrix", "the denoiser is told the next row's levels", "the next row's levels"),
    ("06_diffusion_forcing.walk_matrix", "the last row is never reached", "stop one row early"),
    ("06_diffusion_forcing.walk_matrix", "each frame denoised alone (the model never sees the history)", "each frame alone"),
    ("06_diffusion_forcing.walk_matrix", "the clean estimate taken as the next frames (no DDIM step)", "the clean estimate"),
    ("06_diffusion_forcing.walk_matrix", "the parameterization is ignored (always eps)", "whatever the parameterization"),
    ("07_guidance.history_guidance_terms", "vanilla weights swapped", "you swap the weights"),
    ("07_guidance.history_guidance_terms", "vanilla with 1 + w on the conditional (the other CFG convention)", "the other guidance convention"),
    ("07_guidance.history_guidance_terms", "fractional without the unconditional term (weights do not sum to 1)", "leave out -w ε(∅)"),
    ("07_guidance.history_guidance_terms", "fractional: the fractional view subtracted from the conditional", "subtract the fractional view"),
    ("07_guidance.history_guidance_terms", "temporal: unconditional weight 1 instead of 1 - sum", "the weight 1:"),
    ("07_guidance.history_guidance_terms", "temporal: unconditional weight -sum (weights sum to 0)", "the weight -Σ w_i"),
])
def test_a_catalogued_mistake_is_named_in_the_feedback(question, label, concept):
    assignment, name = question.split(".")
    student: dict = {}
    exec(load_assignment(assignment).catalog()[question][label], student)
    result = check(question, namespace={name: student[name]}, verbose=False)
    assert not result.passed and "This is what you get when" in result.report() and concept in result.report(), result.report()


def test_check_tells_the_student_when_the_library_version_is_called(capsys):
    from dfkit.data.pendulum import energy as library_energy

    result = check("00_warmup.energy", namespace={"energy": lambda s, g=9.81, L=1.0: library_energy(s, g, L)})
    out = capsys.readouterr().out
    assert result.score == 0 and "switched off" in out and "write the function yourself" in out
    import numpy as np
    assert library_energy(np.array([0.0, 1.0])) == 0.5           # switched back on afterwards


def test_check_with_hidden_tests_matches_grading(tmp_path):
    result = check("00_warmup.energy", hidden=True, namespace={"energy": energy_right}, verbose=False)
    assert (result.score, result.max_score) == (2, 2)


def test_own_or_library_falls_back_with_a_notice(capsys):
    import __main__
    from dfkit.data.pendulum import energy as library_energy

    def broken(states, gravity=9.81, length=1.0):
        raise NotImplementedError

    vars(__main__)["energy"] = broken
    try:
        chosen = course.own_or_library("00_warmup.energy", broken)
    finally:
        del vars(__main__)["energy"]
    assert chosen is library_energy and "Notice: 00_warmup.energy" in capsys.readouterr().out
    check("00_warmup.energy", namespace={"energy": energy_right}, verbose=False)
    assert course.own_or_library("00_warmup.energy", energy_right) is energy_right


# ----------------------------------------------------------------------------- catalog of wrong implementations

def catalog_entries():
    for name in available():
        for question, entries in load_assignment(name).catalog().items():
            for label, source in entries.items():
                yield name, question, label, source


@pytest.mark.parametrize("assignment_name, question, label, source", list(catalog_entries()), ids=lambda v: v if isinstance(v, str) and "\n" not in v else None)
def test_every_catalogued_wrong_implementation_fails_two_tests(assignment_name, question, label, source):
    """Run in-process (the catalog is course staff's code, not a student's): each entry must lose points
    in two independent tests, so that no mistake is caught by a single margin."""
    assignment = load_assignment(assignment_name)
    namespace: dict = {}
    exec(compile(source, f"<catalog {label}>", "exec"), namespace)
    _, results = run_tests(assignment, LocalBackend(namespace, assignment), DEFAULT_SEED, question=question, capture="no")
    failing = [r.name for r in results if r.status != "passed"]
    assert len(failing) >= 2, f"{question} / {label} fails only {failing or 'no test'}"


def test_the_catalog_covers_every_question():
    for name in available():
        assignment = load_assignment(name)
        catalog = assignment.catalog()
        assert set(catalog) == set(assignment.questions), name
        assert all(len(entries) >= 1 for entries in catalog.values()), name


def test_catalog_entries_score_below_full_through_the_sandbox(tmp_path):
    """One sandboxed grading of a notebook holding one wrong implementation per question."""
    assignment = load_assignment(ASSIGNMENT)
    first_wrong = {q: next(iter(entries.values())) for q, entries in assignment.catalog().items()}
    notebook = testing.with_cells(testing.load(testing.solution_path(ASSIGNMENT)), first_wrong)
    results = grade_notebook(testing.write(notebook, tmp_path / "wrong.ipynb"), assignment)
    for question in assignment.questions:
        mine = [t for t in results["tests"] if t["name"].startswith(question)]
        assert sum(t["score"] for t in mine) < sum(t["max_score"] for t in mine), question
