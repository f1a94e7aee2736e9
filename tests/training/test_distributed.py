"""Two CPU processes (gloo) training through DistributedDataParallel."""
import json
import socket

import pytest
import torch
import torch.multiprocessing as mp

from graphrec.config import TrainConfig
from graphrec.training import select_and_refit
from graphrec.config import DataConfig

from synthetic import write_ml100k


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, cfg: dict, run_dir: str, out: str) -> None:
    import os

    import torch.distributed as dist

    from graphrec.errors import GraphrecError
    from graphrec.training.distributed import DistributedTrainer, fingerprint, init_process_group, on_rank0
    from graphrec.pipeline import build_model, prepare

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    init_process_group("gloo", timeout_s=60)
    config = TrainConfig.from_dict(cfg)
    token = on_rank0(lambda: f"chosen by {rank}")  # e.g. a fresh run directory name
    try:
        on_rank0(lambda: (_ for _ in ()).throw(GraphrecError("refused on rank 0")))
        refused = None
    except GraphrecError as e:
        refused = str(e)
    data = prepare(config)
    model = build_model(config, data)
    trainer = DistributedTrainer(model, data.split, config, run_dir, progress=False, verify_sync=True)
    result = trainer.fit()
    torch.save({"fingerprint": fingerprint(model), "result": result, "checks": trainer.sync_checks,
                "history": trainer.history,
                "token": token, "refused": refused}, f"{out}/rank{rank}.pt")
    dist.destroy_process_group()


@pytest.fixture(scope="module")
def dist_data(tmp_path_factory):
    return write_ml100k(tmp_path_factory.mktemp("dist") / "ml-100k", num_users=150, num_items=200, per_user=20)


def test_two_processes_train_in_sync_and_match_single_process(dist_data, tmp_path):
    cfg = TrainConfig(model="lightgcn", hparams={"factors": 16, "num_layers": 2}, epochs=8, batch_size=256,
                      lr=0.01, l2=1e-4, num_ng=1, patience=0, full_eval_every=0,
                      data=DataConfig(dataset="ml-100k", data_dir=str(dist_data)))
    run_dir = tmp_path / "run"
    mp.spawn(_worker, args=(2, _free_port(), cfg.to_dict(), str(run_dir), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1))
    # every optimizer step was checked (150 users * 18 train pairs / 256 per global batch -> 11 steps an epoch)
    assert r0["checks"] == r1["checks"] == 8 * 11
    assert torch.equal(r0["fingerprint"], r1["fingerprint"])
    assert r0["result"] == r1["result"]  # rank 0's metrics, broadcast
    assert r0["token"] == r1["token"] == "chosen by 0"
    assert r0["refused"] == r1["refused"] == "refused on rank 0"
    assert r0["history"][-1]["loss"] < r0["history"][0]["loss"] * 0.8  # it trains
    # rank 0 wrote the run directory, nothing half-written is left behind
    assert json.loads((run_dir / "metrics.json").read_text())["HR@10"] == r0["result"]["HR@10"]
    assert (run_dir / "model.pt").is_file() and (run_dir / "checkpoint.pt").is_file()
    assert not [p for p in run_dir.iterdir() if ".tmp" in p.name]
    # same global batch on one process: same quality, not bit for bit
    single = select_and_refit(cfg, None, None, progress=False).metrics()
    for key in ("HR@10", "NDCG@10"):
        assert abs(r0["result"][key] - single[key]) < 0.1, (key, r0["result"][key], single[key])
    assert r0["result"]["HR@10"] > 0.2  # well above chance (10 of 100 candidates)


def test_torchrun_cli_trains_any_model_into_one_run_dir(dist_data, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                          "-m", "graphrec", "train", "gmf", "--distributed", "--data-dir", str(dist_data),
                          "--epochs", "2", "--batch-size", "128", "--out", str(tmp_path / "runs"), "--quiet"],
                         capture_output=True, text=True, env=env, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count("run saved in") == 1  # rank 0 reports, rank 1 is silent
    run = tmp_path / "runs" / "gmf"
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["gmf"]  # both ranks agreed on one directory
    # selection (2 epochs, on validation), then the refit on train + validation for the chosen epochs
    selection = json.loads((run / "selection" / "metrics.json").read_text())
    assert selection["epochs_run"] == 2
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["refit_epochs"] == selection["best_epoch"] and "selected" in metrics
    assert json.loads((run / "config.json").read_text())["epochs"] == selection["best_epoch"]
    # the training data's fingerprint is recorded as a single-process run records it, so evaluate checks it
    assert json.loads((run / "data.json").read_text())["fingerprint"]


def test_shards_cover_the_epoch_once_with_per_rank_negatives(synth, synth_split):
    from graphrec.models import LightGCN
    from graphrec.training.distributed import shard_epoch

    s, cfg = synth_split, TrainConfig(model="lightgcn", seed=3, num_ng=1)
    model = LightGCN.build(synth, s, factors=4, num_layers=1)
    shards = [shard_epoch(model, s, cfg, 1, r, 3) for r in range(3)]
    assert len({len(sh[0]) for sh in shards}) == 1  # equal length: the ranks step together
    keys = torch.cat([sh[0] * s.num_items + sh[1] for sh in shards])
    train_keys = s.train_user * s.num_items + s.train_item
    assert set(keys.tolist()) == set(train_keys.tolist())  # every training pair, once (plus wrap-around)
    assert len(keys) - len(train_keys) < 3
    for u, _, n in shards:
        assert not s.train_sampler.contains(u, n).any()  # negatives are unseen items
    again = shard_epoch(model, s, cfg, 1, 1, 3)
    assert all(torch.equal(a, b) for a, b in zip(again, shards[1]))  # seeded by (seed, epoch, rank)
    assert not torch.equal(shard_epoch(model, s, cfg, 2, 1, 3)[0], shards[1][0])  # a new epoch reshuffles
