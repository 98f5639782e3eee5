"""The head-end simulator (``simulators.headend:HeadEnd``, bus system HES): the TDSP's AMI
head-end and its AMS meters. See :mod:`simulators.headend.headend` and
docs/simulators/headend.md."""

from .headend import HeadEnd

__all__ = ["HeadEnd"]
