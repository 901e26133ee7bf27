"""Logging: one line per event, each tagged with the delivery it belongs to.

The job runner sets `delivery` for the duration of a job; every line logged meanwhile,
from any module, carries ``delivery=<X-GitHub-Delivery>``. Secrets never reach a log
line: settings print without them and PyGithub masks tokens.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
from typing import Iterator

delivery: contextvars.ContextVar[str] = contextvars.ContextVar("delivery", default="-")

FORMAT = "%(asctime)s %(levelname)s %(name)s delivery=%(delivery)s %(message)s"


class _DeliveryFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "delivery"):
            record.delivery = delivery.get()
        return True


@contextlib.contextmanager
def for_delivery(delivery_id: str) -> Iterator[None]:
    token = delivery.set(delivery_id)
    try:
        yield
    finally:
        delivery.reset(token)


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr in `FORMAT`, unless the host configured logging already."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.addFilter(_DeliveryFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
