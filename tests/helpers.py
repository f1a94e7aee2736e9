"""Helpers shared by the command-line tests."""
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
