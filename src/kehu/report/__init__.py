"""Self-contained HTML reports (inline SVG charts and CSS; nothing fetched when opened)."""

from kehu.report.value_report import (
    LeftOut,
    PAliveMatrix,
    ReportTranslator,
    RunMetadata,
    SourceLanguage,
    ValueReportData,
    render_value_report,
    write_value_report,
)

__all__ = [
    "LeftOut",
    "PAliveMatrix",
    "ReportTranslator",
    "RunMetadata",
    "SourceLanguage",
    "ValueReportData",
    "render_value_report",
    "write_value_report",
]
