"""Resident-memory readings of the current process.

The peak comes from ``VmHWM`` (Linux), which ``/proc/self/clear_refs`` resets,
rather than ``ru_maxrss``: after ``exec`` the latter starts from the peak of the
process that forked, so a worker would inherit the driver's peak.
file_throughput.py supplies the fallbacks elsewhere.
"""

from __future__ import annotations

from file_throughput import current_rss_mib, reset_peak_rss
from file_throughput import peak_rss_mib as _ru_maxrss_mib

__all__ = ["current_rss_mib", "peak_rss_mib", "reset_peak_rss"]


def peak_rss_mib() -> float:
    """Peak RSS since the process started or since the last reset."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return _ru_maxrss_mib()
