"""The broker on NATS JetStream, through the maintained client (nats-py).

- Streams keep their messages on disk (file storage) and deduplicate on ``Nats-Msg-Id`` within
  their duplicate window: a relay that republishes after a crash stores nothing twice as long as it
  comes back within the window (the consumers' inbox covers the rest).
- Publishing pipelines the batch (``publish_async``) and then waits for every acknowledgement.
- Consumers are durable pull consumers with explicit acknowledgement; the server redelivers what
  was not acknowledged within ``ack_wait``. Redelivery is unlimited here: the consumer itself sends a
  message it cannot apply to the dead letters (see :mod:`workbench.events.consume`).
- The client reconnects by itself for as long as it takes (a broker restart); requests made while
  it is away fail, and the relay and the consumers retry them.

NATS servers before 2.10 take one filter subject per consumer: a consumer that needs several
subjects then filters on ``<namespace>.*.*`` and ignores the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js import api

from workbench.errors import BrokerError
from workbench.events.broker import ConsumerStats, Message, PublishResult, StreamStats

log = logging.getLogger(__name__)

TRANSIENT = (nats.errors.Error, asyncio.TimeoutError, OSError)
"""What a request raises while the broker is away or busy: retry later."""


class _Delivery:
    __slots__ = ("_msg",)

    def __init__(self, msg: Msg) -> None:
        self._msg = msg

    @property
    def subject(self) -> str:
        return self._msg.subject

    @property
    def data(self) -> bytes:
        return self._msg.data

    @property
    def headers(self) -> Mapping[str, str]:
        return self._msg.headers or {}

    @property
    def delivered(self) -> int:
        return int(self._msg.metadata.num_delivered)

    @property
    def stream_sequence(self) -> int:
        return int(self._msg.metadata.sequence.stream)

    async def ack(self) -> None:
        await self._msg.ack()

    async def nak(self, delay: float | None = None) -> None:
        await self._msg.nak(delay=delay)

    async def term(self) -> None:
        await self._msg.term()


class _Subscription:
    def __init__(self, sub: Any) -> None:
        self._sub = sub

    async def fetch(self, batch: int, timeout: float) -> Sequence[_Delivery]:
        try:
            msgs = await self._sub.fetch(batch, timeout=timeout)
        except (TimeoutError, nats.errors.TimeoutError):
            return []
        return [_Delivery(m) for m in msgs]


def _version(text: str) -> tuple[int, ...]:
    out = []
    for part in text.split("-", 1)[0].split("."):
        out.append(int(part) if part.isdigit() else 0)
    return tuple(out)


class JetStreamBroker:
    """:class:`workbench.events.broker.Broker` on NATS JetStream."""

    def __init__(self, url: str, connect_timeout: float = 2.0) -> None:
        self.url = url
        self.connect_timeout = connect_timeout
        self._nc: Any = None
        self._js: Any = None

    # -- connection -------------------------------------------------------------------------------------
    async def connect(self) -> None:
        async def quiet(exc: Exception) -> None:
            log.debug("nats: %s", exc)

        async def noted(*_: Any) -> None:
            log.info("nats: connection state changed (%s)", self.url)

        try:
            self._nc = await nats.connect(
                self.url, connect_timeout=self.connect_timeout, allow_reconnect=True, max_reconnect_attempts=-1,
                reconnect_time_wait=0.25, error_cb=quiet, disconnected_cb=noted, reconnected_cb=noted,
                ping_interval=5, max_outstanding_pings=2)
        except (TimeoutError, nats.errors.NoServersError, OSError, nats.errors.Error) as exc:
            raise BrokerError(f"cannot reach the broker at {self.url}: {exc or type(exc).__name__}") from None
        self._js = self._nc.jetstream(timeout=5.0)

    async def close(self) -> None:
        if self._nc is not None:
            try:
                await self._nc.close()
            except TRANSIENT:
                pass
            self._nc = self._js = None

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    def _server_version(self) -> tuple[int, ...]:
        info = getattr(self._nc, "_server_info", {}) or {}
        return _version(str(info.get("version", "0")))

    # -- streams ----------------------------------------------------------------------------------------
    async def ensure_stream(self, name: str, subjects: Sequence[str], duplicate_window: float) -> None:
        try:
            await self._js.stream_info(name)
            return
        except nats.js.errors.NotFoundError:
            pass
        config = api.StreamConfig(name=name, subjects=list(subjects), storage=api.StorageType.FILE,
                                  retention=api.RetentionPolicy.LIMITS, duplicate_window=duplicate_window)
        try:
            await self._js.add_stream(config)
        except nats.js.errors.BadRequestError as exc:
            raise BrokerError(f"the broker refused stream {name} ({', '.join(subjects)}): {exc.description}") from None

    async def delete_stream(self, name: str) -> bool:
        try:
            return bool(await self._js.delete_stream(name))
        except nats.js.errors.NotFoundError:
            return False

    async def stream_stats(self, name: str, subjects: str | None = None) -> StreamStats | None:
        try:
            info = await self._js.stream_info(name, subjects_filter=subjects)
        except nats.js.errors.NotFoundError:
            return None
        s = info.state
        return StreamStats(s.messages, s.bytes, s.first_seq, s.last_seq, dict(s.subjects or {}))

    # -- publishing ---------------------------------------------------------------------------------------
    async def publish(self, messages: Sequence[Message], timeout: float) -> list[PublishResult]:
        futures: list[asyncio.Future[Any] | None] = []
        errors: list[str] = []
        for m in messages:
            try:
                # no stall timeout: with one, every publish waits on a task and goes out in a write of its own
                futures.append(await self._js.publish_async(m.subject, m.data, headers=dict(m.headers)))
                errors.append("")
            except TRANSIENT as exc:
                futures.append(None)
                errors.append(f"not sent: {exc or type(exc).__name__}")
        pending = [f for f in futures if f is not None]
        if pending:
            await asyncio.wait(pending, timeout=timeout)
        out = []
        for future, error in zip(futures, errors, strict=True):
            if future is None:
                out.append(PublishResult(False, error=error))
            elif not future.done():
                future.cancel()
                out.append(PublishResult(False, error=f"no acknowledgement within {timeout:g} s"))
            elif future.cancelled() or future.exception() is not None:
                problem = None if future.cancelled() else future.exception()
                out.append(PublishResult(False, error=str(problem or "cancelled") or type(problem).__name__))
            else:
                ack = future.result()
                out.append(PublishResult(True, duplicate=bool(ack.duplicate), sequence=ack.seq))
        return out

    # -- consuming ----------------------------------------------------------------------------------------
    async def subscribe(self, stream: str, durable: str, subjects: Sequence[str], ack_wait: float,
                        max_ack_pending: int) -> _Subscription:
        several = len(subjects) > 1
        config = api.ConsumerConfig(durable_name=durable, deliver_policy=api.DeliverPolicy.ALL,
                                    ack_policy=api.AckPolicy.EXPLICIT, ack_wait=ack_wait, max_deliver=-1,
                                    max_ack_pending=max_ack_pending)
        if several and self._server_version() >= (2, 10):
            config.filter_subjects = list(subjects)
            filter_subject = subjects[0]
        elif several:
            filter_subject = ".".join(subjects[0].split(".")[:1] + ["*", "*"])  # pre-2.10: the whole stream
        else:
            filter_subject = subjects[0]
        try:
            sub = await self._js.pull_subscribe(filter_subject, durable=durable, stream=stream, config=config)
        except nats.js.errors.NotFoundError:
            raise BrokerError(f"stream {stream} does not exist on {self.url}: start the relay first") from None
        except nats.js.errors.BadRequestError as exc:
            raise BrokerError(f"the broker refused consumer {durable} on {stream}: {exc.description}") from None
        return _Subscription(sub)

    async def consumer_stats(self, stream: str, durable: str) -> ConsumerStats | None:
        try:
            info = await self._js.consumer_info(stream, durable)
        except nats.js.errors.NotFoundError:
            return None
        return ConsumerStats(info.num_pending or 0, info.num_ack_pending or 0, info.num_redelivered or 0,
                             info.delivered.stream_seq if info.delivered else 0,
                             info.ack_floor.stream_seq if info.ack_floor else 0)
