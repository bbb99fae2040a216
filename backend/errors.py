"""Domain errors: raised by services, turned into HTTP answers by the app and into messages by the
CLI. Messages are written for the person who will read them (Chinese for users of the system)."""

from __future__ import annotations


class DomainError(Exception):
    """A request that cannot be carried out; nothing was changed.

    Attributes:
        message: what went wrong and, where possible, how to fix it.
        status_code: the HTTP status the API answers with.
        details: optional machine-readable details (e.g. the fields or items concerned).
    """

    status_code = 400

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class Unauthorized(DomainError):
    status_code = 401


class TooManyRequests(DomainError):
    status_code = 429


class PayloadTooLarge(DomainError):
    status_code = 413


class UnsupportedMediaType(DomainError):
    status_code = 415


class ServiceUnavailable(DomainError):
    """A fault of the server's environment (database connection lost, file store read-only):
    nothing was changed and the same request may succeed later; answered with ``Retry-After``."""

    status_code = 503
    retry_after = 2


class InsufficientStorage(ServiceUnavailable):
    """The file store is full: nothing was stored; an administrator must free space."""

    status_code = 507
    retry_after = 60


DATABASE_UNAVAILABLE = "数据库连接中断，请稍后重试；已确认保存的记录不受影响"
STORAGE_FULL = "服务器存储空间已满，照片未保存，请稍后重试并联系管理员"
STORAGE_UNAVAILABLE = "服务器暂时无法保存照片（存储不可写），照片未保存，请稍后重试并联系管理员"
STORED_FILE_MISSING = "该文件记录在案，但存储中找不到文件（可能尚未从备份恢复），请联系管理员"
STORE_UNREADABLE = "服务器暂时无法读取存储中的文件，请稍后重试并联系管理员"


# Litestar's own refusals (routing, body decoding, limits) carry English details: the API answers
# in Chinese, by status, unless the detail is already written for the user.
STATUS_MESSAGES: dict[int, str] = {
    400: "请求数据格式不正确（不是完整有效的 JSON 或字段类型不对）",
    401: "未登录或登录已失效，请重新登录",
    403: "无权执行此操作",
    404: "请求的地址或记录不存在",
    405: "此地址不支持该请求方法",
    406: "无法提供所要求的内容格式",
    408: "请求超时，请重试",
    409: "数据已被修改，请刷新后重试",
    411: "请求缺少内容长度",
    413: "请求数据过大",
    414: "请求地址过长",
    415: "不支持的请求数据类型",
    422: "请求数据不符合要求",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误，请稍后重试；如果一再出现，请联系管理员",
    503: "服务暂时不可用，请稍后重试",
    507: "服务器存储空间已满，请联系管理员",
}


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def chinese_detail(status: int, detail: str | None) -> str:
    """``detail`` when it is already Chinese, else the Chinese message for ``status``."""
    if detail and _has_chinese(detail) and status < 500:
        return detail
    if status in STATUS_MESSAGES:
        return STATUS_MESSAGES[status]
    return STATUS_MESSAGES[500] if status >= 500 else STATUS_MESSAGES[400]
