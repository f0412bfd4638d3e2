"""Tools for the course's authors and CI: run, check, record and render the notebooks.

Unlike course_lib, they work on the checkout itself (its notebooks/ and regression/), so
importing them without one fails at once with a message that says what to do.
"""

import sys

from course_lib.paths import CheckoutNotFoundError, require_checkout

try:
    require_checkout("notebooks/", "regression/", user="course_tools")
except CheckoutNotFoundError as error:
    # `python -m course_tools ...`: a one-line error instead of a traceback. (While -m locates
    # the module, sys.argv[0] is "-m", as the Python documentation of -m says.)
    if sys.argv[:1] == ["-m"]:
        raise SystemExit(f"error: {error}") from None
    raise
