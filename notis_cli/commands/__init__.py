"""One module per `notis` sub-command; each exposes `register(subparsers)`. Found automatically."""
