"""Helpers for integration tests that run the real `dray` binary.

A Site writes a site file into a temporary folder, starts `dray run` as a
child process (optionally under valgrind: DRAY_WRAPPER), waits for
conditions with bounded timeouts, and stops it by its pid."""
import os
import atexit
import re
import shutil
import shlex
import signal
import subprocess
import tempfile
import time

DRAY = os.environ.get("DRAY_BIN", "dray")
WRAPPER = shlex.split(os.environ.get("DRAY_WRAPPER", ""))
SLOW = 8 if WRAPPER else 1  # valgrind runs ~10x slower


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout * SLOW:.0f}s waiting for {what}")


def dray(*args, input=None, env=None, timeout=60):
    """Runs a short dray command; returns CompletedProcess (text)."""
    return subprocess.run(WRAPPER + [DRAY, *args], input=input, capture_output=True,
                          text=True, timeout=timeout * SLOW, env=env)


class Site:
    def __init__(self, yaml_text, env=None):
        self.dir = tempfile.mkdtemp(prefix="dray-it-")
        if not os.environ.get("DRAY_KEEP"):  # DRAY_KEEP=1 keeps the folders to look into
            atexit.register(shutil.rmtree, self.dir, ignore_errors=True)
        self.path = os.path.join(self.dir, "site.yaml")
        self.write(yaml_text)
        self.log_path = os.path.join(self.dir, "dray.log")
        self.proc = None
        self.env = dict(os.environ, **(env or {}))

    def p(self, *parts):
        return os.path.join(self.dir, *parts)

    def write(self, yaml_text):
        self.config = yaml_text
        with open(self.path, "w") as f:
            f.write(yaml_text)

    def start(self, ready=r"site \S+ running"):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(WRAPPER + [DRAY, "run", "-c", self.path],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        atexit.register(self._kill_if_left, self.proc)  # a failed test leaves no process behind
        wait_for(lambda: re.search(ready, self.text()) or self.proc.poll() is not None,
                 what="dray to start")
        if self.proc.poll() is not None:
            raise AssertionError("dray exited at start:\n" + self.text())
        return self

    @staticmethod
    def _kill_if_left(proc):
        if proc.poll() is None:
            proc.kill()  # our own child, by its pid
            proc.wait()

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        """SIGTERM by pid; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("dray did not stop within the deadline:\n" + self.text())
        self.log.close()
        return code

    def http_port(self):
        m = wait_for(lambda: re.search(r"http listener on port (\d+)", self.text()),
                     what="the http listener")
        return int(m.group(1))

    def lines(self, name):
        try:
            with open(self.p(name)) as f:
                text = f.read()
            # a line still being written (read while dray appends) is not one yet
            return [l.split() for l in text[:text.rfind("\n") + 1].splitlines() if l]
        except FileNotFoundError:
            return []
