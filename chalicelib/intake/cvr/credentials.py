"""Where the register's credentials come from: the environment, or on AWS a secret.

`MIKROKORT_CVR_SECRET` names an SSM parameter (a SecureString such as
`/mikrokort/prod/cvr-password`) or a Secrets Manager secret (`arn:aws:secretsmanager:...` or
`secretsmanager:NAME`); its value is the password, or a JSON object with `password` (and
optionally `user` and `url`). The password never sits in the Lambda's environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from chalicelib.intake.cvr.client import RegisterError

if TYPE_CHECKING:
    from chalicelib.config import Settings


class NotConfigured(RegisterError):
    """No register credentials: the refresh says so instead of failing obscurely."""

    status = 503
    code = "RegisterNotConfigured"


@dataclass(frozen=True)
class RegisterCredentials:
    url: str
    user: str
    password: str


def register_credentials(settings: Settings) -> RegisterCredentials:
    """The register's address and login: from the settings, the password possibly from a
    secret (SSM parameter or Secrets Manager, read when the job starts)."""
    user, password, url = settings.cvr_user, settings.cvr_password, settings.cvr_url
    secret = settings.cvr_secret
    if secret and not password:
        value = _read_secret(secret)
        try:
            doc = orjson.loads(value)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict):
            password = str(doc.get("password", ""))
            user = str(doc.get("user") or doc.get("username") or user)
            url = str(doc.get("url") or url)
        else:
            password = value
    if not (user and password):
        raise NotConfigured(
            "the CVR register is not configured: set MIKROKORT_CVR_USER and "
            "MIKROKORT_CVR_PASSWORD (or MIKROKORT_CVR_SECRET), or load a file with "
            "`mikrokort import FILE`"
        )
    return RegisterCredentials(url=url, user=user, password=password)


def _read_secret(name: str) -> str:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if name.startswith(("arn:aws:secretsmanager:", "secretsmanager:")):
            client = boto3.client("secretsmanager")
            resp = client.get_secret_value(SecretId=name.removeprefix("secretsmanager:"))
            return str(resp["SecretString"])
        resp = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)
        return str(resp["Parameter"]["Value"])
    except (BotoCoreError, ClientError) as exc:
        raise NotConfigured(f"cannot read the CVR secret {name}: {exc}") from None
