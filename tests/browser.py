"""Open a local HTML file in real headless Chromium with the network off, over DevTools.

The browser runs with a dead proxy (every http/https request fails) and the background-network
switches off; the page is driven over the DevTools protocol (``websocket-client``) so the test
sees every console message, uncaught exception, failed load and network request attempt, can
evaluate JavaScript, save a screenshot and print to PDF.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_path() -> str | None:
    for name in CHROMIUM_NAMES:
        p = shutil.which(name)
        if p:
            return p
    return None


def need_chromium() -> str:
    """Chromium's path; skip locally when absent (CI installs it in .ci/run: fail there)."""
    p = chromium_path()
    if p is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing on CI (.ci/run installs it with apt-get)")
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    pytest.importorskip(
        "websocket", reason="websocket-client not installed (pip install -e .[test])"
    )
    return p


@dataclass
class PageResult:
    console: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    screenshot: Path | None = None
    pdf_pages: int | None = None

    @property
    def errors(self) -> list[str]:
        out = [
            f"console.{m['type']}: {m['text']}"
            for m in self.console
            if m["type"] in ("error", "assert")
        ]
        out += [f"exception: {e}" for e in self.exceptions]
        out += [f"log: {e}" for e in self.log_errors]
        return out

    @property
    def network_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file:", "data:", "about:", "blob:"))]


class _Session:
    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 30
    ) -> dict[str, Any]:
        self.next_id += 1
        my = self.next_id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params or {}}))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(method)

    def wait_event(self, name: str, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        if any(e["method"] == name for e in self.events):
            return
        self.ws.settimeout(1.0)
        import websocket

        while time.monotonic() < end:
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == name:
                    self.ws.settimeout(30)
                    return
        raise TimeoutError(name)

    def evaluate(self, expr: str) -> Any:
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        return r.get("result", {}).get("value")


def open_page(
    html: Path,
    *,
    evaluate: dict[str, str],
    screenshot: Path | None = None,
    pdf: bool = False,
    width: int = 1280,
    height: int = 1800,
    ready: str = "document.body && document.body.getAttribute('data-map-ready') === '1'",
    settle_s: float = 0.3,
    media: str | None = None,
) -> PageResult:
    """Load ``html`` offline, wait until ``ready`` is true, evaluate expressions, capture."""
    exe = need_chromium()
    res = PageResult()
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            end = time.monotonic() + 30
            while not (port_file.exists() and port_file.read_text().strip()):
                if time.monotonic() > end or proc.poll() is not None:
                    raise RuntimeError("chromium did not start its DevTools endpoint")
                time.sleep(0.05)
            port = int(port_file.read_text().split()[0])
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
                targets = json.loads(resp.read())
            page = next(t for t in targets if t.get("type") == "page")
            s = _Session(page["webSocketDebuggerUrl"])
            for domain in ("Page", "Runtime", "Log", "Network"):
                s.call(f"{domain}.enable")
            s.call("Page.navigate", {"url": html.resolve().as_uri()})
            s.wait_event("Page.loadEventFired")
            end = time.monotonic() + 20
            while not s.evaluate(f"!!({ready})"):
                if time.monotonic() > end:
                    raise TimeoutError(f"page never became ready: {ready}")
                time.sleep(0.1)
            if media is not None:  # after drawing, as when a reader prints the page
                s.call("Emulation.setEmulatedMedia", {"media": media})
            time.sleep(settle_s)
            for key, expr in evaluate.items():
                res.values[key] = s.evaluate(expr)
            if screenshot is not None:
                shot = s.call(
                    "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False}
                )
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
                res.screenshot = screenshot
            if pdf:
                out = s.call(
                    "Page.printToPDF",
                    {"preferCSSPageSize": True, "printBackground": True},
                    timeout=60,
                )
                data = base64.b64decode(out["data"])
                res.pdf_pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
            s.call("Runtime.evaluate", {"expression": "1"})  # flush pending events
            for e in s.events:
                m, p = e["method"], e.get("params", {})
                if m == "Runtime.consoleAPICalled":
                    text = " ".join(
                        str(a.get("value", a.get("description", ""))) for a in p.get("args", [])
                    )
                    res.console.append({"type": p.get("type"), "text": text})
                elif m == "Runtime.exceptionThrown":
                    d = p.get("exceptionDetails", {})
                    res.exceptions.append(
                        str(d.get("exception", {}).get("description") or d.get("text"))
                    )
                elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                    entry = p["entry"]
                    res.log_errors.append(f"{entry.get('text')} {entry.get('url', '')}")
                elif m == "Network.requestWillBeSent":
                    res.requests.append(p.get("request", {}).get("url", ""))
            with contextlib.suppress(Exception):
                s.call("Browser.close", timeout=5)
            s.ws.close()
        finally:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
    return res
