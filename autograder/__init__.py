"""Sandboxed, pytest-based grading of dfkit course notebooks (see README.md beside this file).

Modules, in the order a submission meets them:

    cli          the ``dfkit-grade`` command (grade a class, check one notebook, list assignments)
    grade        one notebook -> results dict; a class -> results.json, feedback.md, grades.csv
    notebook     reading a submission as untrusted JSON; keeping only the graded cells
    flags        constructs in graded cells worth an instructor's look (never scored)
    assignments  an assignment = a folder of pytest files + questions.py (+ catalog.py)
    plugin       running those pytest files against one submission, with points and statuses
    expect       exact-type comparisons for the tests, with messages a student can act on
    session      the grader's side of the worker: deadlines, restarts, failure statuses
    sandbox      starting a confined worker (limits, namespaces, hidden folders, no capabilities)
    template     a confined template that imports once and forks workers (where Landlock allows)
    landlock     the Landlock system calls
    worker       the only process that runs student code
    protocol     length-prefixed JSON with numpy arrays as raw bytes; strict decoding
    standins     what tests pass to exercises (schedules, toy models): the only objects the worker rebuilds
    selfcheck    ``check()`` in a notebook (the student's kernel; visible tests)
    testing      building variants of a solution notebook for the course's own tests
"""
