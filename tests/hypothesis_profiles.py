"""Hypothesis profiles for the property tests: `ci` (the default) and `long`.

    pytest tests/renderers/video/test_frames.py tests/renderers/test_render_properties.py
    pytest --hypothesis-profile long tests/renderers/video/test_frames.py \
        tests/renderers/test_render_properties.py                      # hours, not minutes

`--hypothesis-profile` is read before test modules are imported, so tests/conftest.py loads
this module as a plugin; the test modules load `ci` when no profile was named. Each
property test is one pytest test: its timeout grows with the profile's examples. No example
database, and Hypothesis's own files go to a temporary directory: nothing is written into
the work tree; a failure prints the example and a `@reproduce_failure` blob to replay it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps caches of its own (constants it found in the code) under its home
# directory, `.hypothesis` in the working directory unless told: a temporary one instead.
set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "billreel-hypothesis"))

CI, LONG = "ci", "long"
# examples per test: (cheap tests of timestamps and segments, full renders of a bill)
EXAMPLES = {CI: (30, 10), LONG: (1000, 300)}

_COMMON = settings(
    database=None,
    deadline=None,  # an example encodes video: its time depends on the machine's load
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(CI, _COMMON, max_examples=EXAMPLES[CI][0])
settings.register_profile(LONG, _COMMON, max_examples=EXAMPLES[LONG][0])


def load_default() -> str:
    """Load `ci` unless a profile was named on the command line; the profile in force."""
    if settings.get_current_profile_name() == "default":
        settings.load_profile(CI)
    return settings.get_current_profile_name()


def examples(kind: int) -> int:
    """How many examples a test of `kind` (0: cheap, 1: a full render) runs in this profile."""
    return EXAMPLES.get(load_default(), EXAMPLES[CI])[kind]
