"""Helpers for the tracefs tests: a mount namespace of the test's own, mounts made and
undone in it, copies of tracefs event descriptions, and edits of format files.

Other tests (and other people) use tracefs on the same machine at the same time. A
test that mounts or unmounts tracefs or debugfs first calls enter_private_mounts():
from then on the test process and every command it starts see a copy of the mount
table that nothing else sees, with private propagation, so no mount made or removed
here reaches the machine, no mount made elsewhere disturbs the test, and the whole
copy goes away with the process.
"""

import ctypes
import os
import re
import shutil

import sptest
from sptest import check

TRACEFS = "/sys/kernel/tracing"
DEBUGFS = "/sys/kernel/debug"

_CLONE_NEWNS = 0x00020000
_MS_REC = 0x4000
_MS_PRIVATE = 1 << 18
_MNT_DETACH = 2
_libc = ctypes.CDLL(None, use_errno=True)


def _err():
    return os.strerror(ctypes.get_errno())


def enter_private_mounts():
    """Moves this process into a private mount namespace (see the module's doc); skips
    the test when the kernel or our privileges do not allow it."""
    if _libc.unshare(_CLONE_NEWNS) != 0:
        sptest.skip("unshare(CLONE_NEWNS): %s" % _err())
    if _libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        sptest.skip("making mounts private: %s" % _err())
    sptest.log("in a private mount namespace: mounts made here stay here")


def mounts(fstype=None, where=None):
    """[(type, mount point)] of our namespace, of @fstype and at @where if given."""
    out = []
    with open("/proc/self/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3:
                continue
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), parts[1])
            if (fstype is None or parts[2] == fstype) and (where is None or point == where):
                out.append((parts[2], point))
    return out


def mount(fstype, where):
    """Mounts @fstype at @where; True on success, else logs why."""
    if _libc.mount(b"nodev", where.encode(), fstype.encode(), 0, None) == 0:
        sptest.log("mounted %s at %s" % (fstype, where))
        return True
    sptest.log("cannot mount %s at %s: %s" % (fstype, where, _err()))
    return False


def umount(where):
    """Lazily unmounts the top mount at @where; True on success."""
    if _libc.umount2(where.encode(), _MNT_DETACH) == 0:
        sptest.log("unmounted %s" % where)
        return True
    return False


def unmount_all(fstype, where):
    """Unmounts every @fstype mount at @where (stacked ones too)."""
    for _ in range(16):
        if not mounts(fstype, where) or not umount(where):
            break


def ensure_tracefs():
    """tracefs mounted at /sys/kernel/tracing in our namespace; True if this mounted it."""
    if mounts("tracefs", TRACEFS):
        return False
    check(mount("tracefs", TRACEFS), "cannot mount tracefs at %s" % TRACEFS)
    return True


# ---------------------------------------------------------------- event descriptions

EVENT_PATH_RE = re.compile(r"^(?:/sys/kernel/tracing|/sys/kernel/debug/tracing)/events/"
                           r"(?P<sys>[^/]+)/(?P<name>[^/]+)")


def events_touched(paths):
    """{(sys, name)} of the tracefs event directories in @paths, stackprof's own uprobe
    groups (stackprof_<pid>) left out."""
    out = set()
    for p in paths:
        m = EVENT_PATH_RE.match(p)
        if m and not m.group("sys").startswith("stackprof_"):
            out.add((m.group("sys"), m.group("name")))
    return out


def copy_events(events, dest, root=TRACEFS):
    """Copies events/SYS/NAME/{format,id} of each existing event from @root into @dest;
    returns the events copied."""
    copied = set()
    for sys_name, name in sorted(events):
        src = os.path.join(root, "events", sys_name, name)
        if not os.path.isfile(os.path.join(src, "format")):
            continue  # an optional event this kernel lacks: absent from the copy too
        dst = os.path.join(dest, "events", sys_name, name)
        os.makedirs(dst, exist_ok=True)
        for f in ("format", "id"):
            with open(os.path.join(src, f)) as i, open(os.path.join(dst, f), "w") as o:
                o.write(i.read())
        copied.add((sys_name, name))
    return copied


def format_path(root, sys_name, name):
    return os.path.join(root, "events", sys_name, name, "format")


def read_format(root, sys_name, name):
    with open(format_path(root, sys_name, name)) as f:
        return f.read()


def write_format(root, sys_name, name, text):
    with open(format_path(root, sys_name, name), "w") as f:
        f.write(text)


FIELD_RE = re.compile(r"^\tfield:(?P<decl>[^;]*);\toffset:(?P<off>\d+);\tsize:(?P<size>\d+);"
                      r"\tsigned:(?P<signed>\d+);$")


class Field:
    def __init__(self, decl, off, size, signed):
        self.decl, self.off, self.size, self.signed = decl, int(off), int(size), int(signed)

    @property
    def name(self):
        return re.search(r"(\w+)\s*(\[[^\]]*\])?$", self.decl).group(1)

    def line(self):
        return "\tfield:%s;\toffset:%d;\tsize:%d;\tsigned:%d;" % (self.decl, self.off,
                                                                   self.size, self.signed)


def split_format(text):
    """(head lines, common fields, own fields, tail lines) of a format file."""
    lines = text.split("\n")
    idx = [i for i, line in enumerate(lines) if FIELD_RE.match(line)]
    check(idx, "no field lines in the format:\n" + text)
    fields = [Field(**FIELD_RE.match(lines[i]).groupdict()) for i in idx]
    common = [f for f in fields if f.name.startswith("common_")]
    own = [f for f in fields if not f.name.startswith("common_")]
    return lines[:idx[0]], common, own, lines[idx[-1] + 1:]


def equivalent_edit(text, narrow=()):
    """A format that describes the same bytes differently: each field in @narrow that is 8
    bytes wide becomes an `unsigned int` of 4 bytes at the same offset (little-endian: the
    low half, which holds the value when it fits in 32 bits), an unknown field fills every
    gap between fields, and the event's own fields are listed in reverse order.
    Returns (text, [what changed])."""
    head, common, own, tail = split_format(text)
    changes = []
    for f in own:
        if f.name in narrow and f.size == 8:
            f.decl, f.size, f.signed = "unsigned int %s" % f.name, 4, 0
            changes.append("%s: 8 -> 4 bytes, unsigned int" % f.name)
    spans = sorted(common + own, key=lambda f: f.off)
    pads = []
    for a, b in zip(spans, spans[1:]):
        end = a.off + a.size
        if b.off > end:
            pads.append(Field("char stackprof_pad%d[%d]" % (len(pads), b.off - end), end,
                              b.off - end, 0))
    own = list(reversed(own + pads))
    changes += ["unknown %s at %d" % (p.decl, p.off) for p in pads]
    changes.append("fields listed in reverse")
    body = "\n".join(head + [f.line() for f in common] + [""] + [f.line() for f in own])
    rest = "\n".join(tail).lstrip("\n")
    return body + "\n\n" + rest, changes


def move_field(text, name, onto):
    """The format with field @name declared at the offset of field @onto."""
    head, common, own, tail = split_format(text)
    by_name = {f.name: f for f in common + own}
    check(name in by_name and onto in by_name, "no field %s or %s in:\n%s" % (name, onto, text))
    by_name[name].off = by_name[onto].off
    body = "\n".join(head + [f.line() for f in common] + [""] + [f.line() for f in own])
    return body + "\n\n" + "\n".join(tail).lstrip("\n")


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)
