"""Errors that carry a location, so a person can open the file at the line."""
from __future__ import annotations


class PipelineError(Exception):
    """Base class for every error the pipeline reports to a user as one line."""


class ParseError(PipelineError):
    """A document that cannot be turned into records.

    Printed as ``raw/<file>:<line>: <what is wrong>``; ``line`` is 1-based.
    """

    def __init__(self, file: str, line: int, message: str):
        self.file = file
        self.line = line
        self.message = message
        super().__init__(f"{file}:{line}: {message}")

    def __reduce__(self):
        # a pool worker's error is pickled back to the build: rebuilt from its three parts
        # (the default would call __init__ with the one formatted string and fail)
        return (type(self), (self.file, self.line, self.message))


class StoreError(PipelineError):
    """Output could not be read or written (lock held, corrupt dataset, ...)."""


class SchemaError(PipelineError):
    """A record does not match its published JSON Schema: the build stops, naming the record."""
