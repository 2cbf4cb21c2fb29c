"""Shared by the emu suite's NVMe scripts: where pdk-emud and pdk-nvme-perf
are in a build, and whether this pdk-emud has the NVMe model."""
import os
import subprocess


def nvme_tools(build):
    """(pdk-emud, pdk-nvme-perf) paths, or None when pdk-emud has no NVMe model."""
    emud = os.path.join(build, "app", "pdk-emud", "pdk-emud")
    perf = os.path.join(build, "app", "pdk-nvme-perf", "pdk-nvme-perf")
    helptext = subprocess.run([emud, "--help"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True).stdout
    return (emud, perf) if "\n  nvme:" in helptext else None
