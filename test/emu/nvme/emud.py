"""pdk-emud for the pdk-nvme-perf tests in this folder (perf_*.py): whether
it has an NVMe model, and one controller served from another process."""
import os
import signal
import subprocess
import time


def has_nvme(build):
    exe = os.path.join(build, "app", "pdk-emud", "pdk-emud")
    text = subprocess.run([exe, "--help"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True).stdout
    return "\n  nvme:" in text


class NotReady(Exception):
    pass


class Emud:
    """pdk-emud serving an NVMe controller at DIR/nvme.sock with `knobs`, and
    its control socket at DIR/ctl; ready when the with-block starts."""

    def __init__(self, build, d, knobs):
        self.exe = os.path.join(build, "app", "pdk-emud", "pdk-emud")
        self.sock, self.ctl = os.path.join(d, "nvme.sock"), os.path.join(d, "ctl")
        self.ready = os.path.join(d, "ready")
        self.knobs = knobs
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen([self.exe, "--device", "nvme,socket=%s,%s" %
                                      (self.sock, self.knobs), "--control", self.ctl,
                                      "--ready-file", self.ready, "--log-level", "warning"])
        for _ in range(500):
            if os.path.exists(self.ready) or self.proc.poll() is not None:
                break
            time.sleep(0.01)
        if not os.path.exists(self.ready):
            self.__exit__()
            raise NotReady("pdk-emud did not get ready")
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
