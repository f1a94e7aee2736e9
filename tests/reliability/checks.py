"""Helpers of the reliability catalogue (tests/reliability)."""
from graphrec.cli import main


def cli(argv, capsys) -> tuple[int, str, str]:
    """Run ``graphrec argv`` in-process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # argparse
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(code: int, err: str, *names) -> None:
    """Exit status 2 and exactly one line ``graphrec: error: ...`` naming each of ``names``, no traceback."""
    assert code == 2, (code, err)
    assert err.count("\n") == 1 and err.startswith("graphrec: error: ") and "Traceback" not in err, err
    assert "looks like a bug" not in err, err
    for n in names:
        assert str(n) in err, (n, err)
