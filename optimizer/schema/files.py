"""A case file as read: its path, folder and text, and (siting cases) its validated config."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .case import CaseConfig


class CaseFile:
    """A case file as read: its path (the label in every message), its text (hashed for the
    manifest), and the folder its data paths are relative to. Siting and staffing cases both."""

    def __init__(self, path: Path | None, base_dir: Path, raw_text: str) -> None:
        self.path = path
        self.base_dir = base_dir
        self.raw_text = raw_text

    @property
    def label(self) -> str:
        return str(self.path) if self.path is not None else "<case>"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw_text.encode("utf-8")).hexdigest()

    def resolve(self, file: str) -> Path:
        p = Path(file).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)


class LoadedCase(CaseFile):
    """A validated siting case: the config, the case file path, and the folder paths are
    relative to."""

    def __init__(
        self, config: CaseConfig, path: Path | None, base_dir: Path, raw_text: str
    ) -> None:
        super().__init__(path, base_dir, raw_text)
        self.config = config
