"""Service facts: what each OpenDAL service does, as opendalfs was shown it does.

OpenDAL's ``capability()`` says what a service claims; the sets here record what
tests against each service's servers showed instead, and which driver may run its
calls. :class:`Capabilities` combines both, read once per operator.
"""

from __future__ import annotations

from dataclasses import dataclass

import opendal

from opendalfs._services import service_config

#: Services whose data live in the memory of the process that made the operator.
PROCESS_LOCAL = frozenset({"memory", "dashmap", "moka", "mini-moka"})

#: Services whose blocking calls the sync API may make in the caller's thread: each
#: call releases the GIL while it waits and ends within the TimeoutLayer's bound, as
#: the fault tests showed on S3 (a reset, 503s, a stopped and a silent server). The
#: rest (FTP and the pooled database and key-value clients: Redis, PostgreSQL,
#: MySQL, SQLite …) keep their sync API on fsspec's IO loop, where the asyncio-side
#: deadline bounds a call that the TimeoutLayer did not end (seen on FTP and MySQL
#: once OpenDAL's connection pool had timed out).
BLOCKING_CALLS = PROCESS_LOCAL | frozenset({"fs", "s3", "azblob", "gcs", "webdav", "http"})

#: Services whose blocking lister may run in the caller's thread. opendal 0.47.12's
#: blocking lister holds the GIL while it waits, which only in-process stores and the
#: local disk can afford; elsewhere a listing runs on the IO loop even in blocking mode.
#: Awaited, a listing on fs runs the blocking lister in a worker thread: one hop for
#: the listing, where the async lister hops once per entry (200 entries: 2.6 against
#: 21 ms); the loop's thread still gets the GIL every switch interval meanwhile.
BLOCKING_LISTS = PROCESS_LOCAL | frozenset({"fs"})

#: Services that wait on nothing: no layer helps them (no retry can succeed where the
#: first try failed, no call can hang), and RetryLayer plus TimeoutLayer cost about
#: 25 µs per call there.
NO_LAYERS = PROCESS_LOCAL

#: Services whose failures opendalfs does not retry by default: OpenDAL flags almost
#: every local I/O error (ENOTEMPTY, ENOTDIR, ENOSPC …) temporary, and retrying a
#: local disk error only delays the same failure.
NO_RETRIES = frozenset({"fs"})

#: Options a service gets unless the user gives them: fs reaches the whole disk, as
#: fsspec's local filesystem does, and its names are absolute paths without the "/".
DEFAULT_OPTIONS: dict[str, dict[str, str]] = {"fs": {"root": "/"}}

#: Services whose ``root`` is a local directory, checked when the filesystem is made.
LOCAL_ROOTS = frozenset({"fs"})

#: Services where a plain write, copy or rename that fails with AlreadyExists does so
#: only because a parent of the path is a file (OpenDAL's fs cannot make the parent
#: directory there), so the error is NotADirectoryError.
EXISTS_MEANS_PARENT_IS_FILE = frozenset({"fs"})

#: Services whose stat of a plain name answers for a directory as well as a file (a
#: real directory on disk), so a path missing as a file is missing: no second stat
#: of ``dir/``, which for a missing path doubles the cost of ``info`` and ``exists``.
STAT_SEES_DIRECTORIES = frozenset({"fs"})

#: Services whose OpenDAL reader seeks in place: a seek and a read of 64 KiB cost a
#: few µs there, while each ranged read is a fresh OpenDAL call (about 30 µs on
#: memory, 300 µs on fs). An open file reads them through one reader, sought to each
#: range. Over a network a seek costs a new request anyway, so ranged reads (which
#: name their end) are kept there.
SEEKING_READERS = PROCESS_LOCAL | frozenset({"fs"})

#: Services whose metadata calls (a stat, a delete of one entry, a mkdir, a rename)
#: are one local system call each: awaited, they run in the event loop's own thread,
#: as long as a small local read, where a hop to OpenDAL's runtime and back costs
#: 100-200 µs. Reads, writes, listings and recursive deletes, whose time grows with
#: the data, still hop.
INLINE_METADATA = frozenset({"fs"})

#: Services whose blocking reads and writes go through an OpenDAL file object in the
#: calling thread. The blocking operator's one-shot calls (``read``, ``write``,
#: ``stat`` …) each hand their work to a runtime worker and wait for it, about 10 µs
#: that is most of such a call on memory; its file objects run where they are called.
#: A read or write of 1 KiB cost 19 µs one-shot and 3 µs through a file on memory.
#: On fs a whole-file read through a file skips the stat OpenDAL's ``read`` makes
#: first (117 against 174 µs for 1 KiB), and a write saves the hop (343 against
#: 447 µs); a ranged read stays one-shot there: a reader fetches 2 MiB at a time,
#: and one told a smaller ``chunk`` reads a directory as empty instead of failing.
#: Elsewhere a request's round trip dwarfs the hop.
FILE_CALLS = PROCESS_LOCAL | frozenset({"fs"})

#: Services whose data are on this machine (in memory, on a local disk, in a SQLite
#: file): a call costs microseconds there, while elsewhere each request is a round trip.
LOCAL = PROCESS_LOCAL | frozenset({"fs", "sqlite"})

#: Services whose native append was tested to keep the old bytes on any file. S3
#: claims append, but S3-compatible servers (moto) silently replace the object;
#: azblob appends only to append blobs, and ordinary writes make block blobs.
VERIFIED_APPEND = frozenset({"fs"})

#: Services where OpenDAL's recursive listing and recursive delete cannot be
#: trusted, so opendalfs walks and deletes directory by directory: on FTP the
#: emulated recursive listing skips empty directories three levels down, hangs
#: on a missing directory, and a recursive delete leaves directories behind.
UNTRUSTED_RECURSION = frozenset({"ftp"})

#: Services that list a file, asked for its listing, as a child named like itself.
FILE_LISTS_AS_CHILD = frozenset({"ftp"})

#: Services where a read must run to the end of the object. OpenDAL's FTP client
#: aborts a ranged transfer part way, the server answers "426 Transfer aborted",
#: and that stray answer is read by a later command on the same connection: about
#: one ranged read in 15 failed, and later writes failed with "226 Transfer
#: complete". Reading to the end keeps every transfer whole, at the cost of
#: fetching the rest of the object for each range.
READS_TO_END = frozenset({"ftp"})

#: Services whose stat of a directory path answers "a directory" without asking
#: the server (OpenDAL's http), so only files can be known to exist there.
BLIND_DIRECTORY_STAT = frozenset({"http"})

#: Services whose read of a directory returns a listing page instead of failing
#: (WebDAV servers answer GET on a collection with HTML), so a read checks first.
READS_DIRECTORIES = frozenset({"webdav"})

#: Services whose OpenDAL writer takes many writes although ``write_can_multi`` is
#: false (it gathers them and stores the object on close). Elsewhere such a writer
#: was seen to refuse the second write (WebDAV, key-value stores), so opendalfs
#: collects the blocks itself; here that would only add a copy of the whole object.
GATHERS_WRITES = frozenset({"memory"})

#: Services whose listing of a path without a trailing slash lists every name that
#: starts with it (``a/b`` lists ``a/b``, ``a/b/``, ``a/b-x`` …), checked on each.
#: One such listing tells whether a path is a file, a directory or missing, which
#: otherwise takes two stats (the file, then ``dir/``).
LISTS_BY_PREFIX = frozenset({"memory", "s3", "azblob", "gcs"})


@dataclass(frozen=True)
class Capabilities:
    """The operator capabilities that decide how each fsspec operation is carried out."""

    write: bool
    list: bool
    recursive_list: bool
    """OpenDAL's recursive listing is complete (native or emulated)."""
    copy: bool
    rename: bool
    create_dir: bool
    delete_recursive: bool
    if_not_exists: bool
    write_multi: bool
    """Writes go up in parts (``chunk``/``concurrent`` apply)."""
    write_streams: bool
    """OpenDAL's writer takes a write at a time (in parts, or gathered by OpenDAL)."""
    write_empty: bool
    presign_read: bool
    read_if_match: bool
    append: bool
    """Native appends, only where they were seen to append (not just claimed)."""
    reads_directories: bool
    """A read of a directory returns something instead of failing."""
    directory_stat: bool
    """A stat of ``dir/`` tells whether the directory exists (not so on http)."""
    reads_to_end: bool
    """Ranged reads must be whole reads from the offset (then cut): see READS_TO_END."""
    seeking_readers: bool
    """An open reader seeks in place, cheaper than a ranged read: see SEEKING_READERS."""
    stat_sees_directories: bool
    """A stat of the plain name also finds a directory: see STAT_SEES_DIRECTORIES."""
    file_lists_as_child: bool
    """A file's listing shows the file as its own child: see FILE_LISTS_AS_CHILD."""
    content_etags: bool
    """ETags change with every write (object stores), so they can key a cache."""
    lists_by_prefix: bool
    """A listing of ``a/b`` shows ``a/b`` and ``a/b/``: see LISTS_BY_PREFIX."""
    blocking_calls: bool
    """The sync API may call the blocking operator in the caller's thread: BLOCKING_CALLS."""
    blocking_lists: bool
    """The blocking lister may run in the caller's thread: see BLOCKING_LISTS."""
    in_process: bool
    """The data live in this process's memory: see PROCESS_LOCAL."""
    versions: bool
    """Objects keep versions that can be stated, read and listed (S3's version IDs)."""
    remote: bool
    """Each request is a round trip over a network: see LOCAL."""
    inline_metadata: bool
    """Awaited metadata calls run in the loop's thread: see INLINE_METADATA."""
    file_calls: bool
    """Blocking reads and writes go through file objects: see FILE_CALLS."""
    reads_in_parts: bool
    """A big read goes as parallel ranged requests of one version (opendalfs/_parts.py):
    the service is reached over a network, checks ``if_match`` and takes ranged reads."""

    @classmethod
    def of(cls, op: opendal.AsyncOperator, scheme: str) -> Capabilities:
        cap = op.capability()
        return cls(
            write=cap.write,
            list=cap.list,
            recursive_list=scheme not in UNTRUSTED_RECURSION,
            copy=cap.copy,
            rename=cap.rename,
            create_dir=cap.create_dir,
            delete_recursive=cap.delete_with_recursive and scheme not in UNTRUSTED_RECURSION,
            if_not_exists=cap.write_with_if_not_exists,
            write_multi=cap.write_can_multi,
            write_streams=cap.write_can_multi or scheme in GATHERS_WRITES,
            write_empty=cap.write_can_empty,
            presign_read=cap.presign_read,
            read_if_match=cap.read_with_if_match,
            append=cap.write_can_append and scheme in VERIFIED_APPEND,
            reads_directories=scheme in READS_DIRECTORIES,
            reads_to_end=scheme in READS_TO_END,
            seeking_readers=scheme in SEEKING_READERS,
            stat_sees_directories=scheme in STAT_SEES_DIRECTORIES,
            file_lists_as_child=scheme in FILE_LISTS_AS_CHILD,
            directory_stat=scheme not in BLIND_DIRECTORY_STAT,
            content_etags=service_config(scheme).container_option is not None,
            lists_by_prefix=cap.list and scheme in LISTS_BY_PREFIX,
            blocking_calls=scheme in BLOCKING_CALLS,
            blocking_lists=scheme in BLOCKING_LISTS,
            in_process=scheme in PROCESS_LOCAL,
            versions=cap.stat_with_version and cap.read_with_version and cap.list_with_versions,
            remote=scheme not in LOCAL,
            inline_metadata=scheme in INLINE_METADATA,
            file_calls=scheme in FILE_CALLS,
            reads_in_parts=(
                scheme not in LOCAL and cap.read_with_if_match and scheme not in READS_TO_END
            ),
        )
