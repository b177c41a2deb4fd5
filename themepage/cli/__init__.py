"""The command line: the one place that wires data, programs, metrics and LMs together."""
