"""``python -m whistle``: the same command as ``whistle``."""
from whistle.cli import main

if __name__ == "__main__":
    main()
