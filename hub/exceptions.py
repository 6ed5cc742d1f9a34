"""Exceptions of the ``hub`` package.

Tree::

    HubError
    ├── MigrationError   a migration file or the migration table is inconsistent
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


class NotFoundError(HubError):
    """A row looked up by key does not exist."""


class ConflictError(HubError):
    """A row with the same unique key exists already."""


class PathwayError(HubError):
    """The pathway file, or a per-patient override, is invalid."""


class UnknownPathwayError(PathwayError):
    """No pathway has the requested name."""
