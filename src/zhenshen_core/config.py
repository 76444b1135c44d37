"""Project configuration: ``zhenshen.toml`` in the working directory (or ``--config FILE``).

Only what a deployment varies lives here; everything is optional and command-line options and
environment variables win over it::

    store = "sqlite:///var/zhenshen/desk.db"   # default --store (ZHENSHEN_STORE wins)
    pack = "cn.chengdu.gaoxin"                 # default --pack of ingest, decide, demo, letter
                                               # (ZHENSHEN_PACK wins)
    calendar = "cn-2027.yaml"                  # the desk's calendar: 'cn', a plugin calendar's
                                               # name or a layer file (ZHENSHEN_CALENDAR wins)
    calendar_policy = "provisional"            # past the published notices: provisional
                                               # (default) or strict (ZHENSHEN_CALENDAR_POLICY)
    pack_paths = ["packs"]                     # extra folders searched for pack ids
    local_plugins = "zhenshen_local.py"        # project-local plugin file: imported only
                                               # from a config named with --config
    disable_plugins = ["docx"]                 # like -p no:NAME
    received_window = "2004-01-01.."           # the received_at instants intake accepts:
                                               # FROM..TO, an empty side is the default
                                               # (2004-01-01 up to a day after now)
    desk = "gxq"                               # this desk's name in the access log
    actor = "wang.li"                          # who acts ('cases transition') and reads
                                               # (the access log); only from a config given
                                               # with --config (ZHENSHEN_ACTOR wins;
                                               # default: the OS user)

    [privacy]                                  # how personal data is masked in every
    kinds = ["mobile", "id_number", "name"]    # output (a MaskPolicy; default: all kinds,
    mobile = {start = 3, end = 4}              # 138****5678, 510***********1234, 张*)

A config file is data. One found in the working directory may choose the store, pack, calendar
and search folders, but not code: the directory may be a folder another district sent, so its
``local_plugins`` is imported only when the user names the config (``--config``), and the CLI
says on stderr that it was left out (``cli.main.trusted_local_plugins``). For the same reason
its ``actor`` (who events record as acting) counts only from a config named with ``--config``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zhenshen_core.errors import ZhenshenError, describe_validation_error
from zhenshen_core.privacy._policy import MaskPolicy
from zhenshen_core.textio import TOO_DEEP, NotUtf8Error, read_text

CONFIG_FILE = "zhenshen.toml"


class ConfigError(ZhenshenError):
    """A config file that cannot be read; the message names the file and the place."""

    exit_code = 2


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    store: str | None = None
    pack: str | None = None
    calendar: str | None = None
    calendar_policy: Literal["provisional", "strict"] | None = None
    pack_paths: tuple[Path, ...] = ()
    local_plugins: Path | None = None
    disable_plugins: tuple[str, ...] = ()
    received_window: str | None = None
    desk: str | None = Field(default=None, min_length=1, max_length=200)
    actor: str | None = Field(default=None, min_length=1, max_length=200)
    privacy: MaskPolicy = Field(default_factory=MaskPolicy)

    @field_validator("received_window")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is not None:
            from zhenshen_core.intake.window import ReceivedWindow

            ReceivedWindow.parse(value)  # a WindowError is a ValueError: reported located
        return value


def load_config(path: Path | None = None) -> Config:
    """Read ``path`` (or ``./zhenshen.toml`` when present); relative paths are from its folder."""
    target = path or Path.cwd() / CONFIG_FILE
    if path is None and not target.is_file():
        return Config()
    try:
        raw = tomllib.loads(read_text(target))
    except OSError as exc:
        raise ConfigError(f"{target}: cannot read config: {exc.strerror or exc}") from exc
    except NotUtf8Error as exc:
        raise ConfigError(str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{target}: invalid TOML: {exc}") from exc
    except RecursionError:  # tomllib recurses once per level of nesting
        raise ConfigError(f"{target}: invalid TOML: {TOO_DEEP}") from None
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(describe_validation_error(e) for e in exc.errors())
        raise ConfigError(f"{target}: {problems}") from exc
    base = target.parent
    calendar = config.calendar
    if calendar and calendar.endswith((".yaml", ".yml")) and not Path(calendar).is_absolute():
        calendar = str(base / calendar)
    return config.model_copy(
        update={
            "calendar": calendar,
            "pack_paths": tuple(p if p.is_absolute() else base / p for p in config.pack_paths),
            "local_plugins": (
                None
                if config.local_plugins is None
                else config.local_plugins
                if config.local_plugins.is_absolute()
                else base / config.local_plugins
            ),
        }
    )
