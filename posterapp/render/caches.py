"""Every cache the renderer keeps in a process: what it is keyed by, what it may hold, clear().

A key is always content — a catalog version id (the hash of the catalog, its layouts,
themes and images: ``versions.build``), a layout id, sizes, colours, text or bytes — never
an object's identity. So loading the same catalog twice, or previewing unpublished YAML
whose content hash is that of the live version, finds what live posters left behind.

| cache | key | limit |
|---|---|---|
| ``bands`` | version id, layout, picks, rows, what is drawn in them | BUDGETS (deflated rows) |
| ``static_bands`` | version id, layout, picks, rows with nothing drawn | BUDGETS (deflated rows) |
| ``card_faces`` | version id, layout, choice | BUDGETS (kept deflated) |
| ``static_layers`` | version id, layout | BUDGETS (kept deflated) |
| ``static_rows`` | version id, layout, picks (the frame: blank cards drawn) | BUDGETS (deflated) |
| ``small_layers`` | version id, layout, picks, reduction | BUDGETS (kept deflated) |
| ``shape_masks`` | circle/rect, width, height, radius | BUDGETS (kept deflated) |
| ``blank_cards`` | width, height, fill, edge, radius | BUDGETS (kept deflated) |
| ``emoji_tiles`` | emoji, size | BUDGETS (kept deflated) |
| ``image_tiles`` / ``svg_tiles`` | the image's bytes, size | BUDGETS (bytes held as keys count) |
| ``keyvisuals`` | the SVG's bytes, width, height | BUDGETS (kept deflated) |
| text, QR and font look-ups | their arguments | COUNTS: small values, a byte budget means nothing |

Images are big, so their caches are bounded in bytes and keep them deflated (ISA-L, level 1:
posters are flat colour, so 10–100× smaller, and inflating one costs far less than drawing
it); text measurements are a few dozen bytes each, so those keep a plain
``functools.lru_cache`` bounded in entries. ``clear_all`` empties every one (tests, the
memory bench). ``inventory`` reports them all. ``trim`` and ``tune_malloc`` keep the heap
from holding on to freed images. How the budgets were chosen: docs/capacity.md ("Memory").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from isal import isal_zlib
from PIL import Image

if TYPE_CHECKING:
    from .banding import Fragment, StaticRows
    from .compose import Face

V = TypeVar("V")
R = TypeVar("R")

MB = 1024 * 1024
# Byte budgets: 32.5 MB at most together; bench/memory.py measures a worker's RSS with them.
BUDGETS = {
    # Deflated rows, ~25 KB per card band. A hit skips pasting and deflating (~1–2 ms), but
    # with 105 choices at up to 12 places per layout, new posters seldom find their cards'
    # bands: beyond 4 MB (the texts' bands and the popular cards) more bought no speed in
    # bench/render.py, and memory is better spent on the faces.
    "bands": 4 * MB,
    # The rows between a frame's parts, deflated hard (zlib level 9: ~5 ms each): 20–50 KB
    # per frame, 0.6 MB for both shipped themes.
    "static_bands": 1 * MB,
    # To draw a band that is new: a choice's face (icon and texts), 10–45 KB deflated; the
    # faces of every layout of both shipped themes take 15 MB.
    "card_faces": 16 * MB,
    # Deflated (see Packed and banding.StaticRows), ~95 KB each for the shipped layouts: every
    # layout of every theme, and the versions of staff previews, at once.
    "static_layers": 1 * MB,  # RGBA: to make static rows, and for render()
    # Unfiltered PNG rows of the frames (a layout and a pick count), in chunks: what new
    # bands start from. 12 per theme.
    "static_rows": 3 * MB,
    "small_layers": 1 * MB,  # frames reduced for light WebPs (÷2) and previews (÷4, ÷6)
    # Only to draw what the caches above keep; kept deflated too (BudgetedFunction).
    "shape_masks": 1 * MB,
    "blank_cards": 1 * MB,
    "emoji_tiles": 512 * 1024,  # in names, and to cut faces (which are kept themselves)
    "image_tiles": 1 * MB,
    "svg_tiles": 1 * MB,
    "keyvisuals": 1 * MB,  # only drawn into static layers, which are kept themselves
}
# Entry limits for caches of small values (and of the few fonts and files loaded once).
COUNTS = {
    "text.atoms": 8192,
    "text.width": 65536,
    "text.fit": 8192,
    "text.segmenter": 1,
    "qr.phone_plan": 256,
    "qr.legacy_version": 64,
    "qr.placeholder": 8,  # the previews' tile per size and colours: ~0.5 MB each at most
    "compose.opaque_under": 256,  # per card size and face
    "fonts.coverage": 1,
    "fonts.drawable": 1,
    # FreeType maps a face's file once per size (see fonts.face).
    "fonts.face": 10,  # the catalog cut: ~0.5 MB each
    "fonts.common_face": 3,  # the common cut: ~2 MB each
    "fonts.full_face": 1,  # for rare characters: ~4 MB each
    "fonts.emoji_face": 1,
}


class Info(NamedTuple):
    """The same fields as ``functools.lru_cache``'s ``cache_info()``."""

    hits: int
    misses: int
    maxsize: int | None  # None: unbounded, as lru_cache says
    currsize: int


class Budgeted(Generic[V]):
    """An LRU cache that drops the least recently used entries beyond a byte budget."""

    def __init__(self, name: str, size: Callable[[Hashable, V], int], budget: int):
        self.name = name
        self.budget = budget
        self.size = size  # bytes an entry holds, given its key and value
        self.used = 0
        self.hits = self.misses = 0
        self.entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """Return the value kept for ``key``, or None."""
        with self.lock:
            found = self.entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            self.entries.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: V) -> None:
        size = self.size(key, value)
        if size > self.budget:
            return  # it would push out everything else and then itself
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = (value, size)
            self.used += size
            while self.used > self.budget:
                _, (_, dropped) = self.entries.popitem(last=False)
                self.used -= dropped

    def get_or_make(self, key: Hashable | None, make: Callable[[], V]) -> V:
        """Return the value for ``key``, made and kept on a miss; ``key`` None: just make it."""
        if key is None:
            return make()
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found)
        return found

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.used = 0
            self.hits = self.misses = 0

    def info(self) -> Info:
        return Info(self.hits, self.misses, self.budget, len(self.entries))


class Counted:
    """A ``functools.lru_cache`` known by name, bounded in entries."""

    def __init__(self, name: str, function: functools._lru_cache_wrapper[Any]):
        self.name = name
        self.function = function

    @property
    def budget(self) -> int:
        return COUNTS[self.name]

    @property
    def used(self) -> None:
        return None  # not measured in bytes

    def clear(self) -> None:
        self.function.cache_clear()

    def info(self) -> Info:
        found = self.function.cache_info()
        return Info(found.hits, found.misses, found.maxsize, found.currsize)


REGISTRY: dict[str, Budgeted[Any] | Counted] = {}
C = TypeVar("C", Budgeted[Any], Counted)


def _register(cache: C) -> C:
    REGISTRY[cache.name] = cache
    return cache


class Packed(NamedTuple):
    """An image deflated to keep: ``pack`` makes one, ``unpack`` gives the image back."""

    mode: str
    size: tuple[int, int]
    data: bytes


def pack(image: Image.Image) -> Packed:
    """Deflate an image's pixels (ISA-L, fast): a card tile shrinks about twentyfold."""
    return Packed(image.mode, image.size, isal_zlib.compress(image.tobytes(), 1))


def unpack(packed: Packed) -> Image.Image:
    """Return the image ``pack`` kept, pixel for pixel."""
    return Image.frombytes(packed.mode, packed.size, unpacked_bytes(packed))


def unpacked_bytes(packed: Packed) -> bytes:
    """Return the pixels of the image ``pack`` kept, as ``tobytes()`` gave them."""
    return isal_zlib.decompress(packed.data)


def kept_image(
    cache: Budgeted[Packed], key: Hashable | None, make: Callable[[], Image.Image]
) -> Image.Image:
    """Return the image kept deflated for ``key``, or make it and keep it (``key`` None: just
    make it); either way an image of the caller's own, free to draw on."""
    if key is None:
        return make()
    found = cache.get(key)
    if found is not None:
        return unpack(found)
    image = make()
    cache.put(key, pack(image))
    return image


def image_bytes(image: Image.Image) -> int:
    """Return what a Pillow image holds in memory: width × height × bands."""
    return image.width * image.height * len(image.getbands())


def data_key_bytes(key: Hashable) -> int:
    """Return the bytes an argument tuple holds in ``bytes`` values (an icon's file)."""
    parts = key if isinstance(key, tuple) else ()
    return sum(len(part) for part in parts if isinstance(part, bytes))


def memo(name: str) -> Callable[[Callable[..., R]], functools._lru_cache_wrapper[R]]:
    """Decorate a function of small values with an LRU cache of ``COUNTS[name]`` entries."""

    def decorate(function: Callable[..., R]) -> functools._lru_cache_wrapper[R]:
        cached = functools.lru_cache(maxsize=COUNTS[name])(function)
        _register(Counted(name, cached))
        return cached

    return decorate


class BudgetedFunction:
    """A function of content whose images a Budgeted cache keeps deflated, keyed by its
    arguments: flat art (card shapes, masks, icons) shrinks ten- to a hundredfold, so even a
    hero card's 1.9 MB blank fits, and each call gets an image of its own.

    It has ``cache_clear()`` and ``cache_info()``, as ``functools.lru_cache`` has them.
    """

    def __init__(self, function: Callable[..., Image.Image], cache: Budgeted[Packed]):
        functools.update_wrapper(self, function)
        self.function = function
        self.cache = cache
        self.cache_clear = cache.clear
        self.cache_info = cache.info

    def __call__(self, *args: Hashable) -> Image.Image:
        return kept_image(self.cache, args, lambda: self.function(*args))


def _packed_and_key_bytes(key: Hashable, packed: Packed) -> int:
    return len(packed.data) + data_key_bytes(key)


def budgeted(name: str) -> Callable[[Callable[..., Image.Image]], BudgetedFunction]:
    """Decorate a function returning an image with a cache of ``BUDGETS[name]`` bytes.

    The key is the arguments themselves (content: text, sizes, bytes).
    """

    def decorate(function: Callable[..., Image.Image]) -> BudgetedFunction:
        cache = _register(Budgeted(name, _packed_and_key_bytes, BUDGETS[name]))
        return BudgetedFunction(function, cache)

    return decorate


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim, libc.mallopt  # noqa: B018 - glibc's, not another libc's
    except (OSError, AttributeError):  # not glibc: nothing to tune
        return None
    return libc


M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def tune_malloc() -> None:
    """Keep a worker's heap from growing with the images it draws and frees (glibc only).

    An image buffer of 1 MB or more (a poster's layer, a band's crop) gets pages of its own
    and gives them back when freed; by default glibc raises that threshold to the largest
    block freed so far, and 8 MB layers then land in the heap and stay. Fixing that threshold
    also fixes glibc's trim threshold at 128 KB: every poster's freed buffers would then be
    handed back and faulted in again (a poster took 11 ms instead of 7), so the heap keeps
    up to 16 MB free at its top, and ``trim`` hands it back at most once a second. Two arenas
    serve the few threads a worker has (gevent's pool), instead of up to 16.
    """
    libc = _glibc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, 1 << 20)
        libc.mallopt(M_TRIM_THRESHOLD, 16 << 20)
        libc.mallopt(M_ARENA_MAX, 2)


def trim() -> None:
    """Hand the heap's free pages back to the system (glibc's ``malloc_trim``).

    Drawing a poster allocates and frees ~10 MB of images; glibc keeps freed memory for
    reuse, and over hours a worker's RSS creeps up by what it holds (~15 MB). A worker calls
    this between requests, at most once a second (``web``); elsewhere it does nothing.
    """
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def clear_all() -> None:
    """Empty every cache (for tests and for measuring memory from a known start)."""
    for cache in REGISTRY.values():
        cache.clear()


def inventory() -> list[dict]:
    """Describe every cache: name, limit (bytes or entries), what it holds, hits and misses."""
    rows = []
    for name, cache in sorted(REGISTRY.items()):
        info = cache.info()
        kind = "bytes" if isinstance(cache, Budgeted) else "entries"
        rows.append(
            {"name": name, "limit": cache.budget, "unit": kind, "bytes": cache.used,
             "entries": info.currsize, "hits": info.hits, "misses": info.misses}
        )  # fmt: skip
    return rows


# Kept with explicit keys by the modules that fill them (see the table above).
BANDS: Budgeted[Fragment] = _register(
    Budgeted("bands", lambda key, fragment: fragment.size, BUDGETS["bands"])
)
STATIC_BANDS: Budgeted[Fragment] = _register(
    Budgeted("static_bands", lambda key, fragment: fragment.size, BUDGETS["static_bands"])
)
# A choice's face on its card, deflated, and where it goes (compose.card_face).
CARD_FACES: Budgeted[Face] = _register(
    Budgeted("card_faces", lambda key, face: len(face.image.data), BUDGETS["card_faces"])
)
# Layers are flat colours, gradients and a little art: deflated, ~90 KB instead of 8.3 MB.
STATIC_LAYERS: Budgeted[Packed] = _register(
    Budgeted("static_layers", lambda key, layer: len(layer.data), BUDGETS["static_layers"])
)
SMALL_LAYERS: Budgeted[Packed] = _register(
    Budgeted("small_layers", lambda key, layer: len(layer.data), BUDGETS["small_layers"])
)
STATIC_ROWS: Budgeted[StaticRows] = _register(
    Budgeted("static_rows", lambda key, rows: rows.size, BUDGETS["static_rows"])
)
