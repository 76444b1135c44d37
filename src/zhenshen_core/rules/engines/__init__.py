"""Engines: what turns a resolved pack and a case into a ``Decision``.

The shared parts (the fact field spec, the ``then:`` output registry, the combiner, the one engine
class over a matcher) and the matchers (``compiled``, ``durable``), chosen by name through
``registry.make_engine``. Import the modules themselves (this package re-exports nothing, so the
durable_rules extension loads only when the durable engine is asked for).
"""
