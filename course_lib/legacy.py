"""The source articles' code that no longer runs: executed as written, its real error shown.

Introduced in notebook 02 (a loss tensor called as a function); used wherever the course shows
an API the articles relied on next to its replacement (04, 08, 09, 11, 12).

The course grew from articles written for TensorFlow 1.x/2.x and Keras 2. Rather than only
saying "this is gone", a notebook runs the old call and prints the error today's stack raises,
then runs the current way beside it. Both helpers *fail* when the old code unexpectedly works,
so a notebook cannot go on claiming an API is broken after an upgrade fixed it:

- :func:`expect_failure`, a context manager for code run in the notebook's own kernel;
- :func:`fails_in_fresh_python`, for code that must not touch the kernel's state (importing
  ``tensorflow_model_optimization`` switches ``tf.keras`` to Keras 2 for the whole process).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
# Install locations differ between machines: '.../site-packages/keras/x.py' -> 'keras/x.py'.
_INSTALL_PATH = re.compile(r"[^\s('\"]*/(?:site|dist)-packages/")
_ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit)): ?(.*)$")


def _tidy(message: str, max_lines: int) -> str:
    """The first ``max_lines`` non-empty lines of ``message``; addresses, install paths cut."""
    lines = [line.rstrip() for line in message.strip().splitlines() if line.strip()]
    text = "\n".join(lines[:max_lines]) + ("\n..." if len(lines) > max_lines else "")
    return _INSTALL_PATH.sub("", _ADDRESS.sub("0x...", text))


@contextmanager
def expect_failure(*expected: type[BaseException], max_lines: int = 4) -> Iterator[None]:
    """Run the body (old code, as written) and print the error it raises.

    Fails with AssertionError if the body raises none, and lets an error of another type than
    ``expected`` propagate (the old code broke in a way the notebook does not describe).
    """
    if not expected:
        raise TypeError("expect_failure needs the exception type(s) the old code raises")
    try:
        yield
    except expected as error:
        print(f"{type(error).__name__}: {_tidy(str(error), max_lines)}")
    else:
        raise AssertionError("the old code ran without error: the claim that it is broken on "
                             "this stack no longer holds; update the notebook")


def fails_in_fresh_python(code: str, expected: str, *, timeout: float = 300,
                          max_lines: int = 4) -> str:
    """Run ``code`` in a new Python process; print and return the error it ends with.

    ``expected`` is the exception's class name (e.g. ``"ValueError"``). Fails with
    AssertionError if the code exits cleanly or ends with another error.
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=timeout, env=env, check=False)
    if run.returncode == 0:
        raise AssertionError("the old code ran without error in a fresh process: the claim "
                             "that it is broken on this stack no longer holds")
    lines = run.stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if _ERROR_LINE.match(line)]
    if not starts:
        raise AssertionError(f"the old code failed without a Python error:\n{run.stderr[-2000:]}")
    name, first = _ERROR_LINE.match(lines[starts[-1]]).groups()
    if name.rsplit(".", 1)[-1] != expected:
        raise AssertionError(f"expected {expected}, the old code ended with {name}: {first}")
    message = _tidy("\n".join([first, *lines[starts[-1] + 1:]]), max_lines)
    error = f"{name.rsplit('.', 1)[-1]}: {message}"
    print(error)
    return error
