"""`python -m sfxstudio`."""

import sys

from sfxstudio.cli import main

if __name__ == "__main__":
    sys.exit(main())
