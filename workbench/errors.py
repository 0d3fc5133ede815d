"""One exception hierarchy for the whole library.

The CLI turns any :class:`WorkbenchError` into a one-line message and a non-zero exit code;
anything else is a bug and keeps its traceback. Messages must never carry a password: build
them from :func:`workbench.db.mask_url` output, never from a raw URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.migrate.run import MigrationResult


class WorkbenchError(Exception):
    """Base class of every error a user can cause and fix."""

    exit_code = 2


class BadURLError(WorkbenchError):
    """A database URL that cannot be parsed or names an unknown dialect."""


class MissingDriverError(WorkbenchError):
    """The DBAPI driver a URL asks for is not installed."""


class ConnectError(WorkbenchError):
    """The server cannot be reached or refuses the login."""


class EmptyDatabaseError(WorkbenchError):
    """The database (or the chosen schemas) holds no tables."""


class NotFoundError(WorkbenchError):
    """A named table, schema, file or service does not exist."""


class ArtifactError(WorkbenchError):
    """A stage artifact (schema.json, workload.json, decomposition.yaml, ...) is malformed."""


class ReadOnlyViolation(WorkbenchError):
    """Something tried to write through a read-only source session."""


class StageError(WorkbenchError):
    """A report stage (notebook) failed; the message names the stage and the cell's error."""


class TargetError(WorkbenchError):
    """A target the workbench writes (a file, an empty database) cannot be used: not empty, not writable."""


class MigrationError(WorkbenchError):
    """A migration step could not complete: a row the target refused, legacy rows breaking a foreign key.

    ``result`` is what the run did before it stopped (every service attempted, done work kept), when
    the error ends a whole run; None for a step's own error.
    """

    def __init__(self, message: str, result: MigrationResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class BrokerError(WorkbenchError):
    """The message broker cannot be reached or refuses a request (a stream, a consumer, a publish)."""
