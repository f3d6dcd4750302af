"""opendalfs: an fsspec filesystem for every Apache OpenDAL service.

``OpendalFileSystem("s3", endpoint=..., region=...)`` or any fsspec URL
``opendal+<service>://...`` reaches the service through ``opendal.AsyncOperator``.
"""

from opendalfs._operators import ForkedProcessError, ProcessLocalStoreError
from opendalfs._version import __version__
from opendalfs.core import OpendalFileSystem
from opendalfs.errors import OperationTimeout
from opendalfs.file import OpendalAsyncFile, OpendalFile
from opendalfs.registry import register

__all__ = [
    "ForkedProcessError",
    "OpendalAsyncFile",
    "OpendalFile",
    "OpendalFileSystem",
    "OperationTimeout",
    "ProcessLocalStoreError",
    "__version__",
    "register",
]
