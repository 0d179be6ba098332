"""The AT Protocol collections feedbot reads, named once (sources, config and tests).

A tiny module on purpose: the configuration checks names against it without importing
the record readers.
"""

from __future__ import annotations

STANDARD_DOCUMENT = "site.standard.document"
STANDARD_PUBLICATION = "site.standard.publication"
LEAFLET_DOCUMENT = "pub.leaflet.document"
LEAFLET_PUBLICATION = "pub.leaflet.publication"
WHTWND_ENTRY = "com.whtwnd.blog.entry"

#: documents a feed may read (``collections`` in the config)
DOCUMENT_COLLECTIONS = (STANDARD_DOCUMENT, LEAFLET_DOCUMENT, WHTWND_ENTRY)
#: records a document's ``site`` may point at
PUBLICATION_COLLECTIONS = (STANDARD_PUBLICATION, LEAFLET_PUBLICATION)
