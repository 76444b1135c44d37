"""Excel workbooks for zhenshen_core: the ``xlsx`` intake channel (python-calamine, headers
mapped by a profile) and ``zhenshen export xlsx`` (openpyxl, write-only)."""

from zhenshen_xlsx.reader import XlsxReader, configure, default_profile_path
from zhenshen_xlsx.workbook import (
    MAX_ROWS,
    SheetNotFound,
    WorkbookError,
    column_letter,
    find_tables,
    open_workbook,
)

__all__ = [
    "MAX_ROWS",
    "SheetNotFound",
    "WorkbookError",
    "XlsxReader",
    "column_letter",
    "configure",
    "default_profile_path",
    "find_tables",
    "open_workbook",
]
