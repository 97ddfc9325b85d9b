"""The adapters: ``base`` (the contract), ``console``, ``discord/``, ``matrix/``.

``PlatformError`` lives here, not in ``base``, so that raising or catching it (the desk's
parser module, on every start of the bot) does not import the contract's schedule types.
"""


class PlatformError(RuntimeError):
    """A platform cannot run (refused login, bad settings): one line for the user, no traceback."""
