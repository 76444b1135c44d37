"""The pluggy-based plugin system: hook specs, typed registration records and the host."""

from zhenshen_core.plugins.hookspecs import hookimpl, hookspec
from zhenshen_core.plugins.host import (
    BUILTIN_PLUGINS,
    DISABLE_AUTOLOAD_ENV,
    ENTRY_POINT_GROUP,
    HookFailure,
    PluginConfig,
    PluginHost,
    PluginInfo,
)
from zhenshen_core.plugins.records import (
    CalendarSource,
    ChannelOption,
    CliCommands,
    FieldTrace,
    IntakeChannel,
    IntakeReader,
    IntakeRecord,
    Notification,
    Notifier,
    Renderer,
    RuleAction,
    RulePackSource,
    StorageBackend,
)

__all__ = [
    "BUILTIN_PLUGINS",
    "DISABLE_AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "CalendarSource",
    "ChannelOption",
    "CliCommands",
    "FieldTrace",
    "HookFailure",
    "IntakeChannel",
    "IntakeReader",
    "IntakeRecord",
    "Notification",
    "Notifier",
    "PluginConfig",
    "PluginHost",
    "PluginInfo",
    "Renderer",
    "RuleAction",
    "RulePackSource",
    "StorageBackend",
    "hookimpl",
    "hookspec",
]
