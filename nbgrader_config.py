"""nbgrader configuration of the course: solutions/ is nbgrader's source, notebooks/ its release.

    nbgrader generate_assignment 00_warmup --force   # same notebooks as `dfkit course release`
    nbgrader autograde 00_warmup                       # runs the checks inside each student's kernel

nbgrader autograde executes the student's notebook and its tests in the student's own kernel, so a
submission can tamper with its own score there. It is the course-management route (collect,
release, manual grading, feedback); `dfkit-grade grade` is the trusted route for scores: it runs
only the graded cells, in a sandboxed worker, and compares plain data. For an honest submission
both give the same points.

Keep the gradebook and nbgrader's working folders (submitted/, autograded/, feedback/, gradebook.db)
out of version control.
"""

import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "dfkit"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "cache"]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ExecutePreprocessor.timeout = 600
