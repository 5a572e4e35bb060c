"""pb: participatory budgeting and micro-grants for cities."""

__version__ = "0.1.0"
