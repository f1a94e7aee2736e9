"""Helpers shared by the tests: the command line in-process, a trained hetero-sage."""
from graphrec.cli import main


def cli(argv, capsys) -> tuple[int, str, str]:
    """Run ``graphrec argv`` in-process: (exit status, stdout, stderr) of this call only."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # argparse
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def trained_hetero_sage(synth, synth_split, hidden: int = 16, **hparams):
    """A small HeteroSAGE whose every parameter moved away from its initialisation (a few Adam steps on random
    pairs), in eval mode."""
    import torch

    from graphrec.models import HeteroSAGE

    torch.manual_seed(0)
    model = HeteroSAGE.build(synth, synth_split, hidden=hidden, **hparams)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(3):
        opt.zero_grad()
        users = torch.randint(model.num_users, (64,))
        model(users, torch.randint(model.num_items, (64,))).sum().backward()
        opt.step()
    return model.eval()
