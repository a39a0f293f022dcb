"""`python -m featuresql` runs the command line."""

from featuresql.cli import main

main()
