"""Exit codes shared by every command (sysdig's habits, plus distinct data errors)."""

OK = 0
RUNTIME_ERROR = 1  # I/O problems, missing files, interrupted
USAGE_ERROR = 2  # bad options or arguments (click's own code)
BAD_CAPTURE = 3  # the capture is damaged or not a capture; intact events were still shown
BAD_FILTER = 4  # the filter or format expression does not parse
