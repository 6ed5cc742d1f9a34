"""Exceptions of the ``hub`` package.

Tree::

    HubError
    ├── MigrationError   a migration file or the migration table is inconsistent
    │   └── DatabaseNotReadyError  ``lastmile db migrate`` has not prepared it for this code
    │       ├── SchemaBehindError  it lacks migrations the code ships (code ``schema_behind``)
    │       └── AppRoleError       the API's role cannot log in (code ``app_role_cannot_log_in``)
    ├── NotFoundError    a looked-up row does not exist (api/ answers 404)
    ├── ConflictError    a row with the same unique key exists (api/ answers 409)
    ├── DischargeRiskError  discharge inputs out of range (hub.discharge_risk)
    └── PathwayError     the pathway file or an override is invalid (hub.pathways)
        └── UnknownPathwayError  no pathway of that name
"""


class HubError(Exception):
    """Root of the hub package's exceptions."""


class MigrationError(HubError):
    """A migration could not be applied, or applied ones were changed."""


class DatabaseNotReadyError(MigrationError):
    """``lastmile db migrate`` has not prepared the database for this code; ``code`` says how."""

    code = "database_not_ready"


class SchemaBehindError(DatabaseNotReadyError):
    """The database has not applied every migration the code ships."""

    code = "schema_behind"

    def __init__(self, pending: list[str]) -> None:
        super().__init__(
            f"the database lacks {len(pending)} migration(s) of this code "
            f"({', '.join(pending)}): run `lastmile db migrate` first"
        )
        self.pending = pending


class AppRoleError(DatabaseNotReadyError):
    """The API's database role cannot log in (``lastmile db migrate`` sets its password)."""

    code = "app_role_cannot_log_in"

    def __init__(self) -> None:
        super().__init__("the API's database role cannot log in: run `lastmile db migrate` first")


class NotFoundError(HubError):
    """A row looked up by key does not exist."""


class ConflictError(HubError):
    """A row with the same unique key exists already."""


class PathwayError(HubError):
    """The pathway file, or a per-patient override, is invalid."""


class UnknownPathwayError(PathwayError):
    """No pathway has the requested name."""
