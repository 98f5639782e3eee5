"""The one exception of :mod:`cim_models.codes`."""

from __future__ import annotations

__all__ = ["CodeError"]


class CodeError(ValueError):
    """A code, a code part or a code table is malformed or unknown.

    Raised for a ReadingType, EndDeviceEventType / EndDeviceControlType or ReadingQualityType code
    that does not parse, for a name that is not in a table, and for a user-supplied table (the
    outage aliases) that does not validate. The message names the field, the value and the whole
    code, e.g. ``ReadingType field 3 (measuringPeriod) has unknown value 99 in '0.0.99.4...'``;
    the same facts are kept as attributes so that callers (e.g. a reply builder turning a bad code
    into an IEC 61968-100 Reply.Error) need not parse the message.

    It is a :class:`ValueError`, so code that already guards ``int()`` conversions catches it.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        value: object = None,
    ) -> None:
        super().__init__(message)
        #: the whole code being parsed or built (None when not applicable)
        self.code = code
        #: the IEC name of the offending field or part, e.g. "measuringPeriod", "EndDeviceDomain"
        self.field = field
        #: the offending value as given
        self.value = value
