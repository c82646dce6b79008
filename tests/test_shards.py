"""Resumable generation shards, independent of any model."""

import pandas as pd

from cotdistill.teachers.shards import generate_in_shards, shard_path


def data(n: int) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"q{i}" for i in range(n)], "question": ["?"] * n})


class Recorder:
    def __init__(self, fail_on_call: int | None = None):
        self.calls, self.fail_on_call = [], fail_on_call

    def __call__(self, chunk: pd.DataFrame) -> pd.DataFrame:
        self.calls.append(chunk["id"].tolist())
        if self.fail_on_call == len(self.calls):
            raise RuntimeError("server went away")
        return pd.DataFrame({"id": chunk["id"], "rationale": [f"r-{i}" for i in chunk["id"]]})


def test_a_failed_run_keeps_finished_shards_and_resumes_after_them(tmp_path):
    key = {"prompt_hash": "p1", "gen_params": "{}"}
    failing = Recorder(fail_on_call=3)
    try:
        generate_in_shards(data(7), tmp_path, 3, key, failing)
    except RuntimeError:
        pass
    assert shard_path(tmp_path, 0).exists() and shard_path(tmp_path, 1).exists()
    resumed = Recorder()
    rows, stats = generate_in_shards(data(7), tmp_path, 3, key, resumed)
    assert resumed.calls == [["q6"]] and (stats.reused, stats.generated) == (2, 1)
    assert rows["id"].tolist() == data(7)["id"].tolist()


def test_shards_of_another_key_or_other_ids_are_regenerated(tmp_path):
    generate_in_shards(data(4), tmp_path, 2, {"prompt_hash": "p1"}, Recorder())
    changed_key = Recorder()
    generate_in_shards(data(4), tmp_path, 2, {"prompt_hash": "p2"}, changed_key)
    assert len(changed_key.calls) == 2
    other_ids = data(4).assign(id=["q0", "q1", "x2", "q3"])
    recorder = Recorder()
    _, stats = generate_in_shards(other_ids, tmp_path, 2, {"prompt_hash": "p2"}, recorder)
    assert recorder.calls == [["x2", "q3"]] and stats.reused == 1


def test_a_torn_shard_file_is_regenerated(tmp_path):
    generate_in_shards(data(2), tmp_path, 2, {"k": 1}, Recorder())
    shard_path(tmp_path, 0).write_bytes(b"not parquet")
    recorder = Recorder()
    generate_in_shards(data(2), tmp_path, 2, {"k": 1}, recorder)
    assert recorder.calls == [["q0", "q1"]]
