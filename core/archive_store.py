"""The archive bucket: a small S3 wrapper over boto3, built from settings (`AWS_S3_BUCKET`,
`AWS_REGION`, `AWS_ENDPOINT_URL` for S3-compatible stores and tests; credentials from the standard
AWS chain: environment, shared files, instance or task role).

An upload is confirmed by reading it back: `head_object` must report our size and the sha256 we
stored in the object's metadata, and the body fetched again must hash to that sha256. Anything
else raises `ArchiveNotConfirmed`, and the caller deletes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.errors import NotFound
from core.settings import Settings

SHA256_METADATA = "sha256"  # x-amz-meta-sha256: hex digest of the stored body


class ArchiveNotConfirmed(Exception):
    """The upload failed, or what the bucket holds is not what we sent."""


class ArchiveNotFound(NotFound):
    slug, title = "archive-not-found", "Archive not found"

    def __init__(self, key: str) -> None:
        super().__init__(f"No archive {key!r} in the bucket.")
        self.key = key


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class ArchiveStore:
    bucket: str
    client: Any  # a boto3 S3 client

    @classmethod
    def from_settings(cls, settings: Settings) -> ArchiveStore | None:
        """None when no bucket is configured (retention is off). Connects only when used."""
        if not settings.aws_s3_bucket:
            return None
        client = boto3.client(
            "s3",
            region_name=settings.aws_region,
            endpoint_url=settings.aws_endpoint_url or None,
            config=Config(
                connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}
            ),
        )
        return cls(settings.aws_s3_bucket, client)

    def put_verified(self, key: str, body: bytes, sha256: str) -> None:
        """Upload, then read back size and checksum; ArchiveNotConfirmed unless both match."""
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/x-ndjson",
                ContentEncoding="gzip",
                Metadata={SHA256_METADATA: sha256},
            )
            head = self.client.head_object(Bucket=self.bucket, Key=key)
            stored = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (BotoCoreError, ClientError) as error:
            raise ArchiveNotConfirmed(f"{key}: {error}") from error
        problems = []
        if int(head["ContentLength"]) != len(body):
            problems.append(f"size {head['ContentLength']} != {len(body)}")
        if head.get("Metadata", {}).get(SHA256_METADATA) != sha256:
            problems.append("stored checksum metadata differs")
        if hashlib.sha256(stored).hexdigest() != sha256:
            problems.append("body read back hashes differently")
        if problems:
            raise ArchiveNotConfirmed(f"{key}: " + "; ".join(problems))

    def list(self, prefix: str) -> list[StoredObject]:
        """Every object under `prefix`, in key order."""
        found: list[StoredObject] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                found.append(StoredObject(item["Key"], int(item["Size"]), item["LastModified"]))
        return sorted(found, key=lambda stored: stored.key)

    def get(self, key: str) -> bytes:
        try:
            return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise ArchiveNotFound(key) from error
            raise
