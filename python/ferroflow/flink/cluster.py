"""A Flink cluster's REST API, as ``ferroflow run --target remote`` uses it: its version, its
jobs, a job's failure and cancelling a job. Plain ``urllib``; no PyFlink needed."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

__all__ = ["ClusterError", "FlinkCluster", "parse_address"]

SUPPORTED_MAJOR = 2


class ClusterError(RuntimeError):
    """The cluster cannot be reached, or is not one ferroflow submits to."""


def parse_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (Flink CLI's ``-m``; ``http://`` allowed) -> (host, port)."""
    text = address.strip()
    for scheme in ("http://", "https://"):
        text = text.removeprefix(scheme)
    text = text.rstrip("/")
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"-m expects the cluster's REST address as HOST:PORT (e.g. localhost:8081), got {address!r}")
    return host, int(port)


class FlinkCluster:
    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _request(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(self.url + path, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as e:
            raise ClusterError(f"the Flink cluster at {self.url} answered {path} with HTTP {e.code}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise ClusterError(f"cannot reach a Flink cluster at {self.url} ({reason}); is its JobManager running, "
                               "and is HOST:PORT its REST address (rest.address, rest.port)?") from None
        if not body:
            return None
        try:
            return json.loads(body)
        except ValueError:
            raise ClusterError(f"{self.url}{path} did not answer as Flink's REST API does (not JSON)") from None

    def version(self) -> str:
        """The cluster's Flink version; ClusterError when it is not a Flink 2.x cluster."""
        config = self._request("/config")
        version = config.get("flink-version") if isinstance(config, dict) else None
        if not isinstance(version, str):
            raise ClusterError(f"{self.url} does not look like a Flink cluster's REST API (/config has no flink-version)")
        major = version.split(".", 1)[0]
        if not major.isdigit() or int(major) != SUPPORTED_MAJOR:
            raise ClusterError(
                f"the cluster at {self.url} runs Flink {version}; ferroflow submits programs to Flink "
                f"{SUPPORTED_MAJOR}.x clusters (through PyFlink {SUPPORTED_MAJOR}.x)"
            )
        return version

    def jobs(self) -> list[dict]:
        overview = self._request("/jobs/overview")
        return list(overview.get("jobs", [])) if isinstance(overview, dict) else []

    def job_state(self, job_id: str) -> str | None:
        for job in self.jobs():
            if job.get("jid") == job_id:
                return job.get("state")
        return None

    def cancel(self, job_id: str) -> None:
        self._request(f"/jobs/{job_id}?mode=cancel", method="PATCH")

    def root_exception(self, job_id: str) -> str | None:
        """The exception that failed the job, as the cluster recorded it (with the Python traceback)."""
        try:
            info = self._request(f"/jobs/{job_id}/exceptions")
        except ClusterError:
            return None
        if not isinstance(info, dict):
            return None
        history = (info.get("exceptionHistory") or {}).get("entries") or []
        if history and history[0].get("stacktrace"):
            return history[0]["stacktrace"]
        return info.get("root-exception")
