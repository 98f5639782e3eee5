"""CIM models: cimbus's XSD profiles, the classes generated from them, and the codec.

* ``schemas/``    the project's XSD profiles (IEC 61968-100 envelope, IEC 61968-9 payloads,
                  typed wrappers; OutageRecords is cimbus's own profile)
* ``generated/``  xsdata output, one module per namespace (build output: ``make models``)
* ``codec``       strict, safe parse -> validate -> bind -> serialise (BUS-1, BUS-3, SEC-3)
* ``fastpath``    MeterReadings interval data straight from lxml into compact records
* ``codes``       code lists as data: ReadingType, EndDevice event/control types, qualities

This is the lowest layer: it imports nothing from routing, endpoints, simulators or conformance.
"""
