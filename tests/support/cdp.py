"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

Standard library only: Chromium reads commands on its fd 3 and writes replies and events on its
fd 4, each message one JSON object ended by a NUL byte. Enough to open a page, time its load, click
at an element, type, and read values back from the page.
"""

import json
import os
import select
import subprocess
import time

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe"]


class BrowserError(Exception):
    pass


class Browser:
    """One Chromium process and one page in it (``with Browser(binary, profile) as page: ...``)."""

    def __init__(self, binary, profile, window="1400,1000", timeout=300):
        self.timeout = timeout
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def wire_pipes():
            command, reply = os.dup(to_browser_read), os.dup(from_browser_write)
            os.dup2(command, 3)
            os.dup2(reply, 4)

        self.process = subprocess.Popen(
            [binary] + FLAGS + ["--user-data-dir=%s" % profile, "--window-size=%s" % window, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_pipes, pass_fds=(3, 4))
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self._events = []
        self.session = None
        self.scripts = True

    # --- the wire ---------------------------------------------------------------------------------

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("no message from Chromium within %s s" % self.timeout)
            ready, _w, _x = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise BrowserError("Chromium closed its DevTools pipe (exit code %s)" % self.process.poll())
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message.decode("utf-8"))

    def send(self, method, params=None, session=True):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        data = json.dumps(message).encode("utf-8") + b"\0"
        while data:
            data = data[os.write(self._to_browser, data):]
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError("%s: %s" % (method, reply["error"]))
                return reply.get("result") or {}
            if "method" in reply:
                self._events.append(reply)

    def wait_for(self, event):
        """The parameters of the next ``event`` (events already received count)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for index, seen in enumerate(self._events):
                if seen["method"] == event:
                    del self._events[:index + 1]
                    return seen.get("params") or {}
            self._events.append(self._read_message(deadline))

    # --- a page -------------------------------------------------------------------------------------

    def __enter__(self):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        return self

    def __exit__(self, *exc):
        try:
            self.send("Browser.close", session=False)
        except (BrowserError, OSError):
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)

    def open(self, url):
        """Load ``url``; the seconds from the request to the load event, as the caller waited them."""
        self._events = [e for e in self._events if e["method"] != "Page.loadEventFired"]
        started = time.monotonic()
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")
        return time.monotonic() - started

    def evaluate(self, expression):
        """The value of a JavaScript expression (awaited when it is a promise), as JSON gives it."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError("%s: %s" % (expression, result["exceptionDetails"].get("text")))
        return result["result"].get("value")

    def metrics(self):
        """Performance.getMetrics as a dict (Performance.enable first); ThreadTime: the renderer's CPU seconds."""
        return dict((m["name"], m["value"]) for m in self.send("Performance.getMetrics")["metrics"])

    def disable_scripts(self):
        """Run the page as a browser with JavaScript turned off does (DevTools can still ask it questions)."""
        self.send("Emulation.setScriptExecutionDisabled", {"value": True})
        self.scripts = False

    def settled(self):
        """Wait until the page has been laid out and painted after the last change; seconds waited.

        Without scripts no frame callback runs: questions about the layout (which lay the page out
        first) are all there is to wait for.
        """
        started = time.monotonic()
        if self.scripts:
            self.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))")
        else:
            self.evaluate("document.body.getBoundingClientRect().height")
        return time.monotonic() - started

    def click(self, selector):
        """A real mouse click at the middle of the first element ``selector`` matches."""
        box = self.evaluate("(() => { const e = document.querySelector(%s); e.scrollIntoView({block: 'center'});"
                            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
                            % json.dumps(selector))
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent",
                      {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1})
        self.settled()

    def type(self, text):
        """Key presses into the focused element, one character at a time."""
        for char in text:
            self.send("Input.dispatchKeyEvent", {"type": "keyDown", "text": char, "key": char})
            self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": char})
        self.settled()
