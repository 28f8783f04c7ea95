"""Internal: where a job's dashboard and REST API listen, from its configuration: Flink's
``rest.port`` (unset: no dashboard; 0: any free port) and ``rest.address`` (default
127.0.0.1)."""

from __future__ import annotations

from dataclasses import dataclass

from ferroflow.common.configuration import Configuration

__all__ = ["REST_ADDRESS", "REST_PORT", "WebSpec", "web_spec"]

#: Flink's keys.
REST_PORT = "rest.port"
REST_ADDRESS = "rest.address"
DEFAULT_ADDRESS = "127.0.0.1"


@dataclass(frozen=True)
class WebSpec:
    address: str
    port: int


def web_spec(conf: Configuration) -> WebSpec | None:
    """The dashboard's address and port, or None when ``rest.port`` is not set; a value that
    cannot be read is refused here, naming its key."""
    if not conf.contains_key(REST_PORT):
        return None
    text = (conf.get_string(REST_PORT, "") or "").strip()
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ValueError(
            f"configuration key {REST_PORT!r} must be a port number from 0 to 65535 "
            f"(0: any free port), got {text!r}"
        )
    address = (conf.get_string(REST_ADDRESS, DEFAULT_ADDRESS) or "").strip() or DEFAULT_ADDRESS
    return WebSpec(address, port)
