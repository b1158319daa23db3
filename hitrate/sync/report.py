"""What a sync did: :class:`SyncReport`, the import's report plus what only a sync has."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hitrate.i18n import DEFAULT_LANG, Message
from hitrate.report.result import Result, english

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from hitrate.ingest.import_report import ImportReport


@dataclass
class SyncReport(Result):
    """One sync of one CRM: ``imports`` (the :class:`~hitrate.ingest.ImportReport` of its deals, owners and
    stage history: read, imported, updated, unchanged, quarantined, as for files), ``deleted`` (deals the CRM
    deleted or archived, removed from the counts), whether it fetched everything (``full``) or what changed since
    the saved cursor, the cursor saved, the requests it took (retries included), its seconds, and the lead scores
    refreshed after it (``rescored``)."""

    crm: str
    imports: ImportReport
    deleted: int = 0
    full: bool = True
    cursor: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    rescored: int = 0
    notes_: list[Message] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.imports.read

    @property
    def imported(self) -> int:
        return self.imports.imported

    @property
    def updated(self) -> int:
        return self.imports.updated

    @property
    def unchanged(self) -> int:
        return self.imports.unchanged

    @property
    def quarantined(self) -> int:
        return self.imports.quarantined

    @property
    def warnings(self) -> list[Message]:
        """The import's warnings, then the sync's own notes."""
        return [*self.imports.warnings, *self.notes_]

    def to_dict(self) -> dict[str, Any]:
        """What ``hitrate import --format json`` prints for the same rows, plus ``sync``: the CRM, ``deleted``,
        ``full``, ``cursor``, ``requests``, ``seconds`` and ``rescored``."""
        out = self.imports.to_dict()
        out["warnings"] = english(self.warnings)
        out["sync"] = {
            "crm": self.crm,
            "deleted": self.deleted,
            "full": self.full,
            "cursor": dict(self.cursor),
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rescored": self.rescored,
        }
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per table the sync wrote: its source, table and counts."""
        return self.imports.to_frame()

    def title(self) -> Message:
        from hitrate.sync.client import LABELS

        return Message("sync.title", crm=LABELS.get(self.crm, self.crm), batch=self.imports.batch_id)

    def headline(self) -> Message:
        return Message(
            "sync.headline",
            read=self.read,
            imported=self.imported,
            updated=self.updated,
            unchanged=self.unchanged,
            quarantined=self.quarantined,
            deleted=self.deleted,
        )

    def notes(self) -> list[Message | str]:
        return list(self.warnings)

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """The counts per table as bars, as an import's."""
        return self.imports.plot(lang)
