"""Settings shared by every test of the repository (core and first-party plugins).

Hypothesis profiles, chosen with ``HYPOTHESIS_PROFILE`` (default ``dev``):

* ``dev`` — a quick run on a developer's machine;
* ``ci`` — what ``.ci/run`` uses: more examples, no per-example deadline (a shared CI machine is
  noisy, and a slow example is not a wrong one), and the failing example printed for a rerun;
* ``soak`` — a long hunt before a release: many more examples.

A test sets its own ``max_examples`` only where it matters (a slow property, a small space).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("soak", max_examples=2_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# One master key for personal data for the whole run (and the processes tests start): without
# it every throwaway SQLite file would generate a key file beside it and warn. The tests of that
# default remove the variable themselves (tests/privacy/test_keys.py).
os.environ.setdefault("ZHENSHEN_PII_KEY", "dGVzdCBrZXkgb25seSwgbmV2ZXIgdXNlIGluIHByb2Q=")
