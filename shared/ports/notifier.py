"""Notifier port: tell a tale's owner that it finished."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class Notification:
    tale_id: str
    outcome: str
    to: str
    subject: str
    text: str
    html: str
    language: str


class Notifier(ABC):
    @abstractmethod
    def send(self, notification: Notification) -> str:
        """Deliver it; return where it went (a path or a provider message id).

        Sending the same notification twice must not produce two messages for the owner
        (adapters key on tale id and outcome).
        """
