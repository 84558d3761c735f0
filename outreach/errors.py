"""The one exception type that means "the user made a mistake"."""


class UserError(Exception):
    """A mistake the user can fix: bad input, a missing file, a wrong setting.

    The CLI prints ``message`` (Vietnamese, naming what is wrong and how to fix it) and exits
    with ``exit_code`` -- never a traceback.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
