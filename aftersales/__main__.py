"""``python -m aftersales …`` and the ``aftersales`` console script: green the standard
library first (before anything imports socket or threading), then the CLI."""
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)   # eventlet announces its own deprecation
    import eventlet

eventlet.monkey_patch()


def main():
    from aftersales.cli import main as cli_main
    return cli_main()


if __name__ == "__main__":
    main()
