"""Helpers of the reliability catalogue (tests/reliability)."""
from helpers import cli  # noqa: F401 - the reliability tests take it from here


def one_line_error(code: int, err: str, *names) -> None:
    """Exit status 2 and exactly one line ``graphrec: error: ...`` naming each of ``names``, no traceback."""
    assert code == 2, (code, err)
    assert err.count("\n") == 1 and err.startswith("graphrec: error: ") and "Traceback" not in err, err
    assert "looks like a bug" not in err, err
    for n in names:
        assert str(n) in err, (n, err)
