"""``zhenshen serve`` and ``zhenshen keys create|list|revoke``."""

from __future__ import annotations

import json
import re

import click

from zhenshen_core.cli.context import PACK_PATH_OPTION, CliContext, pass_cli
from zhenshen_core.cli.exits import LOAD_ERROR, USAGE, CliExit, error_boundary
from zhenshen_core.cli.options import (
    STORE_OPTION,
    load_cli_pack,
    open_cli_store,
    pack_or_default,
)
from zhenshen_server.auth import JwtSettings
from zhenshen_server.changes import is_postgres
from zhenshen_server.roles import ROLES, Role
from zhenshen_server.settings import DEFAULT_DESK, DEFAULT_THREADS, MIB, Settings

DESK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str, name: str) -> float:
    """``60s``, ``5m``, ``1h``, ``500ms`` or a number of seconds; 0 turns the thing off."""
    match = _DURATION.match(text)
    if match is None:
        raise click.BadParameter(f"not a duration like 60s, 5m or 1h: {text!r}", param_hint=name)
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_desks(values: tuple[str, ...], default_pack: str | None) -> dict[str, str]:
    """``ID=PACK`` options → {id: pack}; none: one desk ``default`` with the configured pack."""
    if not values:
        return {DEFAULT_DESK: default_pack or ""}
    desks: dict[str, str] = {}
    for value in values:
        desk_id, sep, pack = value.partition("=")
        if not sep or not pack.strip():
            raise click.BadParameter(f"expected ID=PACK, got {value!r}", param_hint="--desk")
        if not DESK_ID.match(desk_id):
            raise click.BadParameter(
                f"a desk id is letters, digits, '_', '.', '-' (at most 64): {desk_id!r}",
                param_hint="--desk",
            )
        if desk_id in desks:
            raise click.BadParameter(f"desk {desk_id!r} given twice", param_hint="--desk")
        desks[desk_id] = pack.strip()
    return desks


@click.command("serve")
@STORE_OPTION
@click.option("--desk", "desk_specs", multiple=True, metavar="ID=PACK",
              help="A desk and its rule pack (repeatable). Default: one desk 'default' with "
              "the configured pack.")
@PACK_PATH_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (use PostgreSQL for more than one).")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=click.IntRange(1, 256),
              help="Requests each worker runs at once in threads (intake, store reads, "
              "letters; the rest wait). Raise it when the store is far away: about 1 + the "
              "time a request waits for the store / its CPU time.")
@click.option("--sweep-every", default="60s", show_default=True, metavar="DURATION",
              help="Run the clock sweep this often in each process (0: never).")
@click.option("--jwt-issuer", metavar="ISS", help="Accept OIDC tokens from this issuer.")
@click.option("--jwt-audience", metavar="AUD", help="…addressed to this audience.")
@click.option("--jwks", metavar="FILE_OR_URL", help="…signed by a key of this JWKS.")
@click.option("--body-limit", default=MIB, show_default=True, type=click.IntRange(1),
              metavar="BYTES", help="Largest request body (413 above).")
@click.option("--request-timeout", default="30s", show_default=True, metavar="DURATION",
              help="A request taking longer is answered 503.")
@click.option("--open311-private", is_flag=True,
              help="Open311 reads need an API key too (default: public, as the standard "
              "intends).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@pass_cli
@error_boundary
def serve(
    cli_ctx: CliContext,
    store_url: str | None,
    desk_specs: tuple[str, ...],
    host: str,
    port: int,
    workers: int,
    threads: int,
    sweep_every: str,
    jwt_issuer: str | None,
    jwt_audience: str | None,
    jwks: str | None,
    body_limit: int,
    request_timeout: str,
    open311_private: bool,
    log_level: str,
) -> None:
    """Serve the desks over HTTP: /v1 (cases, events, letters, decisions, deadlines, report,
    audit), /healthz, /readyz, /metrics and /openapi.json.

    Every request but the health checks needs 'Authorization: Bearer <key or JWT>' (keys
    from 'zhenshen keys create'; JWTs when --jwt-issuer, --jwt-audience and --jwks are all
    given). SIGTERM finishes the requests in flight and exits 0; SIGHUP reloads the packs
    (a pack with errors is refused and the old one stays).

    \b
    Example:
      zhenshen keys create --store postgresql://… --name hotline --role intake
      zhenshen serve --store postgresql://… --desk gaoxin=cn.chengdu.gaoxin --workers 2
    """
    from zhenshen_server.runner import run

    jwt_given = [v for v in (jwt_issuer, jwt_audience, jwks) if v]
    if jwt_given and len(jwt_given) != 3:
        raise click.UsageError("JWTs need all of --jwt-issuer, --jwt-audience and --jwks")
    desks = parse_desks(desk_specs, pack_or_default(cli_ctx, None))
    url = cli_ctx.store_url(store_url)
    if workers > 1 and not is_postgres(url):
        raise click.UsageError("--workers above 1 needs a PostgreSQL store")
    for source in desks.values():
        if source:
            load_cli_pack(cli_ctx, source)  # every problem located on stderr, exit 3
    if jwks and jwt_issuer and jwt_audience:
        _check_jwks(JwtSettings(jwt_issuer, jwt_audience, jwks))
    open_cli_store(cli_ctx, url).close()  # migrations once, before the workers race
    settings = Settings(
        store_url=url,
        desks=desks,
        pack_paths=tuple(str(p) for p in cli_ctx.all_pack_paths()),
        jwt_issuer=jwt_issuer,
        jwt_audience=jwt_audience,
        jwks=jwks,
        body_limit=body_limit,
        request_timeout=parse_duration(request_timeout, "--request-timeout") or 30.0,
        sweep_every=parse_duration(sweep_every, "--sweep-every"),
        calendar_policy=_policy(cli_ctx),
        open311_private=open311_private,
        threads=threads,
    )
    click.echo(f"serving desks {', '.join(desks)} on http://{host}:{port} "
               f"({workers} worker{'s' if workers > 1 else ''})", err=True)
    run(settings, host=host, port=port, workers=workers, log_level=log_level)


def _check_jwks(settings: JwtSettings) -> None:
    """A JWKS file that cannot be read stops the start (exit 3), before any worker runs."""
    from jwt import PyJWTError

    try:
        settings.verifier()
    except (OSError, ValueError, PyJWTError) as exc:
        raise CliExit(f"--jwks {settings.jwks}: cannot be read ({type(exc).__name__})",
                      LOAD_ERROR) from None


def _policy(cli_ctx: CliContext) -> str:
    calendar = cli_ctx.calendar()
    return str(calendar.policy.value)


@click.group("keys")
def keys() -> None:
    """API keys of 'zhenshen serve': create (shown once), list, revoke."""


@keys.command("create")
@STORE_OPTION
@click.option("--name", required=True, help="Who or what uses the key (e.g. hotline-12345).")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--desk", "desks", multiple=True, metavar="ID",
              help="A desk the key reaches (repeatable; none: every desk).")
@click.option("--department", metavar="DEPT", help="The department of a 'department' key.")
@click.option("--pii", is_flag=True, help="The key sees personal data unmasked (audited).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@pass_cli
@error_boundary
def keys_create(
    cli_ctx: CliContext,
    store_url: str | None,
    name: str,
    role: str,
    desks: tuple[str, ...],
    department: str | None,
    pii: bool,
    fmt: str,
) -> None:
    """Create a key and print it once: only its hash is stored.

    \b
    Example:
      zhenshen keys create --store sqlite:///desk.db --name hotline --role intake --format json
    """
    from zhenshen_server.keys import KeyError_, create_key

    store = open_cli_store(cli_ctx, store_url)
    try:
        key, secret = create_key(store, name=name, role=Role(role), desks=desks,
                                 department=department, pii=pii)
    except KeyError_ as exc:
        raise CliExit(str(exc), USAGE) from None
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps({"id": key.id, "key": secret, "name": key.name,
                               "role": key.role.value, "desks": list(key.desks),
                               "department": key.department, "pii": key.pii},
                              ensure_ascii=False))
        return
    click.echo(f"id   {key.id}\nkey  {secret}\n(the key is shown this once; keep it safe)")


@keys.command("list")
@STORE_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@pass_cli
@error_boundary
def keys_list(cli_ctx: CliContext, store_url: str | None, fmt: str) -> None:
    """The keys (never their secrets): id, name, role, desks, department, pii, revoked."""
    from zhenshen_server.keys import list_keys

    store = open_cli_store(cli_ctx, store_url)
    try:
        found = list_keys(store)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps([k.public() for k in found], ensure_ascii=False))
        return
    for k in found:
        state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
        desks = ",".join(k.desks) or "*"
        click.echo(f"{k.id}  {k.name}  {k.role.value}  desks={desks}  "
                   f"department={k.department or '-'}  pii={'yes' if k.pii else 'no'}  {state}")


@keys.command("revoke")
@STORE_OPTION
@click.argument("key_id", metavar="KEY_ID")
@pass_cli
@error_boundary
def keys_revoke(cli_ctx: CliContext, store_url: str | None, key_id: str) -> None:
    """Revoke a key: every worker refuses it from the next request on."""
    from zhenshen_server.keys import KeyError_, revoke_key

    store = open_cli_store(cli_ctx, store_url)
    try:
        revoke_key(store, key_id)
    except KeyError_ as exc:
        raise CliExit(str(exc), USAGE) from None
    finally:
        store.close()
    click.echo(f"revoked {key_id}", err=True)
