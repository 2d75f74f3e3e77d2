"""The staff command-line tool `notis` (installed into .venv; never deployed to Lambda)."""
