"""One GPU per GPU job on a workstation.

Snakemake counts a ``gpu`` resource (``--resources gpu=N``) so that no more GPU
jobs run at once than there are GPUs, but it does not say which GPU a job
should use: left alone, every job would start on GPU 0. ``pin`` makes a job
take an advisory lock on a free device and narrows ``CUDA_VISIBLE_DEVICES`` to
it before CUDA starts. The operating system drops the lock when the process
ends, however it ends, so a killed job never strands a GPU.

Under SLURM the scheduler already binds a job to its GPUs: nothing is done.
On a machine without GPUs nothing is done either.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Sequence

log = logging.getLogger(__name__)
LOCK_DIR = Path(tempfile.gettempdir()) / "cotdistill-gpus"
_held: list = []  # open lock files: each lock lasts as long as this process


def machine_gpus() -> list[str]:
    """The GPUs this process may use: CUDA_VISIBLE_DEVICES if set, else what nvidia-smi lists."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d for d in visible.split(",") if d.strip()]
    if shutil.which("nvidia-smi") is None:
        return []
    out = subprocess.run(
        ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def claim(
    n: int,
    devices: Sequence[str],
    lock_dir: Path = LOCK_DIR,
    timeout_s: float | None = None,
    poll_s: float = 1.0,
) -> list[str]:
    """Lock ``n`` of ``devices`` for this process and return them; wait while all are taken."""
    if n > len(devices):
        raise RuntimeError(
            f"this job asks for {n} GPUs but the machine has {len(devices)} "
            f"({','.join(devices) or 'none'}): lower its 'gpu' resource"
        )
    lock_dir.mkdir(parents=True, exist_ok=True)
    start, warned = time.monotonic(), False
    while True:
        got = []
        for device in devices:
            f = open(lock_dir / f"gpu{device}.lock", "a")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.close()
                continue
            got.append((device, f))
            if len(got) == n:
                _held.extend(f for _, f in got)
                return [d for d, _ in got]
        for _, f in got:  # not enough free: give back what we took and wait
            f.close()
        if timeout_s is not None and time.monotonic() - start > timeout_s:
            raise TimeoutError(f"no {n} free GPU(s) among {list(devices)} within {timeout_s} s")
        if not warned:
            log.warning(
                "waiting for %d free GPU(s) among %s (locks in %s)", n, list(devices), lock_dir
            )
            warned = True
        time.sleep(poll_s)


def pin(requested: int) -> list[str]:
    """Give this job ``requested`` GPUs of its own (the rule's ``gpu`` resource)."""
    if requested <= 0 or "SLURM_JOB_ID" in os.environ:
        return []
    devices = machine_gpus()
    if not devices:
        return []
    mine = claim(requested, devices)
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(mine)
    log.info("using GPU %s", ",".join(mine))
    return mine
