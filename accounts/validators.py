import unicodedata

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError


class ChineseMinimumLengthValidator(MinimumLengthValidator):
    """Django's zh-hans catalogue lacks this plural message, so users would read it in English."""

    def validate(self, password, user=None):
        if len(password) < self.min_length:
            raise ValidationError(self.get_help_text(), code="password_too_short")

    def get_help_text(self):
        return f"密码太短，至少需要 {self.min_length} 个字符。"


USERNAME_CHARS = "半角字母、数字和 . _ - @"


def validate_new_username(username: str) -> None:
    """A new user name (self-registration, invitation, officer import) must read as what it is: only half-width ASCII
    letters, digits and . _ - @ (no full-width look-alikes, no invisible characters), and unlike every existing name
    once case is ignored — so that "ＺhangSan" or "zhang\u200bsan" cannot pass for "zhangsan"."""
    from .models import User

    if not 3 <= len(username) <= 150:
        raise ValidationError("用户名应为 3 至 150 个字符。", code="username_length")
    # As institutions.models.institution_name_key folds names: what the name reads as must be what it is.
    folded = unicodedata.normalize("NFKC", username).casefold()
    if folded != username.casefold() or not username.isascii() or not all(
        char.isalnum() or char in "._-@" for char in username
    ):
        raise ValidationError(f"用户名只能使用{USERNAME_CHARS}（不能有全角字符、空格或不可见字符）。",
                              code="username_chars")
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError("该用户名已被使用，请换一个。", code="username_taken")
