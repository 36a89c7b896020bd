"""Turn the inline strings of an XLSX written by openpyxl into shared strings, as Excel and
most other writers store text: one ``xl/sharedStrings.xml`` table, each cell an index into
it. openpyxl itself writes inline strings, which would leave the shared-strings path of the
reader untested. Streams the sheet row by row (a million-row file is fine); ``keep``: the
texts left inline."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

_INLINE = re.compile(
    rb'<c r="([A-Z]+[0-9]+)"( s="[0-9]+")? t="inlineStr"><is><t([^>]*)>(.*?)</t></is></c>'
)
_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_CONTENT_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
_RELATION = (
    b'<Relationship Id="rIdShared" Type="http://schemas.openxmlformats.org/officeDocument/'
    b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
)


def share_strings(source: Path, target: Path, *, keep: frozenset[bytes] = frozenset()) -> int:
    """Write ``target``: ``source`` with its first sheet's inline strings shared. Returns the
    number of distinct shared strings."""
    index: dict[bytes, int] = {}
    order: list[tuple[bytes, bytes]] = []  # (text, <t> attributes) in index order

    def shared(found: re.Match[bytes]) -> bytes:
        cell, style, attributes, text = found[1], found[2] or b"", found[3], found[4]
        if text in keep:
            return found[0]
        if text not in index:
            index[text] = len(order)
            order.append((text, attributes))
        return b'<c r="%s"%s t="s"><v>%d</v></c>' % (cell, style, index[text])

    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            name = info.filename
            if name == "xl/worksheets/sheet1.xml":
                with zin.open(name) as src, zout.open(name, "w", force_zip64=True) as dst:
                    pending = b""
                    while block := src.read(1 << 20):
                        pending += block
                        cut = pending.rfind(b"</row>") + len(b"</row>")
                        if cut >= len(b"</row>"):
                            dst.write(_INLINE.sub(shared, pending[:cut]))
                            pending = pending[cut:]
                    dst.write(_INLINE.sub(shared, pending))
                continue
            data = zin.read(name)
            if name == "[Content_Types].xml":
                data = data.replace(b"</Types>", _CONTENT_TYPE + b"</Types>")
            elif name == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", _RELATION + b"</Relationships>")
            zout.writestr(info, data)
        with zout.open("xl/sharedStrings.xml", "w", force_zip64=True) as dst:
            dst.write(
                b'<sst xmlns="%s" count="%d" uniqueCount="%d">' % (_NS, len(order), len(order))
            )
            for text, attributes in order:
                dst.write(b"<si><t%s>%s</t></si>" % (attributes, text))
            dst.write(b"</sst>")
    return len(order)
