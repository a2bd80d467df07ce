"""CSV downloads: streamed, readable by Excel, and with no cell a spreadsheet would run."""

import csv
import io
from collections.abc import Iterable

from flask import Response, stream_with_context

# How a cell that a spreadsheet would run as a formula starts (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows are sent in chunks of about this many characters.
CHUNK = 64_000


def csv_safe(value):
    """A CSV cell a spreadsheet shows as written: text that would start a formula gets a
    leading apostrophe, whatever its column (the store sends order numbers and names too);
    numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_download(filename: str, columns: list[str], rows: Iterable[Iterable]) -> Response:
    """``rows`` as a CSV attachment, streamed as they come, every cell made safe."""

    def chunks():
        buffer = io.StringIO()
        # A byte-order mark first: Excel then reads the file as UTF-8, accents intact.
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(map(csv_safe, row))
            if buffer.tell() > CHUNK:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(
        stream_with_context(chunks()),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
