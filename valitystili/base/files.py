"""Files the service writes for people: payment files, letters, exports.

Rules:

- A file appears under its real name complete or not at all. ``stage`` writes the data to a
  temporary file next to the target and fsyncs it (``stage_written``: a writer writes into the
  temporary file, for a file too large to hold in memory); the caller commits its database
  work and only then calls ``publish``, which renames the file into place and fsyncs the
  folder. On any error before that the caller calls ``discard`` (or uses the staged file as a
  context manager).
- An existing target is refused unless the user asked to replace it (``force``); a symlink at
  the target is always refused, and a target whose folder does not exist too. Errors name the
  file and its folder, never the temporary name (``cannot write maksut.xml: folder out does
  not exist``).
- The temporary file gets a random name and is created with ``O_CREAT | O_EXCL | O_NOFOLLOW``,
  so a file or symlink planted at any name is never opened, followed or overwritten.
- Everything is created 0600: payment files and letters hold names, IBANs and amounts.
- Many files written together (``stage_all``: every client's letter of a month) appear all or
  none: staging any of them refused removes those staged before it, and a publication that fails
  part way removes the files it had already published (new ones: a ``force``d replacement
  cannot be undone). Their folder is made when missing (0700; its parent must exist) and
  removed again when nothing was published into it; it is fsynced once, not once a file.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from valitystili.base.errors import ValidationError
from valitystili.base.i18n import N_, _

FILE_MODE = 0o600
TEMPORARY_ATTEMPTS = 3
#: The refusal of an existing target, said when staging and when publishing.
EXISTS = N_("{path} already exists (use --force to replace it)")
_FLAGS = (os.O_CREAT | os.O_EXCL | os.O_RDWR | getattr(os, "O_NOFOLLOW", 0)
          | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


class StagedFile:
    """Data written and fsynced under a temporary name next to ``path``, waiting to be published."""

    def __init__(self, path: Path, temporary: Path, *, force: bool):
        self.path = path
        self.temporary = temporary
        self._force = force
        self._done = False

    def publish(self, *, sync: bool = True) -> None:
        """Rename the staged file into place (call after the database commit); ``sync``: fsync
        its folder (a group of files syncs it once, at the end)."""
        if self._done:
            return
        if self.path.is_symlink():
            self.discard()
            raise ValidationError(_("{path} is a symbolic link: refusing to replace it")
                                  .format(path=self.path))
        if self._force:
            os.replace(self.temporary, self.path)
        else:
            self._link_without_replacing()
        self._done = True
        if sync:
            _fsync_folder(self.path.parent)

    def _link_without_replacing(self) -> None:
        # A hard link fails when the name was taken meanwhile, where a rename would replace it.
        try:
            os.link(self.temporary, self.path, follow_symlinks=False)
        except FileExistsError:
            self.discard()
            raise ValidationError(_(EXISTS).format(path=self.path)) from None
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            os.replace(self.temporary, self.path)  # a filesystem without hard links
            return
        self.temporary.unlink()

    def discard(self) -> None:
        """Remove the staged temporary file; harmless when already published or discarded."""
        if not self._done:
            self.temporary.unlink(missing_ok=True)
            self._done = True

    def __enter__(self) -> StagedFile:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()


def stage(out: Path, data: bytes, *, force: bool = False) -> StagedFile:
    """Write ``data`` to a fresh temporary file next to ``out``; refuse a target we must not touch."""
    return stage_written(out, lambda handle: handle.write(data), force=force)


def stage_written(out: Path, write: Callable[[BinaryIO], object], *,
                  force: bool = False) -> StagedFile:
    """``stage`` of the data ``write`` writes into the temporary file, a stream open for reading
    and writing (so a writer can check what it wrote), without the data ever being whole in
    memory. Whatever ``write`` raises leaves nothing behind."""
    out = Path(out)
    folder = out.parent
    if out.is_symlink():
        raise ValidationError(_("{path} is a symbolic link: refusing to write through it")
                              .format(path=out))
    if not folder.is_dir():
        problem = (N_("cannot write {name}: folder {folder} is not a folder") if folder.exists()
                   else N_("cannot write {name}: folder {folder} does not exist"))
        raise ValidationError(_(problem).format(name=out.name, folder=folder))
    if out.exists():
        if not out.is_file():
            raise ValidationError(_("{path} exists and is not a file").format(path=out))
        if not force:
            raise ValidationError(_(EXISTS).format(path=out))
    fd, temporary = _create_temporary(folder, out.name)
    try:
        with os.fdopen(fd, "w+b") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return StagedFile(out, temporary, force=force)


class StagedFiles:
    """Files staged together in one folder, published together (see the module rules)."""

    def __init__(self, folder: Path, staged: list[StagedFile], *, made_folder: bool,
                 force: bool):
        self.folder = folder
        self.staged = staged
        self._made_folder = made_folder
        self._force = force

    def publish(self) -> None:
        """Rename every staged file into place (call after the database commit)."""
        published: list[StagedFile] = []
        try:
            for one in self.staged:
                one.publish(sync=False)
                published.append(one)
        except BaseException:
            if not self._force:
                for one in published:
                    one.path.unlink(missing_ok=True)
            self.discard()
            raise
        finally:
            _fsync_folder(self.folder)

    def discard(self) -> None:
        """Remove every staged file not yet published, and the folder if it was made for them
        and holds nothing."""
        for one in self.staged:
            one.discard()
        if self._made_folder and not any(self.folder.iterdir()):
            self.folder.rmdir()
            self._made_folder = False

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()


def stage_all(folder: Path, files: Iterable[tuple[str, bytes]], *,
              force: bool = False) -> StagedFiles:
    """Stage each ``(name, data)`` in ``folder`` (made when missing); a refusal of any of them
    leaves nothing behind."""
    folder = Path(folder)
    made_folder = False
    if not folder.exists() and not folder.is_symlink() and folder.parent.is_dir():
        folder.mkdir(mode=0o700)
        made_folder = True
    group = StagedFiles(folder, [], made_folder=made_folder, force=force)
    try:
        for name, data in files:
            group.staged.append(stage(folder / name, data, force=force))
    except BaseException:
        group.discard()
        raise
    return group


def _create_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """A new file under a random name; a name already taken (even by a symlink) is never opened."""
    for _attempt in range(TEMPORARY_ATTEMPTS):
        temporary = folder / f".{name}.{secrets.token_hex(8)}.tmp"
        try:
            return os.open(temporary, _FLAGS, FILE_MODE), temporary
        except FileExistsError:
            continue
        except OSError as error:     # the folder's, not the temporary name's, to the user
            reason = (error.strerror or type(error).__name__).lower()
            raise ValidationError(_("cannot write {name}: folder {folder}: {reason}")
                                  .format(name=name, folder=folder, reason=reason)) from None
    raise ValidationError(_("could not create a temporary file in {folder}: every name tried "
                            "was taken").format(folder=folder))


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms whose folders cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on a folder
        pass
    finally:
        os.close(fd)
