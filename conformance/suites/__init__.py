"""Conformance suites, one module per use case; importing registers their scenarios."""

from . import odr  # noqa: F401
