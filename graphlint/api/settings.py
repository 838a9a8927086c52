"""Service settings: command-line flags of ``graphlint serve`` or ``GRAPHLINT_*`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from graphlint.loaders import DEFAULT_MAX_NODES

WEB_DIR = Path(__file__).resolve().parent.parent / "_web"  # written by `npm run build` in web/


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/graphlint`` (``~/.local/share/graphlint``): where reports and models live by default."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "graphlint"


class Settings(BaseSettings):
    """Everything the service can be told; each field is also ``GRAPHLINT_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="GRAPHLINT_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    data_dir: Path = Field(default_factory=default_data_dir)  # SQLite file, model store, job outputs
    database_url: str | None = None  # postgresql://user@host/db; default: sqlite in data_dir
    # Team mode: models and job files in this directory every replica and worker mounts (default: the data dir)
    blob_store: Path | None = None
    queue_url: str | None = None  # the PostgreSQL database of the job queue (default: database_url)
    max_upload_mb: float = Field(default=256, gt=0)  # an upload over this gets 413 before it is read in full
    token_file: Path | None = None  # one `NAME:TOKEN` (or bare TOKEN) per line; unset = no authentication
    cors_origins: Annotated[list[str], NoDecode] = []  # CORS stays off unless origins are given ("*" allows any)
    # Host header values served besides the bound address and localhost, 127.0.0.1, ::1; "*" serves any
    allowed_hosts: Annotated[list[str], NoDecode] = []
    max_header_kb: int = Field(default=64, ge=1, le=16384)  # request line and headers over this get 431
    max_headers: int = Field(default=100, ge=8, le=10000)  # more header fields than this get 431
    header_timeout_s: float = Field(default=10, gt=0)  # a request whose headers take longer gets 408
    # Store cap: least recently used models and job files deleted
    store_max_mb: float | None = Field(default=None, gt=0)
    # Models and job files unused for this long are deleted
    store_max_age_days: float | None = Field(default=None, gt=0)
    web_dir: Path = WEB_DIR  # static viewer served at / when it holds index.html
    lint_workers: int = Field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)), ge=1, le=64)
    # A model whose lint takes longer is refused (422), its worker killed
    lint_timeout_s: float = Field(default=120, gt=0)
    lint_memory_mb: int = Field(default=4096, ge=256)  # address-space cap of each lint worker
    # A model with more nodes gets 422 too-large (as --max-nodes)
    max_nodes: int = Field(default=DEFAULT_MAX_NODES, ge=1)
    max_graph_mb: float = Field(default=256, gt=0)  # a viewer graph whose JSON is larger is not stored (the report is)
    max_findings_per_rule: int = Field(default=1000, ge=1)  # SARIF lists this many per rule, then one summary finding
    job_workers: int = Field(default=1, ge=1, le=16)  # fix-and-convert jobs that run at the same time
    job_queue: int = Field(default=16, ge=1)  # jobs waiting beyond this are refused with 503
    # With a token file: jobs one token (by name) may have queued or running; POST /v1/jobs beyond it gets 429
    max_queued_per_token: int = Field(default=8, ge=1)
    log_level: str = "info"

    @field_validator("cors_origins", "allowed_hosts", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a comma-separated string from the environment."""
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @property
    def hosts(self) -> list[str]:
        """The allowed Host names: the bound address, the loopback names and those configured."""
        from .guard import default_allowed_hosts

        return [*default_allowed_hosts(self.host), *self.allowed_hosts]

    @property
    def max_upload_bytes(self) -> int:
        """The upload cap in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def team(self) -> bool:
        """Jobs go through the shared PostgreSQL queue to ``graphlint worker`` processes (a PostgreSQL database
        or a queue URL was given) instead of this process's threads."""
        return self.queue_url is not None or self.db_url.startswith(("postgresql:", "postgres:"))

    @property
    def db_url(self) -> str:
        """The database URL, defaulting to the SQLite file in the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'graphlint.db'}"
