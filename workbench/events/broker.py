"""What the relay and the consumers need from a broker, and nothing more.

The relay publishes a batch of messages, each with a message id the broker deduplicates on, and
learns for each whether the broker stored it; a consumer pulls batches from a durable subscription
and acknowledges each message after its local transaction committed. Every method is asynchronous
(one event loop drives the broker's connection while the database work runs in threads).
:mod:`workbench.events.jetstream` implements it for NATS JetStream; another broker (Kafka with
idempotent producers and consumer groups, RabbitMQ streams) is one more module implementing
:class:`Broker`, chosen by :func:`connect`'s URL scheme.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

MSG_ID = "Nats-Msg-Id"
"""The header carrying the message id (the outbox ``id``) that the broker deduplicates on."""


@dataclass
class Message:
    """One message to publish."""

    subject: str
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def msg_id(self) -> str:
        return self.headers.get(MSG_ID, "")


@dataclass
class PublishResult:
    """What the broker said about one published message: stored (``duplicate`` when it had it
    already, within its deduplication window) or not (``error`` says why)."""

    ok: bool
    duplicate: bool = False
    sequence: int | None = None
    error: str = ""


@dataclass
class StreamStats:
    """A stream's size, and how many messages it holds per subject asked for."""

    messages: int = 0
    bytes: int = 0
    first_sequence: int = 0
    last_sequence: int = 0
    subjects: dict[str, int] = field(default_factory=dict)


@dataclass
class ConsumerStats:
    """A durable consumer's position: ``pending`` not delivered yet, ``ack_pending`` delivered and not
    acknowledged, ``redelivered`` delivered more than once and not acknowledged yet."""

    pending: int = 0
    ack_pending: int = 0
    redelivered: int = 0
    delivered_sequence: int = 0
    acked_sequence: int = 0

    @property
    def lag(self) -> int:
        return self.pending + self.ack_pending


class Delivery(Protocol):
    """One message as a consumer receives it."""

    @property
    def subject(self) -> str: ...

    @property
    def data(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def delivered(self) -> int:
        """How many times it was delivered (1 the first time)."""
        ...

    @property
    def stream_sequence(self) -> int: ...

    async def ack(self) -> None: ...

    async def nak(self, delay: float | None = None) -> None: ...

    async def term(self) -> None:
        """Never deliver it again (it went to the dead letters)."""
        ...


class Subscription(Protocol):
    async def fetch(self, batch: int, timeout: float) -> Sequence[Delivery]:
        """Up to ``batch`` messages, waiting at most ``timeout`` seconds for the first (empty: none came)."""
        ...


class Broker(Protocol):
    """A broker with persistent streams, deduplicating publishes and durable pull consumers."""

    url: str

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def ensure_stream(self, name: str, subjects: Sequence[str], duplicate_window: float) -> None:
        """Create the stream, or keep it as it is when it exists."""
        ...

    async def delete_stream(self, name: str) -> bool: ...

    async def publish(self, messages: Sequence[Message], timeout: float) -> list[PublishResult]:
        """Publish in order (pipelined) and wait for every acknowledgement, at most ``timeout`` seconds."""
        ...

    async def subscribe(self, stream: str, durable: str, subjects: Sequence[str], ack_wait: float,
                        max_ack_pending: int) -> Subscription:
        """Bind to the durable consumer (created when missing) receiving ``subjects`` of ``stream``."""
        ...

    async def stream_stats(self, name: str, subjects: str | None = None) -> StreamStats | None:
        """The stream's figures (None when it does not exist); ``subjects`` counts messages per matching subject."""
        ...

    async def consumer_stats(self, stream: str, durable: str) -> ConsumerStats | None: ...


DEFAULT_URL = "nats://127.0.0.1:4222"


def connect(url: str = DEFAULT_URL) -> Broker:
    """The broker for ``url`` (not connected yet): ``nats://`` (or ``tls://``) is NATS JetStream."""
    from workbench.errors import BrokerError

    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("nats", "tls"):
        from workbench.events.jetstream import JetStreamBroker

        return JetStreamBroker(url)
    raise BrokerError(f"unsupported broker URL {url!r}: give nats://host:port (NATS with JetStream)")
