"""The platforms smclass reads; adding one is one module with NAME, LAYOUT, archive_members and read.

Each platform module says where its posts sit inside the download
(``archive_members``: the member paths holding posts, in reading order), how
to read one such file (``read``: a generator of Posts over a _Source), and a
short LAYOUT for messages. Folder, zip and tar handling is shared.
"""

from __future__ import annotations

from . import facebook, instagram, linkedin, mastodon, reddit, x

PLATFORMS = {m.NAME: m for m in (x, facebook, instagram, linkedin, mastodon, reddit)}
