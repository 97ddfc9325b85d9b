"""The adapters: ``base`` (the contract), ``console``, ``discord/``, ``matrix/``."""
