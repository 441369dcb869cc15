"""The SDK for outside plugin developers (see docs/plugins.md).

- :mod:`core.sdk.conformance` — the conformance kit a channel or committee runs in its own tests;
- :mod:`core.sdk.pytest_plugin` — pytest fixtures (``fengqiao_*``), loaded through the ``pytest11``
  entry point of the ``fengqiao`` distribution.

Importing this package is cheap and has no side effects.
"""
