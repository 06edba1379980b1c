"""Self-contained HTML reports (inline SVG charts and CSS; nothing fetched when opened)."""

from kehu.report.value_report import (
    PAliveMatrix,
    RunMetadata,
    ValueReportData,
    render_value_report,
    write_value_report,
)

__all__ = [
    "PAliveMatrix",
    "RunMetadata",
    "ValueReportData",
    "render_value_report",
    "write_value_report",
]
