"""The local S3: moto's server (S3, and STS for connections), in memory, on loopback. A thin
wrapper so the tests, `make run` and `manage.py s3_local` start and stop it the same way.

As STS (moto 5.2.5): AssumeRole succeeds for any role ARN, whether or not the role exists, and
hands out temporary keys that belong to the account in the role ARN; GetCallerIdentity answers
for a key moto issued (IAM CreateAccessKey or AssumeRole) with that key's account and user or
assumed-role ARN, and for any other key with account 123456789012 and `user/moto`. The account
of a request is, in order: the MOTO_ACCOUNT_ID environment variable (the whole process), an
`x-moto-account-id` header, the access key as above. Signatures are not checked."""

from __future__ import annotations

import json
import socket
import urllib.request
from typing import Self


class LocalS3:
    def __init__(self) -> None:
        self._server = None
        self._port = 0
        self._host = "127.0.0.1"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        from moto.server import ThreadedMotoServer

        if port == 0:
            with socket.socket() as sock:
                sock.bind((host, 0))
                port = sock.getsockname()[1]
        self._host, self._port = host, port
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._server.start()
        return self

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    def reset(self) -> None:
        """Forget every bucket and object (moto's own reset API)."""
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            f"{self.url}/moto-api/reset", data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            json.loads(response.read() or b"{}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Self:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
