"""Names of a tale's markers (kept in the tale aggregate), built in one place.

* ``handling(key)``: claimed by the delivery that handles the event with logical ``key``; a
  duplicate publish sees another holder and drops itself, a redelivery sees itself.
* ``notified(key)``: the owner was told about the ``tale.finished`` event with ``key``.
"""

from __future__ import annotations


def handling(event_key: str) -> str:
    return f"handling:{event_key}"


def notified(finished_key: str) -> str:
    return f"notified:{finished_key}"
