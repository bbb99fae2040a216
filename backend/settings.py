"""Settings read from environment variables prefixed ``YIBAO_``.

Every CLI command and the server read the same settings through :func:`get_settings`.

| variable | default | meaning |
|---|---|---|
| ``YIBAO_ENV`` | ``development`` | ``production`` refuses insecure defaults (no secret key set) |
| ``YIBAO_DATA_DIR`` | ``./data`` | SQLite file, stored photos and documents, generated secret |
| ``YIBAO_DATABASE_URL`` | ``sqlite:///{DATA_DIR}/yibao.sqlite3`` | ``postgresql://user@host:5432/db`` for PostgreSQL |
| ``YIBAO_SECRET_KEY`` | generated once into ``{DATA_DIR}/secret_key`` (development only) | signs tokens |
| ``YIBAO_CHECKLISTS_DIR`` | the repository's ``checklists/`` | checklist YAML files loaded at start |
| ``YIBAO_PWA_DIR`` | the repository's ``pwa/`` | the app's files served at ``/`` (tests serve a copy) |
| ``YIBAO_DEMO`` | ``false`` | create demo data on first start and print the demo logins |
| ``YIBAO_HOST`` / ``YIBAO_PORT`` | ``127.0.0.1`` / ``8000`` | where ``yibao serve`` listens |
| ``YIBAO_WORKERS`` | ``1`` | server worker processes (use PostgreSQL for more than one) |
| ``YIBAO_LOG_LEVEL`` | ``INFO`` | log level |
| ``YIBAO_LOG_FORMAT`` | ``console`` | ``json`` for one JSON object per line |
| ``YIBAO_PG_POOL_MAX`` | ``10`` | PostgreSQL connections per worker |
| ``YIBAO_ACCESS_TOKEN_MINUTES`` | ``60`` | lifetime of an access token |
| ``YIBAO_REFRESH_DAYS`` | ``30`` | a device stays signed in this long without contact (renewed on each refresh) |
| ``YIBAO_LOGIN_MAX_FAILURES`` | ``5`` | consecutive failed logins that lock an account |
| ``YIBAO_LOGIN_LOCK_MINUTES`` | ``15`` | how long a locked account stays locked |
| ``YIBAO_LOGIN_RATE_PER_MINUTE`` | ``60`` | login attempts per client address per minute (per worker) |
| ``YIBAO_TLS`` | ``false`` | ``true`` when users reach the app over HTTPS (a proxy in front): sends HSTS |
| ``YIBAO_CORS_ORIGINS`` | empty (CORS closed) | comma-separated origins allowed to call the API from other sites |
| ``YIBAO_MAX_JSON_BYTES`` | ``8388608`` (8 MB) | largest JSON request body |
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
_TRUE = {"1", "true", "yes", "on"}


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Build with :func:`get_settings`, never by hand outside tests."""

    env: str
    data_dir: Path
    database_url: str
    secret_key: str = field(repr=False)
    checklists_dir: Path
    demo: bool
    host: str
    port: int
    workers: int
    log_level: str
    log_format: str
    pg_pool_max: int
    access_token_minutes: int = 60
    refresh_days: int = 30
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    login_rate_per_minute: int = 60
    pwa_dir: Path = REPO_ROOT / "pwa"
    tls: bool = False
    cors_origins: tuple[str, ...] = ()
    max_json_bytes: int = 8 * 1024 * 1024

    @property
    def is_sqlite(self) -> bool:
        """True when the embedded SQLite database is used."""
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        """Path of the SQLite file (only meaningful when :attr:`is_sqlite`)."""
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def files_dir(self) -> Path:
        """Where stored photos and generated documents live."""
        return self.data_dir / "files"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _secret_key(env: str, data_dir: Path) -> str:
    key = os.environ.get("YIBAO_SECRET_KEY", "")
    if key:
        if env == "production" and len(key) < 32:
            raise SettingsError("YIBAO_SECRET_KEY must be at least 32 characters in production")
        return key
    if env == "production":
        raise SettingsError("YIBAO_SECRET_KEY must be set in production (at least 32 characters)")
    # Development: one random key per data folder, so tokens survive restarts but no key is
    # ever shared between installations.
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings() -> Settings:
    """Read the settings from the environment (uncached)."""
    env = os.environ.get("YIBAO_ENV", "development").strip().lower()
    if env not in {"development", "production"}:
        raise SettingsError(f"YIBAO_ENV must be 'development' or 'production', got {env!r}")
    data_dir = Path(os.environ.get("YIBAO_DATA_DIR") or "data").expanduser().resolve()
    database_url = os.environ.get("YIBAO_DATABASE_URL") or f"sqlite:///{data_dir / 'yibao.sqlite3'}"
    if not database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise SettingsError(
            "YIBAO_DATABASE_URL must start with sqlite:/// or postgresql://, "
            f"got {database_url.split(':', 1)[0]!r}"
        )
    log_format = os.environ.get("YIBAO_LOG_FORMAT", "console").lower()
    if log_format not in {"console", "json"}:
        raise SettingsError(f"YIBAO_LOG_FORMAT must be 'console' or 'json', got {log_format!r}")
    return Settings(
        env=env,
        data_dir=data_dir,
        database_url=database_url,
        secret_key=_secret_key(env, data_dir),
        checklists_dir=Path(
            os.environ.get("YIBAO_CHECKLISTS_DIR") or REPO_ROOT / "checklists"
        ).resolve(),
        demo=os.environ.get("YIBAO_DEMO", "").strip().lower() in _TRUE,
        host=os.environ.get("YIBAO_HOST", "127.0.0.1"),
        port=_int("YIBAO_PORT", 8000),
        workers=_int("YIBAO_WORKERS", 1),
        log_level=os.environ.get("YIBAO_LOG_LEVEL", "INFO").upper(),
        log_format=log_format,
        pg_pool_max=_int("YIBAO_PG_POOL_MAX", 10),
        access_token_minutes=_int("YIBAO_ACCESS_TOKEN_MINUTES", 60),
        refresh_days=_int("YIBAO_REFRESH_DAYS", 30),
        login_max_failures=_int("YIBAO_LOGIN_MAX_FAILURES", 5),
        login_lock_minutes=_int("YIBAO_LOGIN_LOCK_MINUTES", 15),
        login_rate_per_minute=_int("YIBAO_LOGIN_RATE_PER_MINUTE", 60),
        pwa_dir=Path(os.environ.get("YIBAO_PWA_DIR") or REPO_ROOT / "pwa").expanduser().resolve(),
        tls=os.environ.get("YIBAO_TLS", "").strip().lower() in _TRUE,
        cors_origins=tuple(
            o.strip().rstrip("/") for o in os.environ.get("YIBAO_CORS_ORIGINS", "").split(",") if o.strip()
        ),
        max_json_bytes=_int("YIBAO_MAX_JSON_BYTES", 8 * 1024 * 1024),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
