"""`python -m custseg [overrides]`: the same as the `custseg` command."""

from custseg.cli import main

if __name__ == "__main__":
    main()
