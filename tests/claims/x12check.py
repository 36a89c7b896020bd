"""Running the pyx12 validator on an X12 file and collecting what it reports."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyx12.params
import pyx12.x12n_document


def x12_errors(path: Path) -> list[str]:
    """Every error pyx12 reports for the file (its JSON error report, walked to the segment
    level, and any rejected acknowledgement code); empty when the file is valid."""
    ack, report = io.StringIO(), io.StringIO()
    ok = pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(), src_file=str(path), fd_997=ack, fd_html=None, fd_json=report
    )
    errors: list[str] = []
    if report.getvalue().strip():
        _collect(json.loads(report.getvalue()), errors)
    if not ok and not errors:
        errors.append(f"pyx12 rejected the file; its 999 says: {ack.getvalue()}")
    return errors


def _collect(node: Any, errors: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, errors)
    elif isinstance(node, dict):
        where = node.get("seg_id") or node.get("trn_set_id") or node.get("gs_control_num") or ""
        for error in node.get("errors") or []:
            errors.append(f"{where} line {node.get('cur_line')}: {error.get('err_str')}")
        if node.get("ack_code") not in (None, "A"):
            errors.append(f"{where}: acknowledgement code {node['ack_code']}")
        for key, value in node.items():
            if key != "errors" and isinstance(value, list | dict):
                _collect(value, errors)
