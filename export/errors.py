"""The toolchain's errors: each message is one line that says what to change. Their own module,
so that the configuration, the variants and the checkpoints all raise them without importing
one another."""


class ConfigError(ValueError):
    """A setting that cannot work; the message says what to change."""


class CheckpointError(ValueError):
    """A checkpoint that does not fit what is asked of it; the message says why."""
