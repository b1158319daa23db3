"""``python -m hitrate.cli``: the same command line as the ``hitrate`` script."""

from hitrate.cli import main

main()
