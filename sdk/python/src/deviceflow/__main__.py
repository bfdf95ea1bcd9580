"""``python -m deviceflow login|token|status|logout``."""

from ._cli import run

if __name__ == "__main__":
    run()
