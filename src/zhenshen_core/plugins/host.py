"""The plugin host: one pluggy manager per application object, never a global one.

It loads the built-in internal plugins, then (unless autoload is off) every distribution in the
``zhenshen`` entry-point group, then a project-local plugin file and any plugins named with
``-p``. Loading is strict: a plugin that fails to import stops the run with its name.

A project-local plugin file is Python, so it is imported only when the user names it
(``--local-plugins FILE``, ``ZHENSHEN_LOCAL_PLUGINS``, or ``local_plugins`` in a config file
given with ``--config``); a ``zhenshen_local.py`` that merely lies in the working directory is
never imported, because that directory may be a folder another district sent (see
``docs/explanation/reliability.md``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, TypeVar

import pluggy

from zhenshen_core.errors import (
    DuplicateNameError,
    NormaliseError,
    PluginLoadError,
    UnknownNameError,
)
from zhenshen_core.plugins import hookspecs
from zhenshen_core.plugins.records import (
    CalendarSource,
    CliCommands,
    IntakeChannel,
    Notification,
    Notifier,
    Renderer,
    RuleAction,
    RuleEngine,
    RulePackSource,
    StorageBackend,
)

ENTRY_POINT_GROUP = "zhenshen"
DISABLE_AUTOLOAD_ENV = "ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD"
#: The conventional name of a project-local plugin file (loaded only when named).
LOCAL_PLUGIN_FILE = "zhenshen_local.py"
#: A project-local plugin file named by the environment, like ``--local-plugins``.
LOCAL_PLUGINS_ENV = "ZHENSHEN_LOCAL_PLUGINS"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "zhenshen_core.builtin.stores",
    "zhenshen_core.builtin.intake",
    "zhenshen_core.builtin.calendars",
    "zhenshen_core.builtin.renderers",
    "zhenshen_core.builtin.engines",
)


class _Named(Protocol):
    @property
    def name(self) -> str: ...


R = TypeVar("R", bound=_Named)


@dataclass(frozen=True)
class PluginInfo:
    """What ``zhenshen plugins`` shows about one loaded plugin."""

    name: str
    distribution: str | None
    version: str | None
    origin: str  # builtin | entrypoint | local | explicit | registered
    registers: Mapping[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class HookFailure:
    """A notification implementation that raised; reported, never re-raised."""

    plugin: str
    hook: str
    error: str


@dataclass(frozen=True)
class PluginConfig:
    """Loading controls, from CLI flags, environment and config."""

    autoload: bool = True
    blocked: frozenset[str] = frozenset()
    explicit: tuple[str, ...] = ()
    local_file: Path | None = None

    @classmethod
    def from_env(
        cls,
        *,
        no_plugins: bool = False,
        plugin_args: Sequence[str] = (),
        local_file: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> PluginConfig:
        """Loading controls from the flags given and the environment. ``local_file`` is the
        project-local plugin file the user named; else ``ZHENSHEN_LOCAL_PLUGINS``; never a file
        found in the working directory."""
        env = os.environ if environ is None else environ
        disabled = env.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() in {"1", "true", "yes"}
        blocked = {a[3:] for a in plugin_args if a.startswith("no:")}
        explicit = tuple(a for a in plugin_args if not a.startswith("no:"))
        if local_file is None and env.get(LOCAL_PLUGINS_ENV, "").strip():
            local_file = Path(env[LOCAL_PLUGINS_ENV].strip())
        return cls(
            autoload=not (no_plugins or disabled),
            blocked=frozenset(blocked),
            explicit=explicit,
            local_file=None if no_plugins else local_file,
        )


class PluginHost:
    """Owns a pluggy ``PluginManager`` and answers registry questions with typed records."""

    def __init__(self, config: PluginConfig | None = None, *, load: bool = True) -> None:
        self.config = config or PluginConfig(autoload=False)
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._origins: dict[str, tuple[str, str | None, str | None]] = {}
        if load:
            self.load()

    # --- loading ---------------------------------------------------------------------------

    def load(self) -> None:
        for name in self.config.blocked:
            self.pm.set_blocked(name)
        for module in BUILTIN_PLUGINS:
            short = module.rsplit(".", 1)[-1]
            if short in self.config.blocked or module in self.config.blocked:
                continue
            self._register(_import(module, module), module, "builtin")
        if self.config.autoload:
            self._load_entry_points()
        if self.config.local_file is not None:
            self._register(_import_file(self.config.local_file), "zhenshen_local", "local")
        for spec in self.config.explicit:
            self._register(_import(spec, spec), spec, "explicit")

    def _load_entry_points(self) -> None:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self.config.blocked or self.pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must name itself, not crash the CLI
                raise PluginLoadError(ep.name, exc) from exc
            dist = ep.dist
            self._register(
                plugin,
                ep.name,
                "entrypoint",
                dist.metadata["Name"] if dist else None,
                dist.version if dist else None,
            )

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register an object or module as a plugin (tests and embedding code use this)."""
        return self._register(plugin, name or _default_name(plugin), "registered")

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._origins.pop(name, None)

    def _register(
        self,
        plugin: object,
        name: str,
        origin: str,
        dist: str | None = None,
        version: str | None = None,
    ) -> str:
        if self.pm.is_blocked(name) or self.pm.has_plugin(name):
            return name
        if self.pm.is_registered(plugin):  # e.g. -p MODULE for a plugin autoloaded by entry point
            return self.pm.get_name(plugin) or name
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:
            raise PluginLoadError(name, exc) from exc
        self._origins[name] = (origin, dist, version)
        return name

    # --- registries ------------------------------------------------------------------------

    def _collect(self, hook_name: str, kind: str) -> dict[str, tuple[str, Any]]:
        caller = getattr(self.pm.hook, hook_name)
        found: dict[str, tuple[str, Any]] = {}
        # pluggy calls later-registered plugins first; walk in registration order instead
        for impl in reversed(caller.get_hookimpls()):
            try:
                records = impl.function() or []
            except Exception as exc:
                raise PluginLoadError(impl.plugin_name, exc) from exc
            for record in records:
                key = record.name
                if key in found:
                    raise DuplicateNameError(kind, key, found[key][0], impl.plugin_name)
                found[key] = (impl.plugin_name, record)
        return found

    def _records(self, hook_name: str, kind: str, cls: type[R]) -> dict[str, R]:
        return {k: v for k, (_, v) in self._collect(hook_name, kind).items()}

    def storage_backends(self) -> dict[str, StorageBackend]:
        return self._records("zhenshen_storage_backends", "storage backend", StorageBackend)

    def intake_channels(self) -> dict[str, IntakeChannel]:
        return self._records("zhenshen_intake_channels", "intake channel", IntakeChannel)

    def rule_packs(self) -> dict[str, RulePackSource]:
        return self._records("zhenshen_rule_packs", "rule pack", RulePackSource)

    def default_pack(self) -> str | None:
        """The id of the pack a plugin marks ``default`` (what commands use when none is
        named), or None. Two plugins marking one each is an error naming both."""
        marked = [
            (plugin, record.id)
            for plugin, record in self._collect("zhenshen_rule_packs", "rule pack").values()
            if record.default
        ]
        if len(marked) > 1:
            (first, a), (second, b) = marked[:2]
            raise DuplicateNameError("default rule pack", f"{a}, {b}", first, second)
        return marked[0][1] if marked else None

    def calendars(self) -> dict[str, CalendarSource]:
        return self._records("zhenshen_calendars", "calendar", CalendarSource)

    def notifiers(self) -> dict[str, Notifier]:
        return self._records("zhenshen_notifiers", "notifier", Notifier)

    def renderers(self) -> dict[str, Renderer]:
        return self._records("zhenshen_renderers", "renderer", Renderer)

    def rule_actions(self) -> dict[str, RuleAction]:
        return self._records("zhenshen_rule_actions", "rule action", RuleAction)

    def engines(self) -> dict[str, RuleEngine]:
        return self._records("zhenshen_engines", "rule engine", RuleEngine)

    def cli_commands(self) -> dict[str, CliCommands]:
        return self._records("zhenshen_cli_commands", "CLI command set", CliCommands)

    def get(self, registry: Mapping[str, R], kind: str, name: str) -> R:
        """Look ``name`` up, answering an unknown one with the known names."""
        try:
            return registry[name]
        except KeyError:
            raise UnknownNameError(kind, name, registry) from None

    def intake_channel(self, name: str) -> IntakeChannel:
        return self.get(self.intake_channels(), "intake channel", name)

    def renderer(self, name: str) -> Renderer:
        return self.get(self.renderers(), "renderer", name)

    def storage_backend(self, url: str) -> StorageBackend:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        scheme = scheme.split("+", 1)[0]
        return self.get(self.storage_backends(), "storage backend (URL scheme)", scheme)

    # --- pipeline and notifications --------------------------------------------------------

    def normalise_intake(self, channel: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """The case draft for one record; whatever a normaliser raises becomes a
        ``NormaliseError`` naming its plugin (one bad record must not stop a whole intake)."""
        hook = "zhenshen_normalise_intake"
        try:
            result = self.pm.hook.zhenshen_normalise_intake(channel=channel, data=data)
        except Exception as exc:
            raise NormaliseError(self.culprit(hook, exc), hook, exc) from exc
        return data if result is None else result

    def culprit(self, hook_name: str, exc: BaseException) -> str:
        """The plugin whose implementation of ``hook_name`` raised ``exc``: the innermost frame
        of the traceback that runs one of the hook's implementations (pluggy does not say)."""
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        owners = {
            impl.function.__code__: impl.plugin_name
            for impl in impls
            if hasattr(impl.function, "__code__")
        }
        found = None
        frame = exc.__traceback__
        while frame is not None:
            found = owners.get(frame.tb_frame.f_code, found)
            frame = frame.tb_next
        return found or f"one of {', '.join(sorted(i.plugin_name for i in impls))}"

    def intake_channel_plugin(self, name: str) -> str:
        """The plugin that registered intake channel ``name``."""
        collected = self._collect("zhenshen_intake_channels", "intake channel")
        return collected[name][0] if name in collected else "?"

    def enriches(self) -> bool:
        """Whether any plugin enriches cases (a desk looks a repeat delivery up before asking)."""
        return bool(self.pm.hook.zhenshen_enrich_case.get_hookimpls())

    def enrich(self, case: Any) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for part in reversed(self.pm.hook.zhenshen_enrich_case(case=case)):
            if part:
                merged.update(part)
        return merged

    def notify(self, notification: Notification, **hook_kwargs: Any) -> list[HookFailure]:
        """Fan a notification out to hook implementations and notifiers, isolating each."""
        failures: list[HookFailure] = []
        hook_name = f"zhenshen_{notification.kind}"
        caller = getattr(self.pm.hook, hook_name, None)
        if caller is not None:
            for impl in reversed(caller.get_hookimpls()):
                failures.extend(_isolated(impl.plugin_name, hook_name, impl.function, hook_kwargs))
        masked: list[Notification] = []  # built once, for the first notifier that needs it
        for notifier_name, (plugin, notifier) in self._collect(
            "zhenshen_notifiers", "notifier"
        ).items():
            name = f"{plugin}:{notifier_name}"
            sent = notification
            if not notifier.personal_data:
                if not masked:
                    try:
                        masked.append(for_notifier(notifier, notification))
                    except Exception as exc:  # never send it unmasked instead
                        failures.append(HookFailure(name, "notifier", f"masking: {exc}"))
                        continue
                sent = masked[0]
            failures.extend(_isolated(name, "notifier", notifier.send, {"n": sent}))
        return failures

    def notify_hooks(self, kind: str, **hook_kwargs: Any) -> list[HookFailure]:
        """Call the notification hook ``zhenshen_<kind>`` of every plugin, isolating each
        (in-process observers; notifiers are reached through :meth:`send_notice`)."""
        failures: list[HookFailure] = []
        caller = getattr(self.pm.hook, f"zhenshen_{kind}", None)
        if caller is not None:
            for impl in reversed(caller.get_hookimpls()):
                failures.extend(
                    _isolated(impl.plugin_name, f"zhenshen_{kind}", impl.function, hook_kwargs)
                )
        return failures

    def notifier_names(self) -> list[str]:
        """The registered notifiers' names, sorted: the targets of a desk's outbox notices."""
        return sorted(self._collect("zhenshen_notifiers", "notifier"))

    def send_notice(self, target: str, notification: Notification) -> HookFailure | None:
        """Give ``notification`` to the notifier named ``target`` (masked unless it declares
        ``personal_data``, as :func:`for_notifier` says); its failure, if any (an unknown
        name is one: the plugin that registered it is not loaded)."""
        found = self._collect("zhenshen_notifiers", "notifier").get(target)
        if found is None:
            return HookFailure("-", "notifier", f"no notifier named {target!r} is loaded")
        plugin, notifier = found
        failures = list(
            _isolated(
                f"{plugin}:{target}",
                "notifier",
                notifier.send,
                {"n": for_notifier(notifier, notification)},
            )
        )
        return failures[0] if failures else None

    # --- introspection ---------------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        registers: dict[str, dict[str, list[str]]] = {}
        for hook, kind in _REGISTRATION_HOOKS:
            for key, (owner, _) in self._collect(hook, kind).items():
                registers.setdefault(owner, {}).setdefault(kind, []).append(key)
        out = []
        for plugin_name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            name = str(plugin_name)
            origin, dist, version = self._origins.get(name, ("registered", None, None))
            if origin == "builtin":
                dist, version = "zhenshen-core", _core_version()
            out.append(PluginInfo(name, dist, version, origin, registers.get(name, {})))
        return out


_REGISTRATION_HOOKS: tuple[tuple[str, str], ...] = (
    ("zhenshen_storage_backends", "storage"),
    ("zhenshen_intake_channels", "intake"),
    ("zhenshen_rule_packs", "packs"),
    ("zhenshen_calendars", "calendars"),
    ("zhenshen_notifiers", "notifiers"),
    ("zhenshen_renderers", "renderers"),
    ("zhenshen_rule_actions", "actions"),
    ("zhenshen_engines", "engines"),
    ("zhenshen_cli_commands", "commands"),
)


def _isolated(
    plugin: str, hook: str, fn: Callable[..., Any], kwargs: Mapping[str, Any]
) -> Iterable[HookFailure]:
    try:
        if hook == "notifier":
            fn(kwargs["n"])
        else:
            fn(**kwargs)
    except Exception as exc:  # isolation is the point: report and carry on
        from zhenshen_core.privacy import mask_text  # a gateway's error may repeat a number

        return [HookFailure(plugin, hook, mask_text(f"{type(exc).__name__}: {exc}"))]
    return []


def for_notifier(notifier: Notifier, notification: Notification) -> Notification:
    """The notification as ``notifier`` may receive it: as it is for a notifier that declares
    ``personal_data``, else with the case's personal data masked (a confidential requester
    保密) and its detail masked — whoever delivers it (``notify``, an outbox)."""
    if notifier.personal_data:
        return notification
    from zhenshen_core.privacy import mask_document, masked_case

    return replace(
        notification,
        case=masked_case(notification.case),
        detail=mask_document(dict(notification.detail)),
    )


def _import(spec: str, name: str) -> ModuleType:
    try:
        return importlib.import_module(spec)
    except Exception as exc:
        raise PluginLoadError(name, exc) from exc


def _import_file(path: Path) -> ModuleType:
    module_name = "zhenshen_local"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception as exc:
        raise PluginLoadError(f"{module_name} ({path})", exc) from exc
    sys.modules.pop(module_name, None)
    return module


def _default_name(plugin: object) -> str:
    return getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{id(plugin):x}"


def _core_version() -> str | None:
    try:
        return metadata.version("zhenshen-core")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return None
