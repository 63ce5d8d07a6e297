"""convhub.core.urls.check_callback_url: the URL rules behind role callbacks (DECISIONS §8)."""

from __future__ import annotations

import pytest

from convhub.core.errors import InvalidValue
from convhub.core.urls import check_callback_url

PUBLIC = [
    "https://example.support.com/messaging/callback/customer",
    "http://example.com",
    "HTTPS://EXAMPLE.COM:8443/x?y=1#z",
    "https://user:pw@example.com/x",
    "https://8.8.8.8/x",
    "https://[2001:4860:4860::8888]/x",
    "https://face.bad/x",
]
NOT_HTTP = [
    "",
    "example.com/x",
    "ftp://example.com/x",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "https://",
    "https:///x",
    "https://example.com:99999/x",
    "https://example.com:port/x",
    "https://exa mple.com/x",
    "https://example.com/\nx",
]
PRIVATE = [
    "http://localhost/x",
    "http://LOCALHOST./x",
    "http://api.localhost/x",
    "http://127.0.0.1/x",
    "http://127.1/x",
    "http://2130706433/x",
    "http://0x7f.0.0.1/x",
    "http://0.0.0.0/x",
    "http://10.0.0.1/x",
    "http://172.31.255.255/x",
    "http://192.168.1.1/x",
    "http://100.64.0.1/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://224.0.0.1/x",
    "http://240.0.0.1/x",
    "http://[::1]/x",
    "http://[::]/x",
    "http://[fe80::1]/x",
    "http://[fd12:3456::1]/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://[::ffff:169.254.169.254]/x",
]


class TestCheckCallbackUrl:
    @pytest.mark.parametrize("url", PUBLIC)
    def test_public_http_url_accepted(self, url: str) -> None:
        check_callback_url(url, attribute="roles[0].callback", allow_private=False)

    @pytest.mark.parametrize("url", NOT_HTTP)
    def test_not_an_http_url(self, url: str) -> None:
        with pytest.raises(InvalidValue) as caught:
            check_callback_url(url, attribute="roles[0].callback", allow_private=True)
        assert caught.value.code == "400-152"
        assert "roles[0].callback" in caught.value.developer_message

    @pytest.mark.parametrize("url", PRIVATE)
    def test_private_host_refused(self, url: str) -> None:
        with pytest.raises(InvalidValue) as caught:
            check_callback_url(url, attribute="oauth2.tokenRequestUrl", allow_private=False)
        assert "oauth2.tokenRequestUrl" in caught.value.developer_message
        assert caught.value.details[0][0] == "reason"

    @pytest.mark.parametrize("url", PRIVATE)
    def test_private_host_accepted_when_allowed(self, url: str) -> None:
        check_callback_url(url, attribute="roles[0].callback", allow_private=True)
