"""HDF5 metadata through h5py (imported lazily): root attributes, links and dataset layouts.

Only metadata is read. Links are listed, never followed (an external link names another file
the loader would open); dataset creation properties say whether the bytes live in other files
(external storage, virtual datasets); no dataset is ever read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pellucid.source import ViewFile

KERAS_ATTRIBUTES = ("model_config", "training_config", "keras_version", "backend")


@dataclass(slots=True)
class Hdf5Metadata:
    """What an HDF5 file says about itself and where its links and datasets point."""

    attributes: dict[str, str] = field(default_factory=dict)  # Keras root attributes, as text
    external_links: list[tuple[str, str, str]] = field(default_factory=list)  # name, file, path
    soft_links: list[tuple[str, str]] = field(default_factory=list)  # name, target path
    external_storage: list[tuple[str, str]] = field(default_factory=list)  # dataset, file
    virtual_sources: list[tuple[str, str, str]] = field(default_factory=list)  # ds, file, src
    userblock: int = 0
    objects: int = 0
    incomplete: list[str] = field(default_factory=list)


def read_metadata(target: Path | memoryview, *, max_objects: int, max_text: int) -> Hdf5Metadata:
    """Open ``target`` read-only and collect its metadata; raises ImportError without h5py and
    whatever h5py raises on files it cannot open (the scanner turns both into reasons)."""
    import h5py  # lazily: an optional reader

    source: Any = str(target) if isinstance(target, Path) else ViewFile(target)
    result = Hdf5Metadata()
    with h5py.File(source, "r", locking=False) as handle:
        result.userblock = int(handle.userblock_size)
        _attributes(handle, result, max_text)
        _walk(h5py, handle, result, max_objects)
    return result


def _attributes(handle: Any, result: Hdf5Metadata, max_text: int) -> None:
    for name in KERAS_ATTRIBUTES:
        try:
            if name not in handle.attrs:
                continue
            size = handle.attrs.get_id(name).get_storage_size()
            if size > max_text:
                result.incomplete.append(f"attribute {name} is {size} bytes (budget {max_text})")
                continue
            value = handle.attrs[name]
        except Exception as exc:  # hostile attribute encodings
            result.incomplete.append(f"cannot read attribute {name}: {type(exc).__name__}")
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        text = value if isinstance(value, str) else str(value)[:200]
        if len(text) > max_text:  # variable-length strings report a small storage size
            result.incomplete.append(f"attribute {name} is {len(text)} characters (budget)")
            continue
        result.attributes[name] = text


def _walk(h5py: Any, handle: Any, result: Hdf5Metadata, max_objects: int) -> None:
    def visit(name: str, link: Any) -> bool | None:
        result.objects += 1
        if result.objects > max_objects:
            result.incomplete.append(f"more than {max_objects} HDF5 links (budget)")
            return True  # stops the visit
        if isinstance(link, h5py.ExternalLink):
            result.external_links.append((name, str(link.filename), str(link.path)))
        elif isinstance(link, h5py.SoftLink):
            result.soft_links.append((name, str(link.path)))
        else:
            try:
                _dataset_layout(h5py, handle, name, result)
            except Exception as exc:  # one broken object must not hide the rest
                if len(result.incomplete) < 20:
                    result.incomplete.append(f"cannot inspect {name!r}: {type(exc).__name__}")
        return None

    handle.visititems_links(visit)


def _dataset_layout(h5py: Any, handle: Any, name: str, result: Hdf5Metadata) -> None:
    """External storage and virtual sources of one dataset, from its creation properties."""
    raw = name.encode("utf-8", "surrogateescape")
    if h5py.h5o.get_info(handle.id, raw).type != h5py.h5o.TYPE_DATASET:
        return
    access = h5py.h5p.create(h5py.h5p.DATASET_ACCESS)
    access.set_virtual_view(h5py.h5d.VDS_FIRST_MISSING)  # do not probe source files on open
    dataset = h5py.h5d.open(handle.id, raw, dapl=access)
    plist = dataset.get_create_plist()
    for index in range(plist.get_external_count()):
        file_name = plist.get_external(index)[0]
        result.external_storage.append((name, _text(file_name)))
    if plist.get_layout() == h5py.h5d.VIRTUAL:
        for index in range(plist.get_virtual_count()):
            file_name = _text(plist.get_virtual_filename(index))
            if file_name != ".":  # "." is the same file: no outside read
                source = _text(plist.get_virtual_dsetname(index))
                result.virtual_sources.append((name, file_name, source))


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
