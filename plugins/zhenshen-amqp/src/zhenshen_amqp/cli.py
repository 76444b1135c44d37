"""``zhenshen consume``: the command the plugin adds."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click

from zhenshen_core.cli.context import CliContext, pass_cli
from zhenshen_core.cli.exits import OK, PROBLEMS, USAGE, CliExit, error_boundary
from zhenshen_core.cli.options import (
    DECIDE_PACK_OPTION,
    INTAKE_ACTOR_OPTION,
    STORE_OPTION,
    load_cli_pack,
    open_cli_store,
)
from zhenshen_core.cli.output import FORMAT_OPTION, echo_json

BROKER_ENV = "ZHENSHEN_BROKER"


@contextmanager
def _stopped_by_signals(stop: Any) -> Iterator[None]:
    """SIGTERM and SIGINT call ``stop`` (finish the batch in hand, then return) instead of
    ending the process wherever it is; the previous handlers come back afterwards."""

    def handler(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@click.command("consume")
@click.option(
    "--broker",
    envvar=BROKER_ENV,
    required=True,
    metavar="URL",
    help="AMQP URL of the broker, amqp://user:password@host:5672/vhost (also "
    "$ZHENSHEN_BROKER; the password is never printed).",
)
@click.option("--queue", required=True, help="The queue of work orders, e.g. zhenshen.intake.")
@click.option(
    "--channel",
    "channel_name",
    default="json",
    show_default=True,
    help="Intake channel reading each message's body: json (a case object) or 12345 (a "
    "platform's work order, mapped by --profile).",
)
@click.option(
    "--profile",
    default=None,
    metavar="PROFILE.yaml",
    help="Mapping profile for a channel that takes one (12345).",
)
@STORE_OPTION
@click.option(
    "--prefetch",
    type=click.IntRange(min=1, max=65535),
    default=200,
    show_default=True,
    help="Messages the broker sends ahead unacknowledged; also the largest batch committed "
    "at once.",
)
@DECIDE_PACK_OPTION()
@click.option(
    "--declare/--no-declare",
    default=True,
    show_default=True,
    help="Declare the durable queue with its dead-letter exchange <queue>.dead-letter; "
    "--no-declare uses the queue as it is (it must exist).",
)
@click.option(
    "--stop-when-idle",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Stop once no message came for this long (a batch job); default: until SIGTERM.",
)
@INTAKE_ACTOR_OPTION
@FORMAT_OPTION
@pass_cli
@error_boundary
def consume(
    cli_ctx: CliContext,
    broker: str,
    queue: str,
    channel_name: str,
    profile: str | None,
    store_url: str | None,
    prefetch: int,
    pack_source: str | None,
    declare: bool,
    stop_when_idle: float | None,
    actor: str,
    fmt: str,
) -> None:
    """Store the work orders of a RabbitMQ queue, one per message, exactly once.

    Each message's body is one record of --channel (json: a case object; 12345: a work
    order of the platform, mapped by --profile). A message is acknowledged only after its
    case is committed, so a message delivered again (after a crash or a lost connection)
    finds its work order stored and stores nothing new: the effect is exactly once. A
    message that can never be a case is kept in the store's dead letters with the reason
    ('zhenshen deadletters') and rejected without requeue, to the queue's dead-letter
    exchange <queue>.dead-letter. Several consumers may share one queue and one PostgreSQL
    store.

    When the broker goes away (a restart, a closed connection) the consumer reconnects with
    backoff; the batch not yet committed is delivered again. SIGTERM or Ctrl-C finishes the
    batch in hand and stops; messages prefetched but not begun go back to the queue. A store
    that cannot be reached stops it with exit 75 (nothing acknowledged).

    Prints one summary line when it stops (received, stored, duplicates, dead letters,
    seconds); a progress line on a terminal while it runs. Exit 1 when any message was
    dead-lettered, as 'zhenshen ingest' does for rejected records.

    \b
    Example:
      zhenshen consume --broker amqp://guest:guest@127.0.0.1:5672/ --queue zhenshen.intake \\
        --channel 12345 --profile gaoxin-12345.yaml --store postgresql://desk@db/desk
    """
    from zhenshen_amqp.broker import BrokerError, shown_url
    from zhenshen_amqp.consumer import Consumer
    from zhenshen_core.cli.progress import LiveProgress
    from zhenshen_core.desk import Desk

    host = cli_ctx.host
    channel = host.intake_channel(channel_name)
    options = {"profile": profile} if profile is not None else {}
    reader = channel.reader(options)
    if reader.from_raw is None:
        raise click.BadParameter(
            f"the {channel_name} channel cannot read one message as one record; use json or 12345",
            param_hint="--channel",
        )
    pack_id = cli_ctx.pack_source(pack_source)
    pack = load_cli_pack(cli_ctx, pack_id) if pack_id is not None else None
    calendar = cli_ctx.calendar() if pack is not None else None
    store = open_cli_store(cli_ctx, store_url)

    def log(line: str) -> None:
        click.echo(f"{shown_url(broker)}: {line}", err=True)

    from zhenshen_amqp.events import one_connection

    events = one_connection(host)  # many cases, many events: one connection for them all
    try:
        desk = Desk(store, pack=pack, host=host, calendar=calendar)
        with LiveProgress() as progress:
            consumer = Consumer(
                url=broker,
                queue=queue,
                channel=channel_name,
                from_raw=reader.from_raw,
                desk=desk,
                prefetch=prefetch,
                declare=declare,
                actor=actor,
                stop_when_idle=stop_when_idle,
                advance=progress.phase("consume", None, unit="messages"),
                log=log,
            )
            with _stopped_by_signals(consumer.stop):
                try:
                    stats = consumer.run()
                except BrokerError as exc:
                    raise CliExit(str(exc), USAGE) from None
    finally:
        store.close()
        if events is not None:
            events.close()
    if fmt == "json":
        echo_json({**stats.as_dict(), "seconds": round(progress.seconds, 3)})
    else:
        line = (
            f"{stats.received} received, {stats.stored} stored, {stats.duplicates} duplicate, "
            f"{stats.dead_letters} dead letters in {progress.seconds:.1f} s"
        )
        if stats.reconnects:
            line += f" ({stats.reconnects} reconnection(s))"
        click.echo(line)
    if pack is None:
        click.echo(
            "note: no rule pack (--pack, $ZHENSHEN_PACK or 'pack' in zhenshen.toml): the cases "
            "are stored undecided; 'zhenshen decide --pending' decides them later",
            err=True,
        )
    raise SystemExit(PROBLEMS if stats.dead_letters else OK)
