"""Adversarial submissions: each must get exactly the score it earns without its attack.

Most attacks target ``00_warmup.energy`` (2 points: one visible test, one hidden) and are graded on
that question only, to keep the suite fast; a few grade the whole notebook (12 points) to show that
the other questions are unaffected.
"""

import json
import pickle
import time

import pytest

from autograder import testing
from autograder.assignments import load_assignment
from autograder.grade import grade_class, grade_notebook
from autograder.redaction import REMOVED_MARKER, installed_package
from autograder.sandbox import Limits

REPO = installed_package().parent
ASSIGNMENT = "00_warmup"
ENERGY = "00_warmup.energy"
LIMITS = Limits(call_seconds=1.5, cell_seconds=3.0, setup_seconds=60.0, submission_seconds=40.0,
                memory_bytes=2 * 2**30, output_bytes=256 * 1024)

RIGHT = """
import numpy as np
def energy(states, gravity=9.81, length=1.0):
    states = np.asarray(states, dtype=np.float64)
    return 0.5 * length**2 * states[..., 1]**2 + gravity * length * (1.0 - np.cos(states[..., 0]))
"""
WRONG = """
import numpy as np
def energy(states, gravity=9.81, length=1.0):
    states = np.asarray(states, dtype=np.float64)
    return length**2 * states[..., 1]**2 + gravity * length * (1.0 - np.cos(states[..., 0]))
"""


@pytest.fixture(scope="module")
def warmup():
    return load_assignment(ASSIGNMENT)


@pytest.fixture(scope="module")
def solution():
    return testing.load(testing.solution_path(ASSIGNMENT))


def grade(tmp_path, warmup, notebook, question=ENERGY):
    path = testing.write(notebook, tmp_path / "submission" / f"{ASSIGNMENT}.ipynb")
    return grade_notebook(path, warmup, limits=LIMITS, question=question)


def statuses(results, question=ENERGY):
    return {t["status"] for t in results["tests"] if t["name"].startswith(question)}


# (name, energy cell source, expected score out of 2, expected statuses of the energy tests; None: any
# status but passed, for attacks that break the worker's own machinery and so may end either way)
ATTACKS = [
    ("exit at import", "import os\nos._exit(0)\n" + RIGHT, 0, {"crashed"}),
    ("segfault at import", "import ctypes\nctypes.string_at(0)\n" + RIGHT, 0, {"crashed"}),
    ("hang at import ignoring signals", "import signal\nfor s in (signal.SIGINT, signal.SIGTERM):\n    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass\n" + RIGHT, 0, {"timeout"}),
    ("SystemExit at import", "raise SystemExit(0)\n" + RIGHT, 0, {"error"}),
    ("exit inside the function", "import os\ndef energy(states, gravity=9.81, length=1.0):\n    os._exit(3)\n", 0, {"crashed"}),
    ("SIGKILL inside the function", "import os, signal\ndef energy(states, gravity=9.81, length=1.0):\n    os.kill(os.getpid(), signal.SIGKILL)\n", 0, {"crashed"}),
    ("segfault inside the function", "import ctypes\ndef energy(states, gravity=9.81, length=1.0):\n    return ctypes.string_at(0)\n", 0, {"crashed"}),
    ("interrupt-proof infinite loop", "import signal\ndef energy(states, gravity=9.81, length=1.0):\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n    while True:\n        try:\n            pass\n        except BaseException:\n            pass\n", 0, {"timeout"}),
    ("memory blow-up", "import numpy as np\ndef energy(states, gravity=9.81, length=1.0):\n    return np.ones(2**33)\n", 0, {"memory"}),
    ("output flood", "import sys\ndef energy(states, gravity=9.81, length=1.0):\n    while True:\n        sys.stdout.write('x' * 65536)\n", 0, {"error"}),
    ("fork bomb", "import os\ndef energy(states, gravity=9.81, length=1.0):\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n", 0, {"timeout"}),
    ("file beyond the size limit", "def energy(states, gravity=9.81, length=1.0):\n    with open('big.bin', 'wb') as f:\n        f.write(bytes(64 * 2**20))\n", 0, {"error"}),
    ("SystemExit", "def energy(states, gravity=9.81, length=1.0):\n    raise SystemExit(0)\n", 0, {"error"}),
    ("KeyboardInterrupt", "def energy(states, gravity=9.81, length=1.0):\n    raise KeyboardInterrupt\n", 0, {"error"}),
    ("custom BaseException", "class Escape(BaseException):\n    pass\ndef energy(states, gravity=9.81, length=1.0):\n    raise Escape()\n", 0, {"error"}),
    ("always-equal object", "class Yes:\n    def __eq__(self, other): return True\n    def __ne__(self, other): return False\n    def __array__(self, *a, **k): raise TypeError\ndef energy(states, gravity=9.81, length=1.0):\n    return Yes()\n", 0, {"error"}),
    ("always-equal float subclass", "class Yes(float):\n    def __eq__(self, other): return True\ndef energy(states, gravity=9.81, length=1.0):\n    return Yes(0.0)\n", 0, {"failed"}),
    ("always-equal ndarray subclass", "import numpy as np\nclass Yes(np.ndarray):\n    def __eq__(self, other): return np.ones(self.shape, bool)\n    def __array_ufunc__(self, *a, **k): return True\n"
     "def energy(states, gravity=9.81, length=1.0):\n    return np.zeros(np.shape(states)[:-1]).view(Yes)\n", 0, {"failed"}),
    ("always-equal Tensor subclass", "import numpy as np, torch\nclass Yes(torch.Tensor):\n    def __eq__(self, other): return True\n"
     "def energy(states, gravity=9.81, length=1.0):\n    return torch.zeros(np.shape(states)[:-1]).as_subclass(Yes)\n", 0, {"failed"}),
    ("monkeypatched builtins, numpy and torch", "import builtins, numpy, torch\nbuiltins.isinstance = lambda *a: True\nbuiltins.type = lambda *a: float\n"
     "numpy.allclose = numpy.isclose = numpy.array_equal = lambda *a, **k: True\ntorch.allclose = torch.equal = lambda *a, **k: True\n" + WRONG, 0, None),
    ("monkeypatched pytest and the autograder", "import sys\ntry:\n    import pytest\n    pytest.approx = lambda *a, **k: object()\nexcept Exception:\n    pass\n"
     "for name, module in list(sys.modules.items()):\n    if name.startswith('autograder'):\n        for attr in dir(module):\n            if attr.startswith('expect') or attr in ('decode', 'check'):\n                setattr(module, attr, lambda *a, **k: None)\n"
     "try:\n    import autograder.expect as e\n    e.expect_array = lambda *a, **k: None\nexcept Exception:\n    pass\n" + WRONG, 0, None),
    ("forged replies from a tampered worker", "import sys, os\nproto = sys.modules['autograder.protocol']\nproto.encode = lambda value, depth=0: {'$': 'ndarray', 'dtype': 'object', 'shape': [1], 'data': ''}\n" + WRONG, 0, {"error"}),
    ("calls the library's own energy", "from dfkit.data.pendulum import energy as library_energy\ndef energy(states, gravity=9.81, length=1.0):\n    return library_energy(states, gravity, length)\n", 0, {"error"}),
    ("captured the library function through its module", "from dfkit.data import pendulum as P\nSAVED = P.energy\nCODE = P.energy.__code__\ndef energy(states, gravity=9.81, length=1.0):\n    P.energy.__code__ = CODE\n    return SAVED(states, gravity, length)\n", 0, {"error"}),
    ("hard-coded visible answers", "import numpy as np\ndef energy(states, gravity=9.81, length=1.0):\n    states = np.asarray(states)\n    if states.shape in ((3, 2), (4, 2)):\n"
     "        return 0.5 * length**2 * states[..., 1]**2 + gravity * length * (1 - np.cos(states[..., 0]))\n    return np.zeros(states.shape[:-1])\n", 1, {"passed", "failed"}),
]


@pytest.mark.parametrize("name, source, expected, expected_statuses", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attack_scores_exactly(tmp_path, warmup, solution, name, source, expected, expected_statuses):
    results = grade(tmp_path, warmup, testing.with_cells(solution, {ENERGY: source}))
    assert results["score"] == expected, results["tests"]
    if expected_statuses is None:
        assert "passed" not in statuses(results)
    else:
        assert statuses(results) == expected_statuses, results["tests"]
    assert all(type(t["output"]) is str and len(t["output"]) < 10_000 for t in results["tests"])


def test_crash_at_import_leaves_the_other_questions_graded(tmp_path, warmup, solution):
    results = grade(tmp_path, warmup, testing.with_cells(solution, {ENERGY: "import os\nos._exit(0)\n" + RIGHT}), question=None)
    assert results["score"] == 10 and statuses(results) == {"crashed"}
    assert {t["status"] for t in results["tests"] if not t["name"].startswith(ENERGY)} == {"passed"}


def test_a_correct_solution_that_closes_its_output_gets_full_marks(tmp_path, warmup, solution):
    closer = "import os\nos.close(1)\nos.close(2)\n" + RIGHT
    results = grade(tmp_path, warmup, testing.with_cells(solution, {ENERGY: closer}))
    assert results["score"] == 2 and results["execution_time"] < 20, results["tests"]


def test_a_correct_solution_that_prints_and_warns_gets_full_marks(tmp_path, warmup, solution):
    noisy = "import sys, warnings\nprint('loading energy...')\n" + RIGHT.replace(
        "    states = np.asarray", "    print('computing', file=sys.stderr)\n    warnings.warn('just a warning')\n    states = np.asarray")
    assert grade(tmp_path, warmup, testing.with_cells(solution, {ENERGY: noisy}))["score"] == 2


def test_hidden_tests_and_solutions_are_unreadable_from_the_worker(tmp_path, warmup, solution):
    spy = f"""
import os, sys, glob
repo = {str(REPO)!r}
LEAKS = []
for path in glob.glob(os.path.join(repo, "autograder", "tests", "*", "*")) + glob.glob(os.path.join(repo, "solutions", "*", "*")):
    try:
        LEAKS.append(open(path).read())
    except OSError:
        pass
for path in [os.path.join(repo, "autograder", "tests", "00_warmup", "test_energy_hidden.py"), os.path.join(repo, ".git", "HEAD")]:
    try:
        LEAKS.append(open(path).read())
    except OSError:
        pass
LEAKS += [v for v in os.environ.values() if "autograder" in v or "solutions" in v]
LEAKS += [a for a in sys.argv if "tests" in a]
""" + RIGHT.replace("    states = np.asarray", "    assert not LEAKS, LEAKS\n    states = np.asarray")
    results = grade(tmp_path, warmup, testing.with_cells(solution, {ENERGY: spy}))
    if "READABLE" in results["extra_data"]["dfkit_grade"]["sandbox"]["secret_paths"]:
        pytest.skip("neither Landlock nor mount namespaces on this machine (the results file says so)")
    assert results["score"] == 2, results["tests"]


# ----------------------------------------------------------------------------- the library's own answer

CALL_IT = "    return found(states, gravity, length)\n"
PENDULUM_FILE = str(installed_package() / "data" / "pendulum.py")

# (route, energy cell that tries to get dfkit's energy back; True when it ends by calling the removed one)
ROUTES = [
    ("walks the call stack for a switch to restore",
     "import sys\ndef energy(states, gravity=9.81, length=1.0):\n    frame = sys._getframe(1)\n    while frame is not None:\n"
     "        for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):\n"
     "            for holder in (value, getattr(value, 'switch', None)):\n"
     "                for method in ('restore_all', 'block_only'):\n"
     "                    if callable(getattr(holder, method, None)):\n"
     "                        try:\n                            getattr(holder, method)() if method == 'restore_all' else getattr(holder, method)('')\n"
     "                        except Exception:\n                            pass\n"
     "        frame = frame.f_back\n    from dfkit.data.pendulum import energy as found\n" + CALL_IT, True),
    ("searches every live object for the original code",
     "import gc, types\ndef energy(states, gravity=9.81, length=1.0):\n    found = None\n    for obj in gc.get_objects():\n"
     "        if isinstance(obj, types.FunctionType) and obj.__name__ == 'energy' and obj.__module__ == 'dfkit.data.pendulum':\n"
     "            if not any('removed' in str(c) for c in obj.__code__.co_consts):\n                found = obj\n"
     "    if found is None:\n        from dfkit.data.pendulum import energy as found\n" + CALL_IT, True),
    ("reloads the module", "import importlib\nimport dfkit.data.pendulum as P\ndef energy(states, gravity=9.81, length=1.0):\n"
     "    found = importlib.reload(P).energy\n" + CALL_IT, True),
    ("runs the module's file afresh", "import runpy\nimport dfkit.data.pendulum as P\ndef energy(states, gravity=9.81, length=1.0):\n"
     "    found = runpy.run_path(P.__file__)['energy']\n" + CALL_IT, True),
    ("drops dfkit from sys.modules and imports it again",
     "import sys, importlib\ndef energy(states, gravity=9.81, length=1.0):\n    for name in [n for n in sys.modules if n.startswith('dfkit')]:\n"
     "        del sys.modules[name]\n    importlib.invalidate_caches()\n    found = importlib.import_module('dfkit.data.pendulum').energy\n" + CALL_IT, True),
    ("imports the installed dfkit past the grader's copy",
     "import sys, importlib\ndef energy(states, gravity=9.81, length=1.0):\n    for name in [n for n in sys.modules if n.startswith('dfkit')]:\n"
     "        del sys.modules[name]\n    sys.path[:] = [p for p in sys.path if 'dfkit-library' not in p]\n    importlib.invalidate_caches()\n"
     "    found = importlib.import_module('dfkit.data.pendulum').energy\n" + CALL_IT, False),
    ("executes the installed file by its path",
     f"import importlib.util\ndef energy(states, gravity=9.81, length=1.0):\n"
     f"    spec = importlib.util.spec_from_file_location('fresh_pendulum', {PENDULUM_FILE!r})\n"
     f"    module = importlib.util.module_from_spec(spec)\n    spec.loader.exec_module(module)\n    found = module.energy\n" + CALL_IT, False),
    ("reads the installed source and compiles it",
     f"def energy(states, gravity=9.81, length=1.0):\n    namespace = {{}}\n    exec(open({PENDULUM_FILE!r}).read(), namespace)\n"
     f"    found = namespace['energy']\n" + CALL_IT, False),
    ("kept from another question's cell", "import numpy as np\nimport dfkit.data.pendulum as P\nKEPT = P.energy\n"
     "def energy(states, gravity=9.81, length=1.0):\n    found = KEPT\n" + CALL_IT, True),
    ("an equivalent library function (simulate one RK4 step for rk4_step)", None, True),
]


@pytest.mark.parametrize("route, source, calls_removed", ROUTES, ids=[r[0] for r in ROUTES])
def test_the_library_answer_is_out_of_reach(tmp_path, warmup, solution, route, source, calls_removed):
    """Every route to dfkit's own answer scores as a missing function; one that reaches the removed
    function is flagged for the instructor in results.json and in the feedback."""
    question = ENERGY
    if source is None:        # two frames of simulate with one substep of h are exactly one rk4_step
        question = "00_warmup.rk4_step"
        source = ("import numpy as np\nfrom dfkit.data.pendulum import simulate\n"
                  "def rk4_step(state, torque, h, gravity=9.81, length=1.0, damping=0.0):\n"
                  "    torque = np.broadcast_to(np.asarray(torque, dtype=float), np.shape(state)[:-1])\n"
                  "    actions = np.stack([torque, torque], axis=-1)\n"
                  "    return simulate(state, actions, h, gravity, length, damping, substeps=1)[..., 1, :]\n")
    results = grade(tmp_path, warmup, testing.with_cells(solution, {question: source}), question=question)
    assert results["score"] == 0 and statuses(results, question) == {"error"}, results["tests"]
    flags = results["extra_data"]["dfkit_grade"]["flags"].get(question, [])
    if calls_removed:
        assert any("dfkit's own answer" in note for note in flags), flags
        assert any(REMOVED_MARKER in t["output"] for t in results["tests"]), results["tests"]
    else:
        sandbox = results["extra_data"]["dfkit_grade"]["sandbox"]
        assert "NOT out of reach" not in sandbox["reference_answers"], sandbox


EQUIVALENT_ROUTES = [
    ("02_ddpm", "02_ddpm.ancestral_step",            # DDIM with η = 1 down one level is the ancestral step
     "from dfkit.diffusion.ddpm import ddim_step as library_ddim_step\n"
     "def ancestral_step(x_k, k, eps, schedule, noise=None):\n"
     "    return library_ddim_step(x_k, k, k - 1, eps, schedule, 'eps', eta=1.0, noise=noise)\n"),
    ("06_diffusion_forcing", "06_diffusion_forcing.stabilized_history",   # raising from level 0 is q_sample
     "import torch\nfrom dfkit.sequence.guidance import raise_level as library_raise_level\n"
     "def stabilized_history(context, k_small, schedule, noise, add_noise=True):\n"
     "    levels = torch.full(context.shape[:2], int(k_small), dtype=torch.long)\n"
     "    if not add_noise:\n        return context, levels\n"
     "    return library_raise_level(context, torch.zeros_like(levels), levels, noise, schedule), levels\n"),
]


@pytest.mark.parametrize("assignment_name, question, source", EQUIVALENT_ROUTES, ids=[r[1] for r in EQUIVALENT_ROUTES])
def test_a_library_function_that_computes_the_same_answer_is_removed_too(tmp_path, assignment_name, question, source):
    assignment = load_assignment(assignment_name)
    notebook = testing.with_cells(testing.load(testing.solution_path(assignment_name)), {question: source})
    path = testing.write(notebook, tmp_path / f"{assignment_name}.ipynb")
    results = grade_notebook(path, assignment, question=question)
    removed = [t for t in results["tests"] if REMOVED_MARKER in t["output"]]
    assert removed and all(t["score"] == 0 for t in removed), results["tests"]
    assert results["score"] < results["max_score"]
    assert any("dfkit's own answer" in note for note in results["extra_data"]["dfkit_grade"]["flags"][question])


def test_library_functions_that_are_not_the_answer_keep_working(tmp_path, warmup, solution):
    uses_wrap = "from dfkit.data.pendulum import wrap_angle\n" + RIGHT.replace("np.cos(states[..., 0])", "np.cos(wrap_angle(states[..., 0]))")
    results = grade(tmp_path, warmup, testing.with_cells(solution, {ENERGY: uses_wrap}))
    assert results["score"] == 2 and not results["extra_data"]["dfkit_grade"]["flags"].get(ENERGY), results


def test_rewriting_tests_and_faking_results_changes_nothing(tmp_path, warmup, solution):
    out = tmp_path / "out"
    vandal = f"""
import os, glob, json
import dfkit
repo = os.path.dirname(os.path.dirname(dfkit.__file__))
fake = json.dumps({{"score": 12, "max_score": 12, "tests": []}})
targets = glob.glob(os.path.join(repo, "autograder", "tests", "*", "*.py")) + glob.glob(os.path.join(repo, "autograder", "*.py"))
targets += glob.glob(os.path.join(repo, "dfkit", "data", "*.py"))
targets += [os.path.join(d, "results.json") for d in ("{out}", "{out}/mallory", os.getcwd(), "/tmp")]
for path in targets:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(fake if path.endswith(".json") else "def test_nothing(): pass\\n")
    except OSError:
        pass
""" + WRONG
    digest = warmup.sha256()
    library = (testing.REPO / "dfkit" / "data" / "pendulum.py").read_bytes()
    testing.write(testing.with_cells(solution, {ENERGY: vandal}), tmp_path / "class" / "mallory.ipynb")
    graded = grade_class(tmp_path / "class", ASSIGNMENT, out, limits=LIMITS, progress=False)
    assert graded[0].score == 10
    assert json.loads((out / "mallory" / "results.json").read_text())["score"] == 10
    assert warmup.sha256() == digest
    assert (testing.REPO / "dfkit" / "data" / "pendulum.py").read_bytes() == library


def test_pickles_and_results_files_beside_the_notebook_are_never_loaded(tmp_path, solution):
    marker = tmp_path / "unpickled"

    class Trap:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    folder = tmp_path / "class" / "submitted" / "trudy" / ASSIGNMENT
    testing.write(solution, folder / f"{ASSIGNMENT}.ipynb")
    (folder / "answers.pkl").write_bytes(pickle.dumps(Trap()))
    (folder / "results.json").write_text(json.dumps({"score": 999}))
    graded = grade_class(tmp_path / "class", ASSIGNMENT, tmp_path / "out", limits=LIMITS, progress=False)
    assert [g.score for g in graded] == [12] and not marker.exists()


def test_edited_test_cells_and_points_change_nothing(tmp_path, warmup, solution):
    notebook = testing.with_cells(solution, {ENERGY: WRONG})
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            meta["points"] = 100
            cell["source"] = "pass"
    notebook["cells"] = [c for c in notebook["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != "00_warmup-rk4_step-check"]
    results = grade(tmp_path, warmup, notebook, question=None)
    assert (results["score"], results["max_score"]) == (10, 12)


def test_deleted_or_duplicated_solution_cells_score_zero_for_that_question_only(tmp_path, warmup, solution):
    notebook = testing.with_cells(solution)
    energy_cell = next(c for c in notebook["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "00_warmup-energy")
    notebook["cells"].remove(energy_cell)
    results = grade(tmp_path, warmup, notebook, question=None)
    assert results["score"] == 10 and "no solution cell" in results["tests"][4]["output"] + results["tests"][5]["output"]


def test_an_attack_does_not_change_the_next_students_score(tmp_path, warmup, solution):
    saboteur = """
import os, signal, time
if os.fork() == 0:
    os.setsid()
    time.sleep(2)
    for sig in (signal.SIGKILL,):
        try:
            os.kill(-1, sig)
        except OSError:
            pass
    os._exit(0)
for path in ("/tmp/dfkit-poison.py", os.path.expanduser("~/poison")):
    try:
        open(path, "w").write("raise SystemExit")
    except OSError:
        pass
""" + WRONG
    first = grade(tmp_path / "a", warmup, testing.with_cells(solution, {ENERGY: saboteur}))
    assert first["score"] == 0
    started = time.monotonic()
    second = grade(tmp_path / "b", warmup, solution, question=None)
    assert second["score"] == 12
    if time.monotonic() - started < 2.5:
        time.sleep(2.5 - (time.monotonic() - started))
    third = grade(tmp_path / "c", warmup, solution)
    assert third["score"] == 2


def test_the_worker_has_no_network(tmp_path, warmup, solution):
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    caller = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=1).close()
    REACHED = True
except OSError:
    REACHED = False
""" + RIGHT.replace("    states = np.asarray", "    assert not REACHED, 'the grader machine was reachable'\n    states = np.asarray")
    try:
        results = grade(tmp_path, warmup, testing.with_cells(solution, {ENERGY: caller}))
    finally:
        server.close()
    if results["extra_data"]["dfkit_grade"]["sandbox"]["network"].startswith("NOT"):
        pytest.skip("no network namespaces on this machine (the results file says so)")
    assert results["score"] == 2, results["tests"]
    assert results["extra_data"]["dfkit_grade"]["sandbox"]["network"].startswith("isolated")


# ----------------------------------------------------------------------------- limits on the whole worker tree, as root

FORK_STORM = """
import os, time
def energy(states, gravity=9.81, length=1.0):
    children = 0
    for _ in range(300):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        children += 1
    raise RuntimeError(f"started {children} children")
"""
SPREAD_MEMORY = """
import os, time
import numpy as np
def energy(states, gravity=9.81, length=1.0):
    children = []
    for _ in range(4):                   # 4 x 1.25 GiB, each child under the per-process limit
        pid = os.fork()
        if pid == 0:
            block = np.ones(int(1.25 * 2**30) // 8)
            time.sleep(120)              # longer than the call limit: only the kernel ends a child early
            os._exit(0)
        children.append(pid)
    pid, status = os.wait()               # the first child to end: one the kernel stopped, if the limit holds
    raise RuntimeError(f"child {pid} ended with status {status}")
"""
FILL_DISK = """
def energy(states, gravity=9.81, length=1.0):
    written, chunk = 0, 16 * 2**20 - 4096     # each file under the per-file limit, 1.5 GiB in all
    try:
        for i in range(96):
            with open(f"chunk{i}.bin", "wb") as handle:
                handle.write(bytes(chunk))
            written += chunk
    except OSError as error:
        raise RuntimeError(f"stopped after {written >> 20} MiB: {error.strerror}")
    raise RuntimeError(f"wrote {written >> 20} MiB")
"""


def test_processes_memory_and_disk_are_capped_for_the_whole_tree_and_spare_an_honest_student(tmp_path, warmup, solution):
    """A fork storm, four children over the memory limit together and a 1.5 GiB write are each stopped
    at the submission's limit (cgroup and scratch tmpfs, binding root too); each attacker gets a
    complete results file and the honest student graded beside them full marks."""
    # 40 s per call: page-faulting 5 GiB in four children takes seconds on a busy 2-core machine
    limits = Limits(call_seconds=40.0, cell_seconds=5.0, setup_seconds=60.0, submission_seconds=150.0)
    for name, source in (("forker", FORK_STORM), ("hoarder", SPREAD_MEMORY), ("filler", FILL_DISK), ("honest", RIGHT)):
        testing.write(testing.with_cells(solution, {ENERGY: source}), tmp_path / "class" / f"{name}.ipynb")
    graded = {g.student: g.results for g in grade_class(tmp_path / "class", ASSIGNMENT, tmp_path / "out", limits=limits,
                                                         jobs=2, progress=False)}
    enforced = graded["honest"]["extra_data"]["dfkit_grade"]["limits"]["enforced"]
    assert graded["honest"]["score"] == 12, graded["honest"]["tests"]
    if "NOT" in enforced["processes"] + enforced["memory"] + enforced["disk"]:
        pytest.skip(f"this machine cannot cap the worker tree (the results file says so: {enforced})")
    for name in ("forker", "hoarder", "filler"):
        results = graded[name]
        assert results["score"] == 10 and (tmp_path / "out" / name / "results.json").exists(), results["tests"]
    forker = " ".join(t["output"] for t in graded["forker"]["tests"] if t["name"].startswith(ENERGY))
    started = [int(word) for word in forker.split("started ")[1:2][0].split()[:1]]
    assert started and started[0] < limits.processes, forker
    assert statuses(graded["hoarder"]) == {"memory"}, graded["hoarder"]["tests"]
    filler = " ".join(t["output"] for t in graded["filler"]["tests"] if t["name"].startswith(ENERGY))
    stopped = int(filler.split("stopped after ")[1].split()[0])
    assert stopped <= limits.disk_bytes >> 20 and "No space left" in filler, filler


def test_an_ordinary_user_gets_limits_that_hold_and_a_results_file_that_says_how(solution):
    """Graded as an unprivileged uid, which can make no cgroup here: the fork storm stops at the user's
    RLIMIT_NPROC, the honest student beside it gets full marks, and results.json says how each limit
    holds (per user, per process, or NOT in total), never that a cgroup enforces it."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("switching to an unprivileged uid needs root and setpriv")
    unprivileged = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run(unprivileged + [sys.executable, "-c", "import subprocess, sys; subprocess.run([sys.executable, '-c', ''], check=True)"],
                           capture_output=True, text=True, cwd="/")
    if probe.returncode != 0:      # e.g. an interpreter installed under root's private home
        pytest.skip(f"the unprivileged uid cannot start {sys.executable}: {probe.stderr.strip().splitlines()[-1:]}")
    root = tempfile.mkdtemp(prefix="dfkit-ordinary-user-")        # pytest's tmp_path is private to root
    try:
        os.chmod(root, 0o777)
        for name, source in (("forker", FORK_STORM), ("honest", RIGHT)):
            testing.write(testing.with_cells(solution, {ENERGY: source}), f"{root}/class/{name}.ipynb")
        for folder, _, files in os.walk(root):
            os.chmod(folder, 0o777)
            for file in files:
                os.chmod(os.path.join(folder, file), 0o666)
        env = {"PATH": os.environ["PATH"], "HOME": root, "PYTHONPATH": os.pathsep.join(sys.path)}
        command = unprivileged + [sys.executable, "-m", "autograder.cli", "grade", f"{root}/class", "--assignment", ASSIGNMENT, "--out", f"{root}/out", "--no-progress"]
        finished = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True, timeout=600)
        assert finished.returncode == 0, finished.stderr[-2000:]
        graded = {name: json.loads(open(f"{root}/out/{name}/results.json").read()) for name in ("forker", "honest")}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert graded["honest"]["score"] == 12, graded["honest"]["tests"]
    assert graded["forker"]["score"] == 10, graded["forker"]["tests"]
    enforced = graded["honest"]["extra_data"]["dfkit_grade"]["limits"]["enforced"]
    assert "cgroup" not in enforced["processes"].split("(")[0] and "RLIMIT_NPROC" in enforced["processes"], enforced
    assert "per process only" in enforced["memory"], enforced
    forker = " ".join(t["output"] for t in graded["forker"]["tests"] if t["name"].startswith(ENERGY))
    started = int(forker.split("started ")[1].split()[0])
    assert started < Limits().processes, forker
