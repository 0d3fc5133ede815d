"""``workbench events relay | consume | status``: the command line of :mod:`workbench.events`.

``relay`` and ``consume`` run until interrupted (Ctrl-C or SIGTERM: they finish the batch in
hand, leave nothing half-done and print what they did); ``--once`` stops them when there is
nothing left (relay: every outbox published; consume: no message for ``--idle`` seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import signal
import sys
from typing import Any

from workbench.errors import WorkbenchError
from workbench.events.broker import DEFAULT_URL

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> dt.timedelta | None:
    """``7d``, ``12h``, ``30m``, ``45s`` (or plain seconds); ``never`` for none.

    >>> duration("7d"), duration("90"), duration("never")
    (datetime.timedelta(days=7), datetime.timedelta(seconds=90), None)
    """
    text = text.strip().lower()
    if text in ("never", "none", "off"):
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd]?)", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 7d, 12h, 30m, 45s, never)")
    return dt.timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2) or "s"])


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", required=True, help="the services' database: server URL or SQLite folder")
    p.add_argument("--design", required=True, help="design folder (or its design.json)")
    p.add_argument("--prefix", default="", help="the namespace prefix the migration used")
    p.add_argument("--service", action="append", help="only this service (repeatable; default: all)")
    p.add_argument("--broker", default=DEFAULT_URL, help=f"broker URL (default {DEFAULT_URL}: NATS with JetStream)")


def add_parser(sub: Any) -> None:
    """Register ``workbench events ...`` on the CLI's subparsers."""
    parser = sub.add_parser("events", help="run the design's mechanisms: outbox relay, consumers, status")
    events = parser.add_subparsers(dest="action", required=True)
    p = events.add_parser("relay", help="publish every service's outbox to its stream (at least once, in order)",
                          description="workbench events relay --target URL|FOLDER --design design/")
    _common(p)
    p.add_argument("--batch", type=int, default=1000, help="outbox rows per publish and mark")
    p.add_argument("--retention", type=duration, default=dt.timedelta(days=7),
                   help="delete rows published longer ago than this (default 7d; 'never' keeps them)")
    p.add_argument("--once", action="store_true", help="stop when every outbox is published")
    p.set_defaults(func=_cmd_relay)
    p = events.add_parser("consume", help="durable consumers keeping every replica and read model current",
                          description="workbench events consume --target URL|FOLDER --design design/")
    _common(p)
    p.add_argument("--batch", type=int, default=500, help="messages per local transaction")
    p.add_argument("--ack-wait", type=float, default=30.0, help="seconds before the broker redelivers a message")
    p.add_argument("--once", action="store_true", help="stop when no message came for --idle seconds")
    p.add_argument("--idle", type=float, default=2.0, help="with --once: seconds without messages before stopping")
    p.add_argument("--retention", type=duration, default=dt.timedelta(days=7),
                   help="delete processed_message rows older than this (default 7d; 'never' keeps them)")
    p.set_defaults(func=_cmd_consume)
    p = events.add_parser("status", help="per service: outbox backlog, consumer lag, dead letters, events/s",
                          description="workbench events status --target URL|FOLDER --design design/ [--json]")
    _common(p)
    p.add_argument("--window", type=float, default=60.0, help="seconds the events/s figures look back")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_status)


def _setup(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from workbench.design import load_design
    from workbench.migrate.target import Target, with_prefix

    design = with_prefix(load_design(args.design), args.prefix)
    for name in args.service or []:
        design.service(name)
    if getattr(args, "batch", 1) < 1:
        raise WorkbenchError(f"--batch must be positive, got {args.batch}")
    return design, Target.parse(args.target)


async def _until_signalled(work: Any, stop: asyncio.Event) -> Any:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    return await work


def _cmd_relay(args: argparse.Namespace) -> int:
    from workbench.events.broker import connect
    from workbench.events.relay import Relay, RelayOptions

    design, target = _setup(args)

    async def run() -> Any:
        broker = connect(args.broker)
        await broker.connect()
        stop = asyncio.Event()
        try:
            options = RelayOptions(batch=args.batch, retention=args.retention)
            relay = Relay(design, target, broker, args.service, options)
            return await _until_signalled(relay.run(stop, once=args.once), stop), relay.skipped
        finally:
            await broker.close()
            target.dispose()

    stats, skipped = asyncio.run(run())
    if skipped:
        print(f"skipped, not on the target yet: {', '.join(skipped)}")
    for s in stats.values():
        print(f"{s.service:<24} {s.published:>9,} published ({s.duplicates:,} already on the broker), "
              f"{s.failed:,} retried, {s.purged:,} purged" + (f"; last error: {s.errors[-1]}" if s.errors else ""))
    return 0


def _cmd_consume(args: argparse.Namespace) -> int:
    from workbench.events.broker import connect
    from workbench.events.consume import ConsumeOptions, Consumers

    design, target = _setup(args)

    async def run() -> Any:
        broker = connect(args.broker)
        await broker.connect()
        stop = asyncio.Event()
        try:
            consumers = Consumers(design, target, broker, args.service,
                                  ConsumeOptions(batch=args.batch, ack_wait=args.ack_wait, idle=args.idle,
                                                 retention=args.retention))
            return await _until_signalled(consumers.run(stop, once=args.once), stop), consumers.skipped
        finally:
            await broker.close()
            target.dispose()

    stats, skipped = asyncio.run(run())
    if skipped:
        print(f"skipped, not on the target yet: {', '.join(skipped)}")
    for s in stats.values():
        print(f"{s.service:<24} {s.applied:>9,} applied, {s.stale:,} stale, {s.duplicates:,} duplicates, "
              f"{s.ignored:,} not for it, {s.dead:,} dead letters, {s.pruned:,} old inbox rows deleted"
              + (f"; last error: {s.errors[-1]}" if s.errors else ""))
        for reason in s.dead_reasons[:3]:
            print(f"  dead letter: {reason}")
    return 1 if any(s.dead for s in stats.values()) else 0


def _cmd_status(args: argparse.Namespace) -> int:
    from workbench import serde
    from workbench.events.status import collect

    design, target = _setup(args)
    try:
        found = collect(design, target, args.broker, args.service, args.window)
    finally:
        target.dispose()
    if args.json:
        print(json.dumps(serde.to_dict(found), indent=2))
        return 0
    print(f"{'service':<20} {'waiting':>8} {'oldest s':>9} {'pub/s':>8} {'applied/s':>9} {'lag':>7} {'dead':>5}"
          "  broker")
    for s in found:
        def num(v: Any, fmt: str = ",") -> str:
            return "-" if v is None else format(v, fmt)

        print(f"{s.service:<20} {num(s.waiting):>8} {num(s.oldest_waiting_s, ',.1f'):>9} "
              f"{num(s.published_per_s, ',.1f'):>8} {num(s.processed_per_s, ',.1f'):>9} {num(s.consumer_lag):>7} "
              f"{num(s.dead_letters):>5}  {s.broker}" + ("" if s.database == "ok" else f"; database {s.database}"))
    sys.stdout.flush()
    return 0
