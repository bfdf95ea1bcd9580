"""``python -m deviceflow login|token|status|logout``."""

from . import _runtime


def main() -> None:
    # The plugin compiles (native code, outside the GIL) while the command's
    # modules load and its flags are read: a short command waits less.
    _runtime.compile_in_background()
    from ._cli import run

    run()


if __name__ == "__main__":
    main()
