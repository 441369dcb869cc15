"""Deployment settings: a TOML file plus ``FENGQIAO_*`` environment variables.

Precedence (highest first): environment variables, the TOML file named by ``FENGQIAO_CONFIG``
(or ``<data dir>/fengqiao.toml`` when it exists), built-in defaults.

Example ``fengqiao.toml``::

    database_url = "postgresql://fengqiao@db/fengqiao"
    enabled_channels = ["general", "court", "police"]   # omit to enable every installed channel
    case_number_format = "（{year}）{prefix}字第{seq:04d}号"

    [channels.court]            # per-channel section, read by that channel's plugin
    clock_start = "platform_acceptance"
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Settings", "SettingsError", "load_settings"]

DEFAULT_CASE_NUMBER_FORMAT = "（{year}）{prefix}字第{seq:04d}号"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Everything a deployment may configure. Build with :func:`load_settings`."""

    data_dir: Path
    database_url: str
    secret_key: str
    enabled_channels: tuple[str, ...] | None = None
    """Channel keys to enable; ``None`` enables every installed channel."""
    disabled_plugins: tuple[str, ...] = ()
    """Plugin names to block entirely (pluggy ``set_blocked``)."""
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per-channel sections (``[channels.<key>]``), handed to that channel's plugin."""
    locale: str = "zh_CN"
    case_number_format: str = DEFAULT_CASE_NUMBER_FORMAT
    secure_cookies: bool = True
    db_pool: bool = True
    """Keep database connections for reuse (PostgreSQL: asyncpg's pool; SQLite: ``core.db``'s)."""
    trace_plugins: bool = False
    deadlines: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Overrides of deadline rules, keyed by rule key (see ``core.deadlines``)."""
    calendar: dict[str, Any] = field(default_factory=dict)
    """Local holidays and make-up working days (see ``core.calendar``)."""
    field_encryption: dict[str, Any] = field(default_factory=dict)
    """Keys and algorithm for personal-data fields (``[field_encryption]``; see ``core.crypto``)."""
    raw: dict[str, Any] = field(default_factory=dict)
    """The whole merged TOML document, for plugins that read their own top-level sections."""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests use this)."""
        return replace(self, **changes)

    def channel_settings(self, key: str) -> dict[str, Any]:
        return dict(self.channels.get(key, {}))


def _bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def _list(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SettingsError(f"{name} must be a list of strings")


def _secret_key(data_dir: Path) -> str:
    """Read the deployment's secret key, creating it (mode 0600) on first use."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _check_database_url(url: str) -> None:
    """Refuse URLs that cannot work, with a message naming the variable."""
    if url.startswith("sqlite:///"):
        if not url.removeprefix("sqlite:///").strip() or url.endswith("/"):
            raise SettingsError("FENGQIAO_DATABASE_URL: sqlite:/// needs a file path, e.g. sqlite:////srv/fengqiao.sqlite3")
        return
    if not url.startswith(("postgres://", "postgresql://")):
        raise SettingsError("FENGQIAO_DATABASE_URL must start with sqlite:///, postgres:// or postgresql://")
    parsed = urlsplit(url)
    try:
        parsed.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise SettingsError("FENGQIAO_DATABASE_URL has an invalid port") from None
    if not parsed.hostname and "host=" not in parsed.query:
        raise SettingsError("FENGQIAO_DATABASE_URL names no host")
    if not parsed.path.strip("/"):
        raise SettingsError("FENGQIAO_DATABASE_URL names no database")


def _field_encryption(env: dict[str, str], doc: dict[str, Any]) -> dict[str, Any]:
    """``[field_encryption]`` from the TOML file, overridden by ``FENGQIAO_FIELD_KEYS``
    (``id=secret,id=secret``), ``FENGQIAO_FIELD_CURRENT_KEY``, ``FENGQIAO_FIELD_ALGORITHM`` and
    ``FENGQIAO_FIELD_INDEX_KEY``."""
    conf = doc.get("field_encryption", {})
    if not isinstance(conf, dict):
        raise SettingsError("[field_encryption] must be a table")
    conf = dict(conf)
    if env.get("FENGQIAO_FIELD_KEYS"):
        keys: dict[str, str] = {}
        for item in env["FENGQIAO_FIELD_KEYS"].split(","):
            kid, sep, secret = item.strip().partition("=")
            if not sep:
                raise SettingsError("FENGQIAO_FIELD_KEYS must be id=secret pairs separated by commas")
            keys[kid.strip()] = secret.strip()
        conf["keys"] = keys
    for var, name in (("FENGQIAO_FIELD_CURRENT_KEY", "current_key"), ("FENGQIAO_FIELD_ALGORITHM", "algorithm"),
                      ("FENGQIAO_FIELD_INDEX_KEY", "index_key")):
        if env.get(var):
            conf[name] = env[var]
    return conf


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment and the optional TOML file.

    Raises:
        SettingsError: a value is malformed or the config file is missing/unreadable.
    """
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("FENGQIAO_DATA_DIR", "fengqiao-data")).expanduser().resolve()
    config_path = env.get("FENGQIAO_CONFIG")
    doc: dict[str, Any] = {}
    if config_path:
        path = Path(config_path)
        if not path.is_file():
            raise SettingsError(f"FENGQIAO_CONFIG points to {path}, which does not exist")
    else:
        path = data_dir / "fengqiao.toml"
    if path.is_file():
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: {exc}") from exc

    database_url = env.get("FENGQIAO_DATABASE_URL") or doc.get("database_url")
    if not database_url:
        database_url = f"sqlite:///{data_dir / 'fengqiao.sqlite3'}"
    _check_database_url(database_url)

    enabled: tuple[str, ...] | None = None
    if "FENGQIAO_ENABLED_CHANNELS" in env:
        enabled = _list(env["FENGQIAO_ENABLED_CHANNELS"], "FENGQIAO_ENABLED_CHANNELS")
    elif "enabled_channels" in doc:
        enabled = _list(doc["enabled_channels"], "enabled_channels")

    disabled = _list(
        env.get("FENGQIAO_DISABLED_PLUGINS", doc.get("disabled_plugins", [])), "disabled_plugins"
    )
    channels = doc.get("channels", {})
    if not isinstance(channels, dict) or not all(isinstance(v, dict) for v in channels.values()):
        raise SettingsError("[channels.<key>] sections must be tables")

    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=env.get("FENGQIAO_SECRET_KEY") or doc.get("secret_key") or _secret_key(data_dir),
        enabled_channels=enabled,
        disabled_plugins=disabled,
        channels=channels,
        locale=env.get("FENGQIAO_LOCALE", doc.get("locale", "zh_CN")),
        case_number_format=doc.get("case_number_format", DEFAULT_CASE_NUMBER_FORMAT),
        secure_cookies=_bool("FENGQIAO_SECURE_COOKIES", env.get("FENGQIAO_SECURE_COOKIES", "1"))
        if "FENGQIAO_SECURE_COOKIES" in env
        else bool(doc.get("secure_cookies", True)),
        db_pool=_bool("FENGQIAO_DB_POOL", env.get("FENGQIAO_DB_POOL", "1")),
        trace_plugins=_bool("FENGQIAO_TRACE_PLUGINS", env.get("FENGQIAO_TRACE_PLUGINS", "0")),
        deadlines=doc.get("deadlines", {}),
        calendar=doc.get("calendar", {}),
        field_encryption=_field_encryption(env, doc),
        raw=doc,
    )
    from core.crypto import CryptoConfigError, FieldCipher

    try:
        FieldCipher.from_settings(settings)
    except CryptoConfigError as exc:
        raise SettingsError(str(exc)) from None
    try:
        settings.case_number_format.format(year=2026, prefix="X", seq=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise SettingsError(
            f"case_number_format {settings.case_number_format!r} is invalid: {exc!r}; "
            "use the placeholders {year}, {prefix} and {seq}"
        ) from exc
    return replace(settings, **overrides) if overrides else settings
