"""GPU pinning: concurrent jobs lock distinct devices. There is no GPU here, so the
device list is given; the locks are the real ones the jobs take."""

import subprocess
import sys
from pathlib import Path

import pytest

from cotdistill import gpus

SRC = Path(__file__).resolve().parents[1] / "src"


def holder(lock_dir: Path, devices: list[str], n: int = 1) -> subprocess.Popen:
    """A process that claims n devices, prints them, and holds them until stdin closes."""
    code = (
        f"import sys; sys.path.insert(0, {str(SRC)!r})\n"
        "from pathlib import Path\nfrom cotdistill import gpus\n"
        f"print(','.join(gpus.claim({n}, {devices!r}, Path({str(lock_dir)!r}))), flush=True)\n"
        "sys.stdin.read()\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def test_concurrent_jobs_get_different_gpus_and_a_finished_job_frees_its_own(tmp_path):
    a = holder(tmp_path, ["0", "1"])
    first = a.stdout.readline().strip()
    b = holder(tmp_path, ["0", "1"])
    second = b.stdout.readline().strip()
    assert {first, second} == {"0", "1"}
    with pytest.raises(TimeoutError):  # both taken: a third job waits
        gpus.claim(1, ["0", "1"], tmp_path, timeout_s=0.3, poll_s=0.1)
    a.kill()  # even a killed job gives its GPU back
    a.wait()
    assert gpus.claim(1, ["0", "1"], tmp_path, timeout_s=5, poll_s=0.1) == [first]
    b.stdin.close()
    b.wait()


def test_a_job_asking_for_more_gpus_than_the_machine_has_is_told_so(tmp_path):
    with pytest.raises(RuntimeError, match="asks for 3 GPUs but the machine has 2"):
        gpus.claim(3, ["0", "1"], tmp_path)


def test_pin_does_nothing_without_gpus_or_under_slurm(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert gpus.pin(1) == []
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert gpus.pin(1) == [] and gpus.machine_gpus() == ["3"]
