"""``essay-marker serve``: run the Streamlit app on this machine."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .db import resolve_url

APP = Path(__file__).resolve().parents[1] / "ui" / "app.py"


def streamlit_command(port: int = 8501, host: str = "127.0.0.1", headless: bool = True) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.port", str(port), "--server.address", host,
            "--server.headless", "true" if headless else "false",
            "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"]


def serve_env(db_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["ESSAY_MARKER_DB"] = resolve_url(db_url)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"  # no telemetry, whatever the user config says
    return env


def serve(db_url: str | None = None, port: int = 8501, host: str = "127.0.0.1", headless: bool = True) -> int:
    """Run the app until interrupted; returns streamlit's exit code.

    The database is migrated before streamlit starts, so a migration error shows
    here in the terminal rather than in the browser.
    """
    from .db import open_db

    open_db(resolve_url(db_url))
    proc = subprocess.Popen(streamlit_command(port, host, headless), env=serve_env(db_url))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
