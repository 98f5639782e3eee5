"""The MQTT endpoint (BUS-6, BUS-7; REL-1, REL-3): head-end and device-side traffic such as
last-gasp and switch events, bridged into the same router as every other transport.

MQTT 5 (paho-mqtt 2.x, ``CallbackAPIVersion.VERSION2``), QoS 1, persistent sessions, manual
acks after processing, flow control both ways. The surface mirrors ``endpoints.embedded``:

* :class:`MqttTransport` ``(bus, config)``: cimbus's side (inbound ``<prefix>/in/#`` into
  ``Bus.handle``; outbound ``deliver`` to ``<prefix>/system/<name>/<noun>[/<device>]``).
* :class:`MqttClient` ``(url, system)``: a system's side (``request`` / ``send`` / ``serve`` /
  ``close``, :class:`endpoints.client.BusClient`).
* :class:`TopicScheme`: every topic, built and parsed from one table (``topics``).
* :class:`MessageProperties`: IEC 61968-100 header <-> MQTT 5 properties (``properties``).
* :class:`MqttUnavailable`: the :class:`~routing.transport.TransportUnavailable` of a delivery
  that was not attempted because the broker is not connected (cimbus keeps reconnecting).

Why MQTT 5 only: Response Topic + Correlation Data give request/reply without a topic
convention, user properties carry the header fields, Session Expiry makes persistent sessions
explicit, and Receive Maximum is the broker-side flow control that keeps cimbus's inbox
bounded. Mosquitto 2 speaks it. docs/mqtt.md has the whole picture, including the Mosquitto
settings cimbus needs (deploy/mosquitto/cimbus.conf).
"""

from __future__ import annotations

from ._connection import MqttUnavailable
from .client import MqttClient
from .properties import MessageProperties
from .topics import TOPICS, TopicInfo, TopicScheme
from .transport import MqttTransport

__all__ = [
    "TOPICS",
    "MessageProperties",
    "MqttClient",
    "MqttTransport",
    "MqttUnavailable",
    "TopicInfo",
    "TopicScheme",
]
