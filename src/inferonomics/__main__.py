"""`python -m inferonomics` runs the command line."""

from inferonomics.cli import main

if __name__ == "__main__":
    main()
