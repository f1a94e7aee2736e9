import pytest

from checks import cli


@pytest.fixture
def run_cli(capsys):
    """``run_cli(*argv)`` -> (exit status, stdout, stderr) of ``graphrec argv`` run in-process."""
    return lambda *argv: cli(argv, capsys)
