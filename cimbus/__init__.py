"""cimbus: an IEC 61968-100 / IEC 61968-9 (CIM) message bus for electric utilities.

The ``cimbus`` package is the composition root: the command line (``cimbus.cli``) wires the
layers together. The layers themselves are ``cim_models`` (profiles, generated classes, codec)
<- ``routing`` (transport-neutral core) <- ``endpoints`` (SOAP, AMQP, MQTT, embedded);
``simulators`` and ``conformance`` reach the adapter only over the wire.
"""

__version__ = "0.1.0"
