"""Where the images of catalogs and layouts come from: files under assets/, or uploads.

Paths in catalogs and layouts are relative to assets/ (``icons/noodles.png``). Images that
staff upload in the console live in the database and are named ``uploads/<file>``, so every
app server sees them.

Icons are PNG, JPEG or WebP pictures, or SVG drawings. An SVG is a program of sorts, and staff
may upload one from anywhere, so ``check_icon`` reads it as XML first and refuses anything that
runs, fetches or depends on the machine: scripts, event attributes, embedded web content,
references outside the file, DTDs and entities, text (its fonts are not pinned), animation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from xml.parsers import expat

import resvg_py
from PIL import Image, ImageOps

UPLOADS = "uploads/"
RASTER_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
SVG_SUFFIX = ".svg"
IMAGE_SUFFIXES = RASTER_SUFFIXES | {SVG_SUFFIX}
ICON_MAX_BYTES = 512 * 1024
ICON_MAX_PIXELS = 1024 * 1024
SVG_MAX_ELEMENTS = 5000
SVG_NS = "http://www.w3.org/2000/svg"
XHTML_NS = "http://www.w3.org/1999/xhtml"
# Elements refused in an SVG icon, with the words staff read (after "含有 <x>").
SVG_REFUSED = {
    "script": "脚本",
    "foreignObject": "嵌入的网页内容",
    "iframe": "嵌入的网页",
    "embed": "嵌入的外部内容",
    "object": "嵌入的外部内容",
    "audio": "声音",
    "video": "视频",
    "canvas": "画布脚本",
    "text": "文字（服务器上的字体不固定，请在绘图软件里把文字转成路径）",
    "tspan": "文字（服务器上的字体不固定，请在绘图软件里把文字转成路径）",
    "textPath": "文字（服务器上的字体不固定，请在绘图软件里把文字转成路径）",
    "font": "字体",
    "font-face": "字体",
    "animate": "动画（海报是静态图片）",
    "animateMotion": "动画（海报是静态图片）",
    "animateTransform": "动画（海报是静态图片）",
    "animateColor": "动画（海报是静态图片）",
    "set": "动画（海报是静态图片）",
}
# The only things an SVG icon may point at: its own #ids, or a picture embedded in it.
INTERNAL_HREF = re.compile(r"#[^\s]*")
EMBEDDED_PICTURE = re.compile(r"data:image/(?:png|jpeg|jpg|webp);base64,", re.IGNORECASE)
CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
CSS_AT_RULE = re.compile(r"@(import|font-face)", re.IGNORECASE)


class AssetError(ValueError):
    """An image path or file that cannot be used; the message says why."""


class Assets:
    """Read images by their path relative to assets/ (or ``uploads/…``), safely."""

    def __init__(self, root: Path, uploads: Callable[[str], bytes | None] | None = None):
        self.root = Path(root)
        self.uploads = uploads

    @property
    def layouts_dir(self) -> Path:
        return self.root / "layouts"

    def shown(self, relative: str) -> str:
        """Name an image the way staff find it: ``assets/icons/x.png`` or ``uploads/x.png``."""
        return relative if relative.startswith(UPLOADS) else f"assets/{relative}"

    def read(self, relative: str, max_bytes: int = ICON_MAX_BYTES) -> bytes:
        """Return the bytes of an image, or raise AssetError saying what is wrong."""
        if relative.startswith(UPLOADS):
            data = self.uploads(relative) if self.uploads else None
            if data is None:
                raise AssetError(f"还没有上传「{relative}」这张图，请先在后台「图片库」里上传")
            return data
        if relative.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", relative):
            raise AssetError(f"「{relative}」要写成 assets/ 里面的路径，比如 icons/noodles.png")
        root = self.root.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            raise AssetError(f"「{relative}」指到了 assets/ 外面，请把文件放在 assets/ 里面")
        if not path.is_file():
            raise AssetError(f"找不到文件 assets/{relative}，请检查文件名和文件夹")
        size = path.stat().st_size
        if size > max_bytes:
            raise AssetError(
                f"assets/{relative} 有 {size // 1024} KB，太大了：图片最大 {max_bytes // 1024} KB"
            )
        return path.read_bytes()


def check_icon(name: str, data: bytes) -> None:
    """Check that ``data`` is a small picture or a self-contained SVG; raise AssetError if not."""
    suffix = Path(name).suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise AssetError(_not_a_picture(name))
    if len(data) > ICON_MAX_BYTES:
        raise AssetError(
            f"「{name}」有 {len(data) // 1024} KB，太大了：图标最大 {ICON_MAX_BYTES // 1024} KB"
        )
    if suffix == SVG_SUFFIX:
        check_svg(name, data)
    else:
        check_picture(name, data)


def check_picture(name: str, data: bytes) -> None:
    """Check that ``data`` is a PNG, JPEG or WebP picture of sensible size."""
    try:
        # Only the header is read before the pixel count is checked, so a small file that
        # claims to be enormous (a decompression bomb) is refused without being decoded.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise AssetError(_too_many_icon_pixels(name, "声称有极多像素")) from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure means the same to staff
        raise AssetError(_unreadable(name, exc)) from None
    try:
        with image:
            width, height = image.size
            if width * height > ICON_MAX_PIXELS:
                raise AssetError(_too_many_icon_pixels(name, f"是 {width}×{height} 像素"))
            if image.format not in {"PNG", "JPEG", "WEBP"}:
                raise AssetError(_wrong_format(name, image.format))
            image.load()
    except AssetError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure means the same to staff
        raise AssetError(_unreadable(name, exc)) from None


# What staff read when an image cannot be used: the same words from every check.


def _not_a_picture(name: str) -> str:
    return f"「{name}」不是图片：图标要用 PNG、JPEG、WebP 图片或 SVG 图"


def _unreadable(name: str, exc: Exception) -> str:
    return (
        f"「{name}」打不开，不是一张完整的图片（{exc.__class__.__name__}）；"
        "请重新导出为 PNG、JPEG 或 WebP 再上传"
    )


def _wrong_format(name: str, found: str | None) -> str:
    return f"「{name}」其实是 {found} 文件，请另存为 PNG、JPEG 或 WebP"


def _too_many_icon_pixels(name: str, claimed: str) -> str:
    return f"「{name}」{claimed}，太大了：图标最多 {ICON_MAX_PIXELS:,} 像素（1024×1024）"


def check_svg(name: str, data: bytes) -> None:
    """Check that ``data`` is an SVG drawing that refers to nothing outside itself and draws."""
    try:
        markup = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AssetError(f"{name} 不是 UTF-8 编码的 SVG；请在绘图软件里另存为 UTF-8") from None
    _SvgReader(name).read(data)
    try:
        # Drawn small once, so a drawing resvg cannot render is refused now, not on a poster.
        resvg_py.svg_to_bytes(svg_string=markup, width=64, skip_system_fonts=True)
    except ValueError as exc:
        raise AssetError(f"{name} 画不出来（{exc}）；请在绘图软件里重新导出为 SVG") from None


class _SvgReader:
    """Walk an SVG's XML once, refusing what an icon must not contain (messages in Chinese)."""

    def __init__(self, name: str):
        self.name = name
        self.elements = 0
        self.in_style = 0
        self.style: list[str] = []

    def read(self, data: bytes) -> None:
        parser = expat.ParserCreate(namespace_separator=" ")
        # A DTD can define entities that expand a few bytes into gigabytes or read local files.
        parser.StartDoctypeDeclHandler = self.doctype
        parser.EntityDeclHandler = self.doctype
        parser.ProcessingInstructionHandler = self.instruction
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.characters
        try:
            parser.Parse(data, True)
        except expat.ExpatError as exc:
            raise AssetError(
                f"{self.name} 不是完整的 SVG：第 {exc.lineno} 行的 XML 写法有误"
                f"（{expat.ErrorString(exc.code)}）"
            ) from None
        if self.elements == 0:
            raise AssetError(f"{self.name} 是空的，不是 SVG 图")

    def refuse(self, what: str) -> NoReturn:
        raise AssetError(f"{self.name} {what}；SVG 图标里不能有这些，请删掉后再上传")

    def doctype(self, *_args: object) -> None:
        self.refuse("含有 DOCTYPE 或实体声明（<!DOCTYPE>、<!ENTITY>）")

    def instruction(self, target: str, _data: str) -> None:
        if target.lower() == "xml-stylesheet":
            self.refuse("引用了外部样式表（<?xml-stylesheet?>）")

    def start(self, qualified: str, attributes: dict[str, str]) -> None:
        namespace, _, tag = qualified.rpartition(" ")
        self.elements += 1
        if self.elements == 1 and (tag != "svg" or namespace != SVG_NS):
            raise AssetError(
                f"{self.name} 的最外层是 <{tag}>，不是 <svg>；请确认这是 SVG 文件"
                '（需要 xmlns="http://www.w3.org/2000/svg"）'
            )
        if self.elements > SVG_MAX_ELEMENTS:
            raise AssetError(
                f"{self.name} 的元素超过 {SVG_MAX_ELEMENTS} 个；"
                "图标请画得简单些，或在绘图软件里简化路径"
            )
        if tag in SVG_REFUSED:
            self.refuse(f"含有 <{tag}>（{SVG_REFUSED[tag]}）")
        if namespace == XHTML_NS:
            self.refuse(f"含有网页元素 <{tag}>")
        for key, value in attributes.items():
            attribute = key.rpartition(" ")[2]
            if attribute.lower().startswith("on"):
                self.refuse(f"的 <{tag}> 带有事件属性 {attribute}（会运行脚本）")
            if attribute in {"href", "src"}:
                self.reference(tag, value)
            for match in CSS_URL.finditer(value):
                self.reference(tag, match.group(2))
        if tag == "style":
            self.in_style += 1

    def end(self, qualified: str) -> None:
        if qualified.rpartition(" ")[2] == "style" and self.in_style:
            self.in_style -= 1
            css = "".join(self.style)
            self.style.clear()
            if CSS_AT_RULE.search(css):
                self.refuse("的 <style> 引用了外部字体或样式（@import、@font-face）")
            for match in CSS_URL.finditer(css):
                self.reference("style", match.group(2))

    def characters(self, text: str) -> None:
        if self.in_style:
            self.style.append(text)

    def reference(self, tag: str, target: str) -> None:
        target = target.strip()
        if INTERNAL_HREF.fullmatch(target):
            return
        if EMBEDDED_PICTURE.match(target):
            try:
                picture = base64.b64decode(target.split(",", 1)[1], validate=False)
            except (binascii.Error, ValueError):
                self.refuse(f"的 <{tag}> 里内嵌的图片无法解码")
            check_picture(f"{self.name} 里内嵌的图片", picture)
            return
        shown = target if len(target) <= 60 else target[:57] + "…"
        self.refuse(
            f"的 <{tag}> 引用了外部资源 “{shown}”（图标必须自成一体，只能引用文件内的 #id "
            "或内嵌的 PNG/JPEG/WebP 图片）"
        )


# Console uploads ----------------------------------------------------------------------------
# Staff upload icons from their phones and laptops: any name (Chinese too), photos of several
# megabytes. An upload is stored under the hash of what is kept (so two different files never
# share a name and the same file is stored once), shown under its own name, and a large
# picture is made small enough to be an icon instead of being refused.

UPLOAD_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo; decoded only after downscaling
UPLOAD_NAME_MAX = 192  # characters of a shown name
ICON_SIDE = 1024
WEBP_QUALITY = 88
SUFFIX_OF_FORMAT = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


@dataclass(frozen=True)
class Upload:
    """An uploaded image made ready to store: its shown name, its bytes and its path."""

    name: str
    data: bytes
    path: str
    original_size: tuple[int, int] | None = None  # set when the picture was made smaller
    size: tuple[int, int] | None = None


def shown_name(filename: str) -> str:
    """Return the file's own name without any folders, as staff will recognise it."""
    name = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return name or "图片"


def upload_path(data: bytes, suffix: str) -> str:
    return f"{UPLOADS}{hashlib.sha256(data).hexdigest()[:16]}.{suffix}"


def prepare_upload(filename: str, data: bytes) -> Upload:
    """Check an uploaded image, shrinking a large picture to an icon; raise AssetError if bad."""
    name = shown_name(filename)
    suffix = Path(name).suffix.lower()
    if suffix and suffix not in IMAGE_SUFFIXES:
        raise AssetError(_not_a_picture(name))
    if len(data) > UPLOAD_MAX_BYTES:
        raise AssetError(too_large_message(len(data)))
    if suffix == SVG_SUFFIX:
        check_icon(name, data)
        return Upload(name, data, upload_path(data, "svg"))
    image = _open_upload(name, data)
    with image:
        width, height = image.size
        if image.format not in SUFFIX_OF_FORMAT:
            raise AssetError(_wrong_format(name, image.format))
        turned = _orientation(image) not in (None, 1)
        small = len(data) <= ICON_MAX_BYTES and width * height <= ICON_MAX_PIXELS
        if small and not turned:
            check_picture(name, data)
            return Upload(
                name, data, upload_path(data, SUFFIX_OF_FORMAT[image.format]), size=(width, height)
            )
        try:
            data, suffix, size = _shrink(image)
        except Exception as exc:  # noqa: BLE001 - any decoder failure means the same to staff
            raise AssetError(_unreadable(name, exc)) from None
    check_picture(name, data)
    return Upload(name, data, upload_path(data, suffix), (width, height), size)


def too_large_message(size: int) -> str:
    return (
        f"文件有 {size / 1024 / 1024:.1f} MB，太大了：上传的图片最大 "
        f"{UPLOAD_MAX_BYTES // 1024 // 1024} MB。请先用手机或电脑压缩一下再上传。"
    )


def _open_upload(name: str, data: bytes) -> Image.Image:
    """Open a picture reading only its header; refuse one that claims too many pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise AssetError(_too_many_pixels(name, None)) from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure means the same to staff
        raise AssetError(_unreadable(name, exc)) from None
    width, height = image.size
    if width * height > UPLOAD_MAX_PIXELS:
        image.close()
        raise AssetError(_too_many_pixels(name, (width, height)))
    return image


def _too_many_pixels(name: str, size: tuple[int, int] | None) -> str:
    claimed = f"有 {size[0]}×{size[1]} 像素" if size else "声称有极多像素"
    return (
        f"{name} {claimed}，太大了：上传的图片最多 {UPLOAD_MAX_PIXELS // 10_000:,} 万像素"
        "（手机拍的照片都没问题）。请先缩小再上传。"
    )


def _orientation(image: Image.Image) -> int | None:
    try:
        return image.getexif().get(0x0112)
    except Exception:  # noqa: BLE001 - a broken EXIF block only means no rotation
        return None


def _shrink(image: Image.Image) -> tuple[bytes, str, tuple[int, int]]:
    """Return the picture upright, at most ICON_SIDE pixels a side, as PNG or WebP."""
    if image.format == "JPEG":
        image.draft("RGB", (ICON_SIDE, ICON_SIDE))  # decode at a fraction of the size
    picture = ImageOps.exif_transpose(image)
    picture.thumbnail((ICON_SIDE, ICON_SIDE), Image.Resampling.LANCZOS)
    clear = picture.mode in {"RGBA", "LA", "PA"} or "transparency" in picture.info
    out = io.BytesIO()
    if clear:
        picture = picture.convert("RGBA")
        picture.save(out, format="PNG", optimize=True)
        if out.tell() <= ICON_MAX_BYTES:
            return out.getvalue(), "png", picture.size
        out = io.BytesIO()
    else:
        picture = picture.convert("RGB")
    picture.save(out, format="WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue(), "webp", picture.size
