"""`python -m inferonomics` runs the command line."""

from inferonomics.cli import main

main()
