"""All file I/O, by concern:

- ``raw``: listing raw folders, their metadata, hashing documents (never written);
- ``objects``: the object store (the parse cache), each source's records written once;
- ``chunks``: the folder tables' chunks, each written once and shared by the versions that have it;
- ``writing``: writing a version, publishing it (``output/datasets/``, ``LATEST``, ``HISTORY``);
- ``published``: reading published versions;
- ``files``: locks, atomic replacement, the JSON records are written in.

One build at a time holds ``output/.lock``; a failed or killed build leaves ``output/`` as it
was (everything is written under temporary names and renamed into place).
"""
from pipeline.core.errors import ParseError, StoreError  # noqa: F401
from pipeline.store.files import (  # noqa: F401
    build_lock, compact_json, compact_json_bytes, decode_text, describe_error, file_lock, read_optional_bytes,
    read_optional_text,
    update_text, write_atomic, write_export,
)
from pipeline.store.chunks import CHUNKS, Chunker, ChunkStore  # noqa: F401
from pipeline.store.objects import (CONTENTS_PART, INDEX_PART, CorruptObject, Objects, arrow_part,  # noqa: F401
                                     jsonl_records, last_build, save_last_build)
from pipeline.store.published import (  # noqa: F401
    FEED_FILE, HISTORY_EVENTS, REPORT_SUFFIXES, HistoryEvent, conflict_ids, dataset_dir, feed_facts, feed_versions,
    has_feed, has_reports, has_table, history, iter_records, iter_table, latest, load_small_tables, load_tables,
    parse_history, previous_version, published_conflict_ids, save_feed_facts, versions,
)
from pipeline.store.raw import (  # noqa: F401
    METADATA_FILE, RawFile, RawRef, hash_files, list_raw, read_raw, read_raw_bytes, source_lines,
)
from pipeline.store.writing import (  # noqa: F401
    VersionWriter, clean_stale_tmp, staged_chunks, link_partitions, record_history, version_name, write_feed, write_reports,
)
